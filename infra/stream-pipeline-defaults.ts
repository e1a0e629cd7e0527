import { Duration } from 'aws-cdk-lib';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';

/**
 * Event source mapping defaults for every shardflow pipeline, kept in one place as aws-solutions-constructs
 * does. Each one can be overridden through {@link StreamPipelineProps}.
 */
export const EVENT_SOURCE_DEFAULTS = {
  /** Read from the oldest record so nothing sent before the first deployment is missed. */
  startingPosition: StartingPosition.TRIM_HORIZON,
  /** Records per invocation: large enough to amortise state writes, small enough for a 1-minute timeout. */
  batchSize: 500,
  /** Invoke as soon as records are there; shardflow pre-aggregates whatever a batch holds. */
  maxBatchingWindow: Duration.seconds(0),
  /** Split a failing batch to isolate a poison record instead of blocking the shard. */
  bisectBatchOnError: true,
  /** Bounded retries: a record that keeps failing goes to the on-failure destination. */
  retryAttempts: 10,
  /** Bounded record age (1 day): a stuck shard never silently ages out of the stream's retention. */
  maxRecordAge: Duration.days(1),
  /** Handlers report the lowest failed sequence number, so a retry replays only what is needed. */
  reportBatchItemFailures: true,
  /** One concurrent batch per shard keeps per-shard order and the state fences small. */
  parallelizationFactor: 1,
} as const;

/** Function defaults for pipeline handlers. */
export const FUNCTION_DEFAULTS = {
  memorySize: 512,
  timeout: Duration.minutes(1),
} as const;

/** Stream defaults. */
export const STREAM_DEFAULTS = {
  shardCount: 2,
  retentionPeriod: Duration.hours(24),
} as const;

/** Allowed ranges, checked in the construct's constructor. */
export const LIMITS = {
  batchSize: { min: 1, max: 10_000 },
  retryAttempts: { min: -1, max: 10_000 },
  maxRecordAgeSeconds: { min: 60, max: 604_800 },
  shardCount: { min: 1, max: 500 },
  parallelizationFactor: { min: 1, max: 10 },
  maxBatchingWindowSeconds: { min: 0, max: 300 },
} as const;
