import { Duration } from 'aws-cdk-lib';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';

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
  /**
   * Stack traces in the logs point at the TypeScript sources. Not free: Node reads and parses the
   * bundle's source map when it loads the bundle, so the map's size is init time (see
   * `sourcesContent` in {@link BUNDLING_DEFAULTS}).
   */
  nodeOptions: '--enable-source-maps',
} as const;

/**
 * The packages the SDK clients' default credential chain loads only on demand, left out of every
 * bundle (`external`) because Lambda never loads them.
 *
 * The chain (`@aws-sdk/credential-provider-node`) imports the environment provider statically and
 * each of these with a dynamic `import()`, reached only when every provider before it has failed.
 * Lambda sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for the execution role,
 * so the environment provider, first in the chain, always answers (it steps aside only when
 * AWS_PROFILE is set, which no shardflow function sets). Bundled, these and what only they import
 * (`@aws-sdk/nested-clients`, `@aws-sdk/token-providers`, `@aws-sdk/credential-provider-login`) would
 * add about 125 KB to each bundle for code that never runs. Should one ever be needed, Lambda
 * resolves it from the runtime's own SDK: /var/runtime/node_modules is on NODE_PATH, which Lambda
 * also searches for ES module imports since Node.js 18. The local runtime sets environment
 * credentials in every worker, so it never loads them either. Only the packages the chain imports
 * itself are listed: anything the bundle needs at init stays inside it.
 */
export const LAZY_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
] as const;

/**
 * How every shardflow function is bundled (NodejsFunction `bundling`). `bench/coldStart.ts` bundles
 * with these same options to measure bundle size and init time.
 */
export const BUNDLING_DEFAULTS = {
  minify: true,
  /** A linked source map (`index.js.map` next to `index.js`), used through `nodeOptions`. */
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  /**
   * Maps without the sources' text: stack traces need only the mappings, and Node parses the whole
   * map at load time (2.2 MB with the text, 0.7 MB without).
   */
  sourcesContent: false,
  /** The lowest Node.js shardflow supports: the same bundle runs on Lambda and on the local runtime. */
  target: 'node22',
  format: OutputFormat.CJS,
  /**
   * Prefer each package's ES module build, which esbuild can tree-shake: a client's CommonJS build
   * brings every command and whole SDK submodules (XML and CBOR protocols, a browser user-agent
   * parser), about 250 KB more.
   */
  mainFields: ['module', 'main'],
  /**
   * The SDK is bundled rather than taken from the runtime: loading the runtime's clients from
   * node_modules took about as long as the rest of the init. Only {@link LAZY_CREDENTIAL_PROVIDERS}
   * stay out.
   */
  externalModules: LAZY_CREDENTIAL_PROVIDERS,
} as const;

/** Stream defaults. */
export const STREAM_DEFAULTS = {
  shardCount: 2,
  /** Failure streams carry only invalid and LATE records: one shard (1 MB/s) is plenty. */
  failureShardCount: 1,
  retentionPeriod: Duration.hours(24),
  /**
   * 7 days for failure streams. Once the input stream's 24 h have passed, the failure stream holds the
   * only copy of what a pipeline refused (raw payloads, personal data included), so it must outlive a
   * weekend and the investigation after it: records refused on a Friday evening are still there to read
   * and redrive the next week. Cost: Kinesis bills any retention above 24 h up to 7 days as extended
   * retention, a flat ~$0.02 per shard-hour (us-east-1 list price as known to the author, not re-checked),
   * about $14.60 a month for a 1-shard failure stream whether it keeps 2 days or 7, so no shorter period
   * is cheaper. Not longer: beyond 7 days Kinesis adds per-GB long-term storage, and raw payloads would be
   * kept longer than any investigation needs. Not the on-failure queue's 14 days: its messages point into
   * the input stream, not into the failure stream.
   */
  failureRetentionPeriod: Duration.days(7),
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
  /** Kinesis data retention: 24 hours to 365 days. */
  streamRetentionHours: { min: 24, max: 8_760 },
  parallelizationFactor: { min: 1, max: 10 },
  maxBatchingWindowSeconds: { min: 0, max: 300 },
  timeoutSeconds: { min: 1, max: 900 },
  memorySize: { min: 128, max: 10_240 },
  /** Tumbling and hopping window size: below 1 s the (key, slice) writes dominate the cost. */
  windowSizeMs: { min: 1_000, max: 7 * 86_400_000 },
  /** Session gap. */
  sessionGapMs: { min: 1_000, max: 86_400_000 },
} as const;
