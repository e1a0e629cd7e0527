import type { WindowConfig } from '#runtime/types';

/** Options of the demo (`npm start`, `shardflow demo`). */
export interface DemoOptions {
  /**
   * Events sent through the `enrich` pipeline, spread over `duration`.
   * @default 1000
   */
  readonly events?: number;
  /**
   * Seconds of live generation (after a short backfill of recent event time).
   * @default 60
   */
  readonly duration?: number;
  /**
   * Keep generating until SIGINT/SIGTERM instead of stopping after `duration`.
   * @default false
   */
  readonly forever?: boolean;
  /**
   * Events per second of each generated input stream (`clicks`, `requests`, `product-views`).
   * @default 15
   */
  readonly rate?: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * Seconds to wait, once generation stopped, until every record is processed and every enrich
   * result is back, before giving up.
   * @default 60
   */
  readonly timeout?: number;
  /** @default process.cwd() */
  readonly app?: string;
  /**
   * Print the handlers' logs on stderr (the live view then prints progress lines instead of redrawing).
   * @default false
   */
  readonly verbose?: boolean;
  /**
   * Where the view, progress lines and summary go.
   * @default process.stdout
   */
  readonly out?: DemoOutput;
  /**
   * Where status lines go.
   * @default process.stderr
   */
  readonly err?: NodeJS.WritableStream;
}

/** The part of a terminal stream the demo uses. */
export interface DemoOutput {
  write(text: string): unknown;
  /** Redraw in place only on a TTY. */
  readonly isTTY?: boolean;
  /** Terminal width. @default 100 */
  readonly columns?: number;
}

/** What the demo is doing. */
export type DemoPhase = 'running' | 'draining' | 'stopping' | 'done';

/** The window geometry of a pipeline as the view needs it. */
export type DemoWindow = WindowConfig;

/** A pipeline of the app as the demo sees it, found in the local deployment. */
export interface DemoPipeline {
  readonly name: string;
  /** Physical function name. */
  readonly functionName: string;
  /** Logical input stream (`clicks`). */
  readonly input: string;
  /** Physical name of the main output stream. */
  readonly output?: string;
  /** Physical names of side outputs (`alerts`). */
  readonly sideOutputs: readonly string[];
  /** Physical name of `<pipeline>-failures`. */
  readonly failureStream?: string;
  /** The pipeline's window; absent for stateless pipelines. */
  readonly window?: DemoWindow;
}

/** A result or alert read from an output stream (the output record contract). */
export interface DemoResult {
  readonly id: string;
  readonly key: string;
  /** Epoch ms. */
  readonly windowStart: number;
  /** Epoch ms. */
  readonly windowEnd: number;
  /** The result's `values`; for an alert, the record's own fields. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** What the view shows of one pipeline. */
export interface PipelineSnapshot {
  readonly name: string;
  /** Logical input stream. */
  readonly input: string;
  readonly window?: DemoWindow;
  /** Records the demo put on the input stream. */
  readonly sent: number;
  /** Records the event source mapping delivered to the function in successful invocations. */
  readonly recordsIn: number;
  /** Distinct records on the main output stream (deduplicated by `id`). */
  readonly recordsOut: number;
  /** Distinct records on side outputs (alerts). */
  readonly alerts: number;
  /** Windows (sessions) still open in the state table; absent when unknown or stateless. */
  readonly openWindows?: number;
  /** The committed watermark (epoch ms): windows ending before it are closed. */
  readonly watermark?: number;
  /** Records refused as LATE (failure stream). */
  readonly late: number;
  /** Invalid records (failure stream, every reason but LATE). */
  readonly invalid: number;
  /** Records given up on and sent to the on-failure destination. */
  readonly failed: number;
  /** Failed invocations (retried). */
  readonly errors: number;
  /** Iterator age of the last batch (ms). */
  readonly lagMs: number;
  /** Latest results, oldest first (at most a few hundred). */
  readonly recent: readonly DemoResult[];
  /** Latest alerts, oldest first. */
  readonly recentAlerts: readonly DemoResult[];
}

/** The enrich part: the issue-2 contract (every event back exactly once, with latency). */
export interface EnrichSnapshot {
  readonly sent: number;
  readonly received: number;
  readonly duplicates: number;
  /** Put-to-output latency percentiles (ms); absent before the first result. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** Everything the view renders, at one moment. */
export interface DemoSnapshot {
  /** Epoch ms. */
  readonly now: number;
  readonly phase: DemoPhase;
  /** Since generation started (ms). */
  readonly elapsedMs: number;
  /** Planned generation time (ms); absent with `--forever`. */
  readonly durationMs?: number;
  readonly pipelines: readonly PipelineSnapshot[];
  readonly enrich?: EnrichSnapshot;
  /** The latest status lines (phase changes, read errors), oldest first. */
  readonly notes?: readonly string[];
}
