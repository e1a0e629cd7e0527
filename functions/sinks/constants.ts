/**
 * Most records one PutRecords request may carry (Kinesis quota).
 */
export const MAX_RECORDS_PER_REQUEST = 500;

/**
 * Most bytes one PutRecords request may carry, counting each record's data blob and partition key
 * (Kinesis quota: 5 MiB).
 */
export const MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024;

/**
 * Most bytes one record may carry, data blob plus partition key (the default Kinesis record size
 * quota: 1 MiB).
 */
export const MAX_BYTES_PER_RECORD = 1024 * 1024;

/**
 * Most Unicode characters a partition key may have (Kinesis quota; at least one is required).
 */
export const MAX_PARTITION_KEY_LENGTH = 256;

/**
 * Largest explicit hash key: hash keys are decimal 128-bit unsigned integers.
 */
export const MAX_EXPLICIT_HASH_KEY = (1n << 128n) - 1n;

/**
 * Defaults applied by {@link KinesisSink} when an option is left out.
 */
export const SINK_DEFAULTS = {
  /** Attempts per PutRecords chunk, the first one included. */
  maxAttempts: 5,
  /** Backoff ceiling of the first retry, in milliseconds. */
  baseDelayMs: 50,
  /** Largest backoff ceiling of any retry, in milliseconds. */
  maxDelayMs: 2000,
  /** Keep the order of the records of each partition key. */
  ordered: true,
} as const;

/**
 * Error codes of a PutRecords result entry that are worth retrying: throttling and transient
 * service failures. Any other entry error code (KMS key disabled, access denied, …) will not heal
 * by retrying, so the send fails at once.
 */
export const RETRYABLE_ENTRY_ERROR_CODES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'InternalFailure',
  'KMSThrottlingException',
]);

/**
 * Names of whole-call PutRecords errors that are worth retrying: throttling, transient service
 * failures and timeouts. Server-side faults (HTTP 5xx) and errors the SDK marks `$retryable` are
 * retried as well.
 */
export const RETRYABLE_CALL_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'InternalFailureException',
  'ThrottlingException',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Node.js network error codes of a whole-call failure that are worth retrying.
 */
export const RETRYABLE_NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);
