/**
 * Name of the pseudo-accumulator that carries a slice's count of late records (accepted within
 * allowed lateness after their shard's event time had passed the slice end). It is stored and
 * fenced with the aggregates (an additive counter), so a replay never counts a record twice.
 * Aggregate names cannot start with `_`, so it never collides with one.
 */
export const LATE_ACCUMULATOR = '_late';

export { METRIC, METRICS_NAMESPACE } from '#commons/metrics';

/** Defaults of the windowed and sweeper handlers. */
export const HANDLER_DEFAULTS = {
  /** Windows closed per findDueWindows page. */
  closeLimit: 100,
  /**
   * Pages of `closeLimit` windows a sweep repairs at most (1,000 windows): a backlog of closers
   * that crashed between close and emit is worked off within a few one-minute sweeps.
   */
  repairPages: 10,
  /** A window CLOSED longer than this ago without EMITTED is re-emitted by the sweeper (ms). */
  repairAfterMs: 60_000,
  /** Largest sequence number (used to mask other lanes when splitting a partial by lane). */
  maxSequence: '9'.repeat(128),
  /**
   * Attempts per DynamoDB request (the SDK's default is 3). A batch makes one request per touched
   * (key, slice): with 3 attempts, a table throttling 20 % of requests fails a third of 50-write
   * batches, and each failure redoes the whole batch. Retried in place with the SDK's backoff,
   * throttling costs time, not the batch.
   */
  dynamoDbMaxAttempts: 8,
} as const;
