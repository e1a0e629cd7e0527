import {
  GENERATOR_DEFAULTS,
  GENERATOR_PIPELINES,
  type GeneratedRecord,
  type GeneratorPipeline,
  generateEvents,
  inputStreamOf,
} from '#local/generator/index';
import { KinesisSink } from '#sinks/index';
import { type ResolvedStream, resolveStream } from './resolveStream';

/** Options of `shardflow generate PIPELINE`. */
export interface GenerateCommandOptions {
  /** Events per second (average; bursts go faster). @default 20 */
  readonly rate?: number;
  /** Seconds of event time to generate. @default 60 */
  readonly duration?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Share of late records (event time far behind, beyond allowed lateness). @default 0 */
  readonly lateFraction?: number;
  /** Share of invalid records (not JSON, wrong schema). @default 0 */
  readonly invalidFraction?: number;
  /** Write JSON lines to stdout instead of sending. @default false */
  readonly stdout?: boolean;
  /**
   * Simulated clock: event time of the first event (ISO-8601 or epoch ms); records are then sent
   * as fast as possible instead of paced in real time.
   * @default - now, paced at the rate
   */
  readonly start?: string;
  /** Where `--stdout` lines go. @default process.stdout */
  readonly out?: NodeJS.WritableStream;
  /** The input stream. @default - `resolveStream(<the pipeline's input>)` */
  readonly target?: ResolvedStream;
  /** Stops a real-time run early. */
  readonly signal?: AbortSignal;
}

/** What `shardflow generate` did. */
export interface GenerateSummary {
  readonly pipeline: GeneratorPipeline;
  readonly stream: string;
  readonly records: number;
  readonly valid: number;
  readonly late: number;
  readonly invalid: number;
}

/** Records sent per PutRecords round in simulated-clock mode. */
const CHUNK = 500;
/** Real-time mode sends what is due every tick (ms). */
const TICK_MS = 200;

/**
 * `shardflow generate PIPELINE`: generates the pipeline's input events (see `local/generator`) and
 * sends them to its input stream with the documented partition keys (`userId` for clicks and
 * product views, `service` for requests), or writes them to stdout as JSON lines. By default the
 * clock is now and records are paced at `rate`; with `start` the event times are simulated and
 * records go out as fast as the stream takes them.
 *
 * @example
 * await generateCommand('page-views', { rate: 50, duration: 60, lateFraction: 0.01 });
 */
export async function generateCommand(
  pipeline: string,
  options: GenerateCommandOptions = {},
): Promise<GenerateSummary> {
  if (!(GENERATOR_PIPELINES as readonly string[]).includes(pipeline)) {
    throw new Error(
      `no generator for pipeline '${pipeline}'; known: ${GENERATOR_PIPELINES.join(', ')}`,
    );
  }
  const name = pipeline as GeneratorPipeline;
  const simulated = options.start !== undefined;
  const start = simulated ? parseStart(options.start as string) : Date.now();
  const records = generateEvents({
    pipeline: name,
    start,
    rate: options.rate ?? GENERATOR_DEFAULTS.rate,
    durationMs: (options.duration ?? GENERATOR_DEFAULTS.durationMs / 1000) * 1000,
    seed: options.seed ?? GENERATOR_DEFAULTS.seed,
    lateFraction: options.lateFraction ?? 0,
    invalidFraction: options.invalidFraction ?? 0,
  });
  const stream = inputStreamOf(name);
  const counts = { records: 0, valid: 0, late: 0, invalid: 0 };
  const count = (record: GeneratedRecord): void => {
    counts.records += 1;
    counts[record.kind] += 1;
  };

  if (options.stdout) {
    const out = options.out ?? process.stdout;
    for (const record of records) {
      if (options.signal?.aborted) break;
      if (!simulated) await sleepUntil(record.sentAt, options.signal);
      out.write(`${record.data}\n`);
      count(record);
    }
    return { pipeline: name, stream, ...counts };
  }

  const target = options.target ?? (await resolveStream(stream));
  const sink = new KinesisSink({ streamName: target.streamName, client: target.client });
  let chunk: GeneratedRecord[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await sink.send(chunk.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
    for (const record of chunk) count(record);
    chunk = [];
  };
  let tickEnd = start + TICK_MS;
  for (const record of records) {
    if (options.signal?.aborted) break;
    if (simulated) {
      chunk.push(record);
      if (chunk.length >= CHUNK) await flush();
      continue;
    }
    if (record.sentAt >= tickEnd) {
      await flush();
      await sleepUntil(record.sentAt, options.signal);
      tickEnd = record.sentAt + TICK_MS;
    }
    chunk.push(record);
  }
  await flush();
  return { pipeline: name, stream: target.streamName, ...counts };
}

/** Epoch ms of a `--start` value: an ISO-8601 date-time or epoch ms. */
function parseStart(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new Error(`--start must be an ISO-8601 date-time or epoch ms, got '${value}'`);
  }
  return ms;
}

function sleepUntil(time: number, signal?: AbortSignal): Promise<void> {
  const ms = time - Date.now();
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
