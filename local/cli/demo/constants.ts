/** Defaults of the demo. */
export const DEMO_DEFAULTS = {
  /** Events through `enrich`: the issue-2 contract is "1,000 events, all back". */
  events: 1000,
  /** Seconds of live generation. */
  durationSeconds: 60,
  /** Events per second per generated input stream. */
  rate: 8,
  seed: 1,
  /** Seconds to wait, once generation stopped, for every enrich event to come back. */
  timeoutSeconds: 45,
  /**
   * Once every enrich event is back, wait at most this long for the windowed pipelines to work
   * off their backlog (ms); what is left is reported in the summary.
   */
  windowedDrainMs: 20_000,
  /**
   * Event time sent at once before live generation starts (ms): the windows it covers can close
   * right away, so the first results show within seconds instead of after a minute.
   */
  backfillMs: 90_000,
  /** Share of late records (event time re-used from ≥ 2 minutes ago). */
  lateFraction: 0.01,
  /** Share of invalid records (not JSON, wrong schema). */
  invalidFraction: 0.005,
} as const;

/** How often the view is refreshed. */
export const REFRESH = {
  /** Redraw in a TTY (ms). */
  ttyMs: 1000,
  /** Progress line when stdout is not a TTY (ms). */
  lineMs: 5000,
  /** Read the state table at most this often (ms); DynamoDB Local is slow on a busy machine. */
  stateMs: 5000,
  /** Poll interval of the output and failure stream readers (ms). */
  readerPollMs: 1000,
  /** Wait before a failed stream reader starts again (ms). */
  readerRetryMs: 1000,
  /** Generators send what is due every tick (ms). */
  feedTickMs: 200,
} as const;

/** Results and alerts kept per pipeline for the view. */
export const RECENT_LIMIT = { results: 300, alerts: 20 } as const;

/** The failure reason of records refused because their window had closed. */
export const LATE_REASON = 'LATE';

/** Suffix of failure streams' logical names. */
export const FAILURE_STREAM_SUFFIX = '-failures';

/** Handler variable naming the pipeline (set by the StreamPipeline construct). */
export const PIPELINE_VARIABLE = 'SHARDFLOW_PIPELINE';

/** The stateless pipeline whose every event is checked end to end (`numbers` → `numbers-doubled`). */
export const ENRICH = { pipeline: 'enrich', input: 'numbers', output: 'numbers-doubled' } as const;

/** ANSI control sequences of the TTY view. */
export const ANSI = {
  hideCursor: '\u001b[?25l',
  showCursor: '\u001b[?25h',
  /** Erase from the cursor to the end of the screen. */
  clearDown: '\u001b[0J',
  up: (lines: number): string => `\u001b[${lines}A`,
  bold: (text: string): string => `\u001b[1m${text}\u001b[22m`,
} as const;
