export * from './constants';
export { type CodeCopy, copyCodeDirectory } from './copyCodeDirectory';
export * from './errors';
export { FunctionCodeStore, type StagedFunctionCode } from './FunctionCodeStore';
export { findSchedules, type ScheduledTarget } from './findSchedules';
export { parseSchedule, type Schedule } from './parseSchedule';
export { ScheduleRunner, type ScheduleRunnerOptions, type ScheduleStats } from './ScheduleRunner';
export { startLocalRuntime } from './startLocalRuntime';
export type * from './types';
