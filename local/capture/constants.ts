/** Version of the on-failure record format Lambda writes. */
export const FAILURE_RECORD_VERSION = '1.0';

/** The failure file under the project directory (`shardflow failures` reads it). */
export const DEFAULT_FAILURES_FILE = '.shardflow/failures.jsonl';

/** `responseContext.functionError` after a function error, as Lambda reports it. */
export const UNHANDLED_FUNCTION_ERROR = 'Unhandled';

/** How long a failure stream may stay silent before reading it is complete, in milliseconds. */
export const FAILURE_STREAM_IDLE_MS = 1500;

/** Delay between polls of a failure stream's shard that returned nothing, in milliseconds. */
export const FAILURE_STREAM_POLL_INTERVAL_MS = 100;
