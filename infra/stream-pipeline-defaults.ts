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

/** Function defaults for pipeline handlers and the sweeper. */
export const FUNCTION_DEFAULTS = {
  memorySize: 512,
  timeout: Duration.minutes(1),
  /** Kept a month: enough to investigate an incident, bounded for cost. */
  logRetentionDays: 30,
  /** Powertools log level. */
  logLevel: 'INFO',
} as const;

/** Stream defaults. */
export const STREAM_DEFAULTS = {
  shardCount: 2,
  /** Failure streams carry only invalid and LATE records: one shard (1 MB/s) is plenty. */
  failureShardCount: 1,
  retentionPeriod: Duration.hours(24),
} as const;

/** Defaults of the on-failure queue of each event source mapping. */
export const QUEUE_DEFAULTS = {
  /** SQS's maximum: the on-failure record points at data that is still in the stream for 24 h. */
  retentionPeriod: Duration.days(14),
} as const;

/** Defaults of the state table of windowed pipelines. */
export const TABLE_DEFAULTS = {
  /** Point-in-time recovery: window state can be restored to any second of the last 35 days. */
  pointInTimeRecovery: true,
} as const;

/** Defaults of the sweeper (timer-based trigger of windowed pipelines). */
export const SWEEPER_DEFAULTS = {
  /** EventBridge's finest rate; the sweeper closes windows of idle shards at this granularity. */
  interval: Duration.minutes(1),
  memorySize: 256,
  /** Equal to the interval: a slow sweep overlaps the next one at most once, and closes are conditional. */
  timeout: Duration.minutes(1),
  /** A failed sweep is not retried by EventBridge: the next one a minute later repeats all its work. */
  retryAttempts: 0,
} as const;

/** Alarm defaults; every threshold is a {@link StreamPipelineProps} override. */
export const ALARM_DEFAULTS = {
  /** Age of the oldest record the mapping read last: above a minute, windows close late. */
  iteratorAge: Duration.minutes(1),
  /** Minutes the iterator age must stay above the threshold before alarming. */
  iteratorAgeMinutes: 5,
  /** Function errors per 5 minutes (each one is a retried batch). */
  errors: 1,
  /** Function throttles per 5 minutes. */
  throttles: 1,
  /** Messages in the on-failure queue: each one is a batch shardflow gave up on. */
  failureQueueDepth: 1,
  /** PutRecords retries per minute, 3 minutes in a row: the output stream throttles or fails records. */
  putRecordsRetries: 1,
} as const;

/** Allowed ranges, checked in the constructors. */
export const LIMITS = {
  batchSize: { min: 1, max: 10_000 },
  retryAttempts: { min: -1, max: 10_000 },
  maxRecordAgeSeconds: { min: 60, max: 604_800 },
  shardCount: { min: 1, max: 500 },
  parallelizationFactor: { min: 1, max: 10 },
  maxBatchingWindowSeconds: { min: 0, max: 300 },
  timeoutSeconds: { min: 1, max: 900 },
  memorySize: { min: 128, max: 10_240 },
  /** Tumbling and hopping window size: below 1 s the (key, slice) writes dominate the cost. */
  windowSizeMs: { min: 1_000, max: 7 * 86_400_000 },
  /** Session gap. */
  sessionGapMs: { min: 1_000, max: 86_400_000 },
} as const;
