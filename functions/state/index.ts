export { estimateItemSize } from './attributes';
export {
  ACC_ATTR_PREFIX,
  ATTR,
  DYNAMODB_MAX_ITEM_BYTES,
  FENCE_ATTR_PREFIX,
  ITEM_KIND,
  MAX_TRANSACTION_ITEMS,
  SEQUENCE_WIDTH,
  SESSION_FENCES_SORT_KEY,
  SESSION_SORT_KEY_PREFIX,
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
export { PackStore, type PackStoreOptions } from './PackStore';
export { decodePack, encodePack, type PackEntry } from './packs/packCodec';
export {
  accInRange,
  type PackPlan,
  planPacks,
  type SequenceRange,
  type SlicePack,
} from './packs/planPacks';
export {
  planSessionWrite,
  type SessionFenceImage,
  type SessionPut,
  type SessionWritePlan,
  type StoredSession,
} from './planSessionWrite';
export { SessionStore } from './SessionStore';
export { compareSequences, normalizeSequence, padSequence } from './sequence';
export type {
  AccSet,
  ApplyDeltasOptions,
  ApplyDeltasResult,
  ApplySessionsOptions,
  ApplySessionsResult,
  ClosedWindow,
  CloseOutcome,
  CloseSessionOutcome,
  DynamoDBSender,
  EmitOutcome,
  FindDueWindowsOptions,
  MergeAccSets,
  OpenShard,
  OpenShardLister,
  PipelineWatermark,
  ReadWatermarkOptions,
  RefusedSessionElements,
  RejectedDelta,
  RejectionCause,
  SessionContents,
  SessionDelta,
  SessionElement,
  SessionRef,
  SessionStoreOptions,
  ShardPosition,
  ShardProbePosition,
  ShardTailProbe,
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
export { WatermarkStore, type WatermarkStoreOptions } from './WatermarkStore';
export { WindowStore } from './WindowStore';
