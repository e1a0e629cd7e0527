/**
 * How far after its arrival in Kinesis (`approximateArrivalTimestamp`) a record's event time may
 * move its shard's event clock: 0 ms. A record dated later than its arrival is still aggregated in
 * the window of its own event time, but for the watermark it counts as if it had happened when
 * Kinesis received it, so no producer's clock can run the watermark ahead of what Kinesis has seen.
 */
export const ARRIVAL_TOLERANCE_MS = 0;

/** How the pipeline watermark was derived (see {@link pipelineWatermark}). */
export const WATERMARK_MODE = {
  /** Min over the active shards' event clocks. */
  EVENT_TIME: 'event-time',
  /** Every shard with an event clock is idle: their clocks run on at wall-clock speed. */
  PROCESSING_TIME: 'processing-time',
  /** Nothing moves it (no event clock, or a shard's first batch is still coming): the committed floor. */
  COMMITTED: 'committed',
  /** Nothing known. */
  NONE: 'none',
} as const;

/**
 * Granularity of the watermark a session pipeline's handler commits after each batch (1 minute):
 * the committed watermark follows the pipeline watermark rounded down to it, so a batch costs at
 * most one commit per minute of event time. Sliced windows commit at their slice boundaries.
 */
export const SESSION_COMMIT_GRANULARITY_MS = 60_000;

/**
 * How long window state is kept after its window ends (7 days): state items expire by TTL after
 * that, and records older than the committed watermark minus this are refused as EXPIRED.
 */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

/**
 * A silent shard whose first unread record arrived less than this long ago (5 s) keeps up: a
 * steady stream of records without event times (all filtered out) must not hold the watermark as
 * a backlog does.
 */
export const PROBE_FRESHNESS_MS = 5_000;
