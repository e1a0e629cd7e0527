/** How a windowed pipeline emits its results. */
export const EMIT_MODE = {
  /** One `final: true` result per (key, window) once the watermark passes the window end. */
  FINAL: 'final',
  /** Also a `final: false` result for every touched (key, window) after each batch. */
  UPDATE: 'update',
} as const;

/** The kinds of window assigner. */
export const WINDOW_KIND = {
  TUMBLING: 'tumbling',
  HOPPING: 'hopping',
  SESSION: 'session',
} as const;

/** The kinds of pipeline definition. */
export const PIPELINE_KIND = {
  /** Record in, records out: filter/map/flatMap only, no state. */
  STATELESS: 'stateless',
  /** keyBy + window + aggregate, state in DynamoDB. */
  WINDOWED: 'windowed',
} as const;

/** The kinds of mergeable aggregate. */
export const AGGREGATE_KIND = {
  COUNT: 'count',
  SUM: 'sum',
  MIN: 'min',
  MAX: 'max',
  AVG: 'avg',
  DISTINCT: 'distinct',
  TOP_K: 'topK',
  PERCENTILES: 'percentiles',
  SPAN: 'span',
} as const;

/** Why a record went to the failure sink instead of into the pipeline. */
export const FAILURE_REASON = {
  /** `data` is not valid UTF-8. */
  INVALID_UTF8: 'INVALID_UTF8',
  /** `data` is not JSON. */
  NOT_JSON: 'NOT_JSON',
  /** The JSON does not match the pipeline's zod schema. */
  SCHEMA: 'SCHEMA',
  /**
   * The JSON nests deeper than {@link MAX_JSON_DEPTH}, or too deeply to validate or serialize
   * (stack exhausted).
   */
  TOO_DEEP: 'TOO_DEEP',
  /** `data` is larger than {@link MAX_RECORD_DATA_BYTES} (refused before it is decoded). */
  TOO_LARGE: 'TOO_LARGE',
  /**
   * The event time is more than the pipeline's maximum future skew
   * ({@link DEFAULT_MAX_FUTURE_SKEW_MS}) after the record's arrival in Kinesis; accepting it would
   * push the shard's event clock, and so the watermark, ahead of every other record.
   */
  FUTURE_EVENT_TIME: 'FUTURE_EVENT_TIME',
  /** The event-time extractor returned neither an ISO-8601 string nor finite epoch ms. */
  BAD_EVENT_TIME: 'BAD_EVENT_TIME',
  /** `keyBy` returned no non-empty string (or one longer than {@link MAX_KEY_LENGTH}). */
  BAD_KEY: 'BAD_KEY',
  /** An aggregate's value extractor returned a value it cannot absorb (e.g. NaN). */
  BAD_VALUE: 'BAD_VALUE',
  /** A user function (filter, map, flatMap, keyBy, partitionKey, extractor) threw. */
  TRANSFORM_ERROR: 'TRANSFORM_ERROR',
  /** A stateless output value cannot be serialized to JSON (cycle, BigInt, …). */
  UNSERIALIZABLE: 'UNSERIALIZABLE',
  /**
   * Some of the record's elements (`elements` of the failure record) belong to windows that were
   * already closed: the committed watermark had passed the end of the first window holding them
   * (sessions: the session they would join), or a closer had sealed it.
   */
  LATE: 'LATE',
  /**
   * Some of the record's elements belong to windows that ended more than the state retention
   * (7 days) before the committed watermark: their state may be deleted, so they are refused
   * without reading it, and never re-open a window.
   */
  EXPIRED: 'EXPIRED',
  /**
   * Some of the record's elements would grow a window's state item beyond its size limit: the
   * item is full and refuses what it has not absorbed; its window is emitted without them.
   */
  STATE_TOO_LARGE: 'STATE_TOO_LARGE',
} as const;

/** How records are grouped into fencing lanes. */
export const LANE_MODE = {
  /** One lane per shard (ParallelizationFactor = 1). */
  SHARD: 'shard',
  /** One lane per (shard, partition key) (ParallelizationFactor > 1). */
  SHARD_AND_PARTITION_KEY: 'shard+partitionKey',
} as const;

/** Separator between shard id and partition key in a lane id (never occurs in a shard id). */
export const LANE_SEPARATOR = '|';

/** Separator between key and slice start in {@link BatchPlan} map keys. */
export const PARTIAL_KEY_SEPARATOR = '\u0000';

/** Allowed pipeline and stream names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Allowed aggregate names (they become DynamoDB attribute and output field names). */
export const AGGREGATE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Largest record `data` a pipeline accepts, in bytes (512 KiB). Kinesis accepts up to 1 MiB, but a
 * failure record carries the data base64-encoded (×4/3) inside a JSON envelope, and must itself fit
 * in 1 MiB: every record below this limit that fails for another reason keeps its data inline in
 * its failure record. Larger records are refused as TOO_LARGE; their failure record carries their
 * position (shard, sequence number) and size instead, and the data is read back from the source stream.
 */
export const MAX_RECORD_DATA_BYTES = 512 * 1024;

/**
 * Deepest JSON nesting (arrays and objects) a pipeline accepts. `JSON.parse` copes with any depth,
 * but validation, user functions and `JSON.stringify` recurse and exhaust the stack near 10,000.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * Default maximum future skew: how far after its arrival in Kinesis a record's event time may be
 * (15 minutes, as Amazon Timestream's memory store allows). Further is refused as FUTURE_EVENT_TIME.
 */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 15 * 60_000;

/** Longest accepted aggregation key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 1024;

/**
 * Latest event time a record may carry: 9999-12-31T23:59:59.999Z (the last ISO-8601 four-digit
 * year). Every window end derived from it stays a valid date; later is BAD_EVENT_TIME.
 */
export const MAX_EVENT_TIME_MS = 253_402_300_799_999;

/** Default time after which a silent shard stops holding the pipeline watermark back (60 s). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Default max out-of-orderness: the watermark is the slowest shard's event clock (0 ms). */
export const DEFAULT_MAX_OUT_OF_ORDERNESS_MS = 0;

/** `distinct()` keeps exact value hashes up to this many values, then switches to HyperLogLog. */
export const DEFAULT_DISTINCT_EXACT_THRESHOLD = 64;

/** Default HyperLogLog precision: 2^12 registers, standard error 1.04/√4096 ≈ 1.63 %. */
export const DEFAULT_HLL_PRECISION = 12;

/** Default relative accuracy of `percentiles()` (1 %). */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;

/** Default maximum span of buckets per sign in a percentile sketch before the lowest collapse. */
export const DEFAULT_MAX_SKETCH_BUCKETS = 2048;

/** Magnitudes below this go to the sketch's zero bucket. */
export const MIN_SKETCH_MAGNITUDE = 1e-9;

/** Kinds of side outputs of a windowed pipeline. */
export const SIDE_OUTPUT_KIND = {
  /** A record per final result matching a condition (`.alert()`). */
  ALERT: 'alert',
} as const;

/** Fields of a side-output record set by the runtime; `map` cannot override them. */
export const SIDE_OUTPUT_RESERVED_FIELDS = [
  'id',
  'pipeline',
  'output',
  'key',
  'window',
  'emittedAt',
] as const;

/** Length of a result `id` (hex characters of its sha256). */
export const RESULT_ID_LENGTH = 32;

/** Duration units and their length in ms. */
export const DURATION_UNITS_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const;
