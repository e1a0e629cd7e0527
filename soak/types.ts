import type { JUDGEMENT_DEFAULTS } from './constants';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /**
   * How long the pipelines are driven, in milliseconds (engine start and teardown come on top).
   * @default 300000
   */
  readonly durationMs?: number;
  /** @default 5000 */
  readonly sampleIntervalMs?: number;
  /**
   * Records per second per input stream (open loop). Without it, every input stream is fed at
   * full rate: 500-record PutRecords back to back while its slowest mapping is fewer than
   * `maxBacklog` records behind.
   * @default - full rate
   */
  readonly rate?: number;
  /** @default 1000 */
  readonly maxBacklog?: number;
  /** @default 0.005 */
  readonly invalidFraction?: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * Prelude events per second of event time per generated stream (0: no prelude).
   * @default 1
   */
  readonly preludeRate?: number;
  /**
   * The CDK app directory.
   * @default - the shardflow project
   */
  readonly app?: string;
  /** Receives progress lines. @default - discarded */
  readonly log?: (line: string) => void;
  /** Stops driving early (the report covers what was driven). */
  readonly signal?: AbortSignal;
  /** Overrides of the judgement thresholds. @default JUDGEMENT_DEFAULTS */
  readonly thresholds?: Partial<JudgementThresholds>;
}

/** Thresholds of {@link judgeSoak}. */
export type JudgementThresholds = { -readonly [K in keyof typeof JUDGEMENT_DEFAULTS]: number };

/** One pipeline (its event source mapping) at one sample. */
export interface PipelineSample {
  readonly pipeline: string;
  /** Records its mapping has finished with (delivered, filtered or given up), cumulative. */
  readonly processed: number;
  /** Records on its output stream, cumulative. */
  readonly out: number;
  /** Records on its failure stream, cumulative. */
  readonly failures: number;
  /** Failed invocations, cumulative. */
  readonly errors: number;
  /** Age of the oldest record not yet checkpointed, max over shards (ms); undefined if unknown. */
  readonly lagMs?: number;
  /** Lambda's IteratorAge as the reader last saw it, max over shards (ms). */
  readonly iteratorAgeMs: number;
  readonly millisBehindLatest: number;
  /** The latest function error of a shard whose last invocation failed (`Sandbox.Timedout…`). */
  readonly lastError?: string;
}

/** One handler worker process at one sample. */
export interface ProcessSample {
  readonly functionName: string;
  /** Pipeline of the function, or its role (`sweeper`). */
  readonly label: string;
  readonly pid: number;
  /** VmRSS from /proc (else the process's own figure), bytes. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
}

/** Everything measured at one moment. */
export interface SoakSample {
  /** Milliseconds since driving started. */
  readonly t: number;
  /** Records put per logical input stream, cumulative. */
  readonly sent: Readonly<Record<string, number>>;
  readonly pipelines: readonly PipelineSample[];
  readonly processes: readonly ProcessSample[];
}

/** A point of a time series. */
export interface Point {
  readonly t: number;
  readonly value: number;
}

/** The verdict on one series. */
export interface SeriesVerdict {
  /** What was judged: `<label> pid <pid> rss`, `<pipeline> lag`. */
  readonly subject: string;
  readonly ok: boolean;
  /** The figure compared for the first and last quarter (max for memory, median for lag). */
  readonly first: number;
  readonly last: number;
  /** The largest `last` that passes. */
  readonly limit: number;
  /** Least-squares slope over the judged second half, per minute. */
  readonly slopePerMinute: number;
}

/** A judgement: each series' verdict and why it failed. */
export interface Judgement {
  readonly ok: boolean;
  readonly verdicts: readonly SeriesVerdict[];
  /** Human-readable reasons it is not ok (empty when ok). */
  readonly problems: readonly string[];
}

/** What the soak found. */
export interface SoakReport {
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly node: string; readonly platform: string };
  readonly settings: {
    readonly durationMs: number;
    readonly sampleIntervalMs: number;
    readonly mode: 'full-rate' | 'fixed-rate';
    readonly rate?: number;
    readonly maxBacklog: number;
    readonly invalidFraction: number;
    readonly seed: number;
  };
  /** How long driving actually lasted (ms). */
  readonly drivenMs: number;
  /** Full rate: when every input stream's backlog had reached its cap (ms); judging starts there. */
  readonly steadyFromMs: number;
  readonly prelude: Readonly<Record<string, number>>;
  readonly samples: readonly SoakSample[];
  readonly totals: {
    readonly sent: Readonly<Record<string, number>>;
    readonly pipelines: readonly {
      readonly pipeline: string;
      readonly processed: number;
      readonly out: number;
      readonly failures: number;
      readonly errors: number;
      /** Records processed per second over the run. */
      readonly inPerSec: number;
      readonly outPerSec: number;
    }[];
    /** Function errors counted by the hosts (crashes and timeouts included). */
    readonly functionErrors: number;
    /** Worker processes that went away while the runtime was running (crash, timeout). */
    readonly workerExits: readonly {
      readonly functionName: string;
      readonly pid: number;
      readonly t: number;
    }[];
    /** PutRecords calls of the driver that failed after the sink's retries. */
    readonly driverErrors: number;
    /** Output stream readers or samplers that failed. */
    readonly readerErrors: readonly string[];
  };
  readonly memory: Judgement;
  readonly lag: Judgement;
  readonly ok: boolean;
}
