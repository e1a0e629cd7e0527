import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisSink, type SinkRecord } from '#sinks/index';
import { SOAK_DEFAULTS } from './constants';
import type { EventSource } from './eventSources';

/** Options of {@link Driver}. */
export interface DriverOptions {
  readonly kinesis: KinesisClient;
  /** Logical input stream → physical name. */
  readonly streams: ReadonlyMap<string, string>;
  readonly sources: ReadonlyMap<string, EventSource>;
  /** Records per second per stream; undefined: full rate, limited by `backlogOf`. */
  readonly rate?: number;
  readonly maxBacklog: number;
  /** Records of a logical input stream its slowest mapping has not finished yet. */
  readonly backlogOf: (stream: string) => number;
  /** Receives a line when a PutRecords fails for good. */
  readonly onError?: (line: string) => void;
}

/**
 * Feeds the input streams with 500-record PutRecords (through {@link KinesisSink}, which retries
 * failed entries): at a fixed rate per stream, or at full rate — the next call as soon as the
 * previous one is written, as long as the stream's slowest mapping is fewer than `maxBacklog`
 * records behind.
 */
export class Driver {
  /** Records written per logical input stream. */
  public readonly sent = new Map<string, number>();
  /** PutRecords calls that failed after the sink's retries. */
  public errors = 0;
  /** Full rate: when each stream first had `maxBacklog` records waiting (epoch ms). */
  public readonly saturatedAt = new Map<string, number>();
  readonly #options: DriverOptions;
  readonly #sinks = new Map<string, KinesisSink>();

  public constructor(options: DriverOptions) {
    this.#options = options;
    for (const [logical, physical] of options.streams) {
      this.#sinks.set(
        logical,
        new KinesisSink({ streamName: physical, client: options.kinesis, ordered: false }),
      );
      this.sent.set(logical, 0);
    }
  }

  /** Writes records to a stream at once (the prelude), counting them as sent. */
  public async send(stream: string, records: readonly SinkRecord[]): Promise<void> {
    const sink = this.#sinks.get(stream);
    if (sink === undefined || records.length === 0) return;
    for (let i = 0; i < records.length; i += SOAK_DEFAULTS.putBatchSize) {
      const chunk = records.slice(i, i + SOAK_DEFAULTS.putBatchSize);
      await sink.send(chunk);
      this.sent.set(stream, (this.sent.get(stream) ?? 0) + chunk.length);
    }
  }

  /** Feeds every stream that has a source until the signal aborts. */
  public async run(signal: AbortSignal): Promise<void> {
    const streams = [...this.#options.sources.keys()].filter((s) => this.#sinks.has(s));
    await Promise.all(streams.map((stream) => this.#feed(stream, signal)));
  }

  async #feed(stream: string, signal: AbortSignal): Promise<void> {
    const source = this.#options.sources.get(stream) as EventSource;
    const { rate, maxBacklog, backlogOf } = this.#options;
    const started = Date.now();
    let made = 0;
    while (!signal.aborted) {
      let count: number;
      if (rate === undefined) {
        if (backlogOf(stream) >= maxBacklog) {
          if (!this.saturatedAt.has(stream)) this.saturatedAt.set(stream, Date.now());
          await sleep(100, signal);
          continue;
        }
        count = SOAK_DEFAULTS.putBatchSize;
      } else {
        const due = Math.floor((rate * (Date.now() - started)) / 1000) - made;
        if (due <= 0) {
          await sleep(200, signal);
          continue;
        }
        count = Math.min(due, SOAK_DEFAULTS.putBatchSize);
      }
      const now = Date.now();
      const records = Array.from({ length: count }, () => source(now));
      made += count;
      try {
        await this.send(stream, records);
      } catch (error) {
        this.errors += 1;
        this.#options.onError?.(`PutRecords to ${stream} failed: ${(error as Error).message}`);
        await sleep(1000, signal);
      }
    }
  }
}

/** Waits `ms`, or less if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
