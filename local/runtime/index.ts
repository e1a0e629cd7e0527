export * from './constants';
export * from './errors';
export { findSchedules, type ScheduledTarget } from './findSchedules';
export { parseSchedule, type Schedule } from './parseSchedule';
export { ScheduleRunner, type ScheduleRunnerOptions, type ScheduleStats } from './ScheduleRunner';
export { startLocalRuntime } from './startLocalRuntime';
export type * from './types';
