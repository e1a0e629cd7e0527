export * from './constants';
export { FailureCapture } from './FailureCapture';
export { type PipelineFailureStream, pipelineFailureStreams } from './pipelineFailureStreams';
export { type DeployedApp, type PipelineSource, pipelineSources } from './pipelineSources';
export {
  type FailureStreamRecord,
  type ReadFailureStreamsOptions,
  readFailureStreams,
} from './readFailureStreams';
export { readFailures } from './readFailures';
export { type RecordAt, readRecordAt } from './readRecordAt';
export { type FailureSource, toDiscardedBatchRecord } from './toDiscardedBatchRecord';
export type * from './types';
