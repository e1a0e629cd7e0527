/** Lambda's default BatchSize for Kinesis. */
export const DEFAULT_BATCH_SIZE = 100;

/** Largest BatchSize Lambda accepts for Kinesis. */
export const MAX_BATCH_SIZE = 10_000;

/** Largest MaximumBatchingWindowInSeconds Lambda accepts. */
export const MAX_BATCHING_WINDOW_SECONDS = 300;

/** Most records one GetRecords call returns. */
export const MAX_GET_RECORDS_LIMIT = 10_000;

/** How often an idle shard is polled (Lambda polls each shard about once per second), in milliseconds. */
export const POLL_INTERVAL_MS = 1_000;

/** How often the stream's shards are listed again to find new ones, in milliseconds. */
export const SHARD_DISCOVERY_INTERVAL_MS = 5_000;

/** Back-off before a failed batch is retried, in milliseconds. */
export const RETRY_DELAY_MS = 1_000;

/** Back-off after a failed Kinesis read (throttling, engine hiccup), in milliseconds. */
export const READ_ERROR_DELAY_MS = 1_000;

/** Fixed values of every Kinesis event record Lambda builds. */
export const KINESIS_EVENT = {
  EVENT_SOURCE: 'aws:kinesis',
  EVENT_VERSION: '1.0',
  EVENT_NAME: 'aws:kinesis:record',
  SCHEMA_VERSION: '1.0',
} as const;

/** Starting positions of a Kinesis event source mapping. */
export const STARTING_POSITIONS = {
  TRIM_HORIZON: 'TRIM_HORIZON',
  LATEST: 'LATEST',
  AT_TIMESTAMP: 'AT_TIMESTAMP',
} as const;

/** Largest MaximumRetryAttempts Lambda accepts (-1: until the record expires). */
export const MAX_RETRY_ATTEMPTS = 10_000;

/** Smallest and largest MaximumRecordAgeInSeconds Lambda accepts besides -1 (no limit). */
export const MIN_RECORD_AGE_SECONDS = 60;
export const MAX_RECORD_AGE_SECONDS = 604_800;

/** Largest ParallelizationFactor Lambda accepts. */
export const MAX_PARALLELIZATION_FACTOR = 10;

/** Largest TumblingWindowInSeconds Lambda accepts. */
export const MAX_TUMBLING_WINDOW_SECONDS = 900;

/** Most filters one FilterCriteria may hold. */
export const MAX_FILTERS = 5;

/** Largest synchronous invocation payload Lambda accepts, in bytes (6 MB). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Largest tumbling-window state Lambda keeps, in bytes; a larger state ends the window early. */
export const MAX_WINDOW_STATE_BYTES = 1024 * 1024;

/** The FunctionResponseTypes value enabling partial batch responses. */
export const REPORT_BATCH_ITEM_FAILURES = 'ReportBatchItemFailures';

/** Conditions of an on-failure record, as Lambda names them. */
export const FAILURE_CONDITIONS = {
  RETRY_ATTEMPTS_EXHAUSTED: 'RetryAttemptsExhausted',
  RECORD_AGE_EXCEEDED: 'RecordAgeExceeded',
} as const;

/** Name of the checkpoint file a `FileCheckpointStore` keeps in its state directory. */
export const CHECKPOINT_FILE = 'checkpoints.json';
