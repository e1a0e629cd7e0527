export * from './constants';
export { FailureCapture } from './FailureCapture';
export { type DeployedApp, type PipelineSource, pipelineSources } from './pipelineSources';
export { readFailures } from './readFailures';
export { type RecordAt, readRecordAt } from './readRecordAt';
export { type FailureSource, toFailureRecord } from './toFailureRecord';
export type * from './types';
