export { estimateItemSize } from './attributes';
export {
  ACC_ATTR_PREFIX,
  ATTR,
  DYNAMODB_MAX_ITEM_BYTES,
  FENCE_ATTR_PREFIX,
  ITEM_KIND,
  SEQUENCE_WIDTH,
  TABLE_KEYS,
  TIME_WIDTH,
  WINDOW_STATUS,
  WINDOW_STORE_DEFAULTS,
} from './constants';
export { createTableInput, timeToLiveInput } from './createTableInput';
export {
  InvalidSequenceNumberError,
  InvalidWindowStoreInputError,
  ItemTooLargeError,
  WindowNotClosedError,
  WindowStateConflictError,
  WindowStoreError,
  type WindowStoreErrorDetails,
} from './errors';
export { compareSequences, normalizeSequence, padSequence } from './sequence';
export type {
  AccSet,
  ApplyDeltasResult,
  ClosedWindow,
  CloseOutcome,
  DynamoDBSender,
  EmitOutcome,
  FindDueWindowsOptions,
  MergeAccSets,
  PipelineWatermark,
  ReadWatermarkOptions,
  RejectedDelta,
  ShardWatermark,
  SliceDelta,
  WatermarkUpdate,
  WindowBounds,
  WindowContents,
  WindowRef,
  WindowStatus,
  WindowStoreOptions,
  WindowStoreStats,
  WindowsOfSlice,
} from './types';
export { WindowStore } from './WindowStore';
