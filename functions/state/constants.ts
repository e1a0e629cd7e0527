/**
 * Key schema of the single state table. The CDK construct and the local/test table creation
 * both read this object, so the deployed table and the one tests run against are the same.
 *
 * Item families (all share `pk`/`sk` strings, all carry the TTL attribute `expiresAt`):
 *
 * | item            | pk                      | sk                               | gsi1pk                        | gsi1sk              |
 * |-----------------|-------------------------|----------------------------------|-------------------------------|---------------------|
 * | slice (pane)    | `<pipeline>#K#<key>`    | `S#<sliceStart, 16 digits>`      | `<pipeline>#due#<bucket>`     | `<sliceEnd, 16>`    |
 * | window status   | `<pipeline>#K#<key>`    | `W#<start, 16>#<end, 16>`        | `<pipeline>#closed#<bucket>` while CLOSED | `<closedAt, 16>` |
 * | shard watermark | `<pipeline>#WM`         | `S#<shardId>`                    | -                             | -                   |
 * | pipeline floor  | `<pipeline>#WM`         | `P#watermark`                    | -                             | -                   |
 * | session         | `<pipeline>#K#<key>`    | `X#<start, 16 digits>`           | `<pipeline>#due#<bucket>` while open, `…#closed#…` while CLOSED | `<end, 16>` / `<closedAt, 16>` |
 * | session fences  | `<pipeline>#K#<key>`    | `X#~fences`                      | -                             | -                   |
 *
 * `bucket` is a stable hash of the key modulo `dueBuckets` (write sharding of the index).
 */
export const TABLE_KEYS = {
  /** Partition key attribute (string). */
  partitionKey: 'pk',
  /** Sort key attribute (string). */
  sortKey: 'sk',
  /** TTL attribute (epoch seconds), present on every item. */
  timeToLiveAttribute: 'expiresAt',
  /** The sweeper's index: due slices and closed-but-not-emitted windows, sparse. */
  dueIndex: {
    indexName: 'gsi1',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk',
    projectionType: 'INCLUDE',
    nonKeyAttributes: ['key', 'sliceStart', 'sliceEnd', 'windowStart', 'windowEnd'],
  },
} as const;

/** Attribute names used on state items (besides the keys in {@link TABLE_KEYS}). */
export const ATTR = {
  kind: 'kind',
  key: 'key',
  sliceStart: 'sliceStart',
  sliceEnd: 'sliceEnd',
  windowStart: 'windowStart',
  windowEnd: 'windowEnd',
  version: 'version',
  status: 'status',
  closedAt: 'closedAt',
  emittedAt: 'emittedAt',
  shardId: 'shardId',
  maxEventTime: 'maxEventTime',
  processedAt: 'processedAt',
  streamArn: 'streamArn',
  lastSequenceNumber: 'lastSequenceNumber',
  retired: 'retired',
  retiredAt: 'retiredAt',
  watermark: 'watermark',
  sealed: 'sealed',
  sealedAt: 'sealedAt',
  full: 'full',
} as const;

/** Sort key prefix of session items (`X#<start>`); the key's fence item sorts after all of them. */
export const SESSION_SORT_KEY_PREFIX = 'X#';

/** Sort key of a key's session fence item: after every `X#<digits>`, so one Query reads both. */
export const SESSION_FENCES_SORT_KEY = 'X#~fences';

/** Most items one TransactWriteItems may hold (DynamoDB's limit). */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * Request bytes one grouped TransactWriteItems is filled to, below DynamoDB's 4 MB per transaction
 * (a group that still exceeds it is refused whole and its updates take their one-item path).
 */
export const MAX_TRANSACTION_BYTES = 3 * 1024 * 1024;

/** Prefix of the attribute that holds one aggregate's accumulator on a slice item (`a_views`). */
export const ACC_ATTR_PREFIX = 'a_';

/** Prefix of the attribute that holds one lane's fence on a slice item (`f_shardId-000000000001`). */
export const FENCE_ATTR_PREFIX = 'f_';

/**
 * Prefix of the attribute of a session key's fence item that remembers, per lane, the elements
 * the key's last transactions refused (`r_<lane>`), so a retry after a crash between the commit
 * and the failure report reports them again.
 */
export const REFUSED_ATTR_PREFIX = 'r_';

/** What an item is; stored as `kind` for humans reading the table. */
export const ITEM_KIND = {
  SLICE: 'slice',
  WINDOW: 'window',
  SHARD: 'shard',
  PIPELINE: 'pipeline',
  SESSION: 'session',
  SESSION_FENCES: 'session-fences',
} as const;

/** States of a window status item. An absent status item means OPEN. */
export const WINDOW_STATUS = {
  OPEN: 'OPEN',
  CLOSED: 'CLOSED',
  EMITTED: 'EMITTED',
} as const;

/** Width fences are zero-padded to, so DynamoDB's string comparison is numeric comparison. */
export const SEQUENCE_WIDTH = 128;

/** Width epoch-millisecond times are zero-padded to in sort keys (covers every date up to year 318857). */
export const TIME_WIDTH = 16;

/** DynamoDB's hard item size limit in bytes. */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

/** Defaults of {@link WindowStoreOptions}. */
export const WINDOW_STORE_DEFAULTS = {
  /** Estimated item size above which a write is refused with `ItemTooLargeError`. */
  maxItemBytes: 350 * 1024,
  /** Item writes in flight at once during `applyDeltas`. */
  concurrency: 16,
  /** Attempts of one item's read-merge-write cycle before `WindowStateConflictError`. */
  maxAttempts: 8,
  /** How long items are kept after they stop mattering (window end + allowed lateness). */
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  /** Write shards of the due index. Only ever increase it on a live table. */
  dueBuckets: 8,
  /** Slice images remembered between batches for the non-additive fast path. */
  cacheSize: 10_000,
  /** Independent writes of one call are grouped into TransactWriteItems requests. */
  groupWrites: true,
} as const;
