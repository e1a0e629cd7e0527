/** Type of the source resource a locally run event source mapping must read. */
export const SUPPORTED_EVENT_SOURCE_TYPE = 'AWS::Kinesis::Stream';

/** Resource types whose schedules the local runtime runs. */
export const SCHEDULE_RESOURCE_TYPES = {
  EVENTS_RULE: 'AWS::Events::Rule',
  SCHEDULER_SCHEDULE: 'AWS::Scheduler::Schedule',
} as const;
