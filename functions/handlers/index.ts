export * from './constants';
export { createPipelineStore } from './factories/createPipelineStore';
export { createSessionStore } from './factories/createSessionStore';
export { createSweeperHandler } from './factories/createSweeperHandler';
export { createWindowedHandler } from './factories/createWindowedHandler';
export {
  closeDueWindows,
  isSessionPipeline,
  repairClosedWindows,
  windowKindOf,
} from './factories/emitWindows';
export {
  type InjectedRuntime,
  type PipelineRuntime,
  resolvePipelineRuntime,
} from './factories/pipelineRuntime';
export { toFailureRecord } from './factories/toFailureRecord';
export { toSessionDeltas } from './factories/toSessionDeltas';
export { toSliceDeltas } from './factories/toSliceDeltas';
export type { AppliedBatch, BatchState, WindowKind } from './factories/windowKind';
export type * from './types';
