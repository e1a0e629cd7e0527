/** Defaults of `npm run soak` ({@link runSoak}). */
export const SOAK_DEFAULTS = {
  /** How long the pipelines are driven (ms). */
  durationMs: 5 * 60_000,
  /** Time between two samples (ms). */
  sampleIntervalMs: 5_000,
  /**
   * Full-rate mode: an input stream gets its next PutRecords only while it is fewer than this many
   * records ahead of the slowest mapping reading it (closed loop: the offered load is what the
   * pipelines sustain, and a slowdown shows as growing lag instead of an ever longer queue).
   */
  maxBacklog: 1_000,
  /** Records per PutRecords call (the API's limit). */
  putBatchSize: 500,
  /** Share of invalid records in the generated streams (half not JSON, half the wrong schema). */
  invalidFraction: 0.005,
  seed: 1,
  /**
   * The prelude: events with event times from `preludeAgoMs` over `preludeSpanMs`, sent first so
   * windows (and the 30-minute sessions) close as soon as live events arrive. The span stays
   * within the pipelines' allowed lateness (30 s), so no prelude record is LATE whichever shard
   * is read first.
   */
  preludeAgoMs: 40 * 60_000,
  preludeSpanMs: 30_000,
  /** Prelude events per second of its event time, per generated stream (~300 per stream). */
  preludeRate: 10,
  /** Enrich events in the prelude (they start its function's workers). */
  enrichPrelude: 20,
  /** Longest wait for the prelude to be processed before driving starts (ms). */
  warmupTimeoutMs: 120_000,
  /** Events per second of the generator's own clock: only shapes keys, bursts and the scenario. */
  generatorRate: 50,
  /** Enrich events come from this many devices. */
  enrichDevices: 10,
  /** Poll interval of the output and failure stream readers (ms). */
  readerPollMs: 1_000,
} as const;

/** How the soak judges memory and lag; see docs/soak.md. */
export const JUDGEMENT_DEFAULTS = {
  /** Samples before this share of the run (at most `maxWarmupMs`) are shown but not judged. */
  warmupShare: 0.1,
  maxWarmupMs: 60_000,
  /** Memory is flat when last-quarter max ≤ first-quarter max × ratio + slack. */
  memoryRatio: 1.1,
  rssSlackBytes: 16 * 1024 * 1024,
  heapSlackBytes: 8 * 1024 * 1024,
  /** Lag is not growing when last-quarter median ≤ first-quarter median × ratio + slack. */
  lagRatio: 1.5,
  lagSlackMs: 10_000,
} as const;

/** One mebibyte. */
export const MIB = 1024 * 1024;

/** Where `npm run soak` writes its report. */
export const RESULTS_FILE = 'soak/results/latest.json';

/** Handler variable naming the pipeline (set by the StreamPipeline construct). */
export const PIPELINE_VARIABLE = 'SHARDFLOW_PIPELINE';

/** Handler variables naming output streams start with this (`OUTPUT_STREAM_<NAME>`). */
export const OUTPUT_STREAM_PREFIX = 'OUTPUT_STREAM_';

/** The stateless pipeline's input: its events are made here, the others' by the generator. */
export const ENRICH_INPUT = 'numbers';
