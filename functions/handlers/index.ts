export * from './constants';
export { createPipelineStore } from './factories/createPipelineStore';
export { createSessionStore } from './factories/createSessionStore';
export { createSweeperHandler } from './factories/createSweeperHandler';
export { createWindowedHandler } from './factories/createWindowedHandler';
export {
  closeDueSessions,
  closeDueWindows,
  emitFinalResults,
  emitFinalSessions,
  isSessionPipeline,
  repairClosedWindows,
  sideOutputSinksOf,
} from './factories/emitWindows';
export { toFailureRecord } from './factories/toFailureRecord';
export { toSessionDeltas } from './factories/toSessionDeltas';
export { toSliceDeltas } from './factories/toSliceDeltas';
export type * from './types';
