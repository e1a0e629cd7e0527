export * from './constants';
export { createPipelineStore } from './factories/createPipelineStore';
export { createSweeperHandler } from './factories/createSweeperHandler';
export { createWindowedHandler } from './factories/createWindowedHandler';
export { closeDueWindows, emitFinalResults, repairClosedWindows } from './factories/emitWindows';
export { toFailureRecord } from './factories/toFailureRecord';
export { toSliceDeltas } from './factories/toSliceDeltas';
export type * from './types';
