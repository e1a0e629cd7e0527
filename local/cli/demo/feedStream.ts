import type { SinkRecord } from '#sinks/index';

/** A record to send once the clock reaches `sentAt`. */
export interface FeedRecord {
  /** Epoch ms at which to send it (records with a past time go at once). */
  readonly sentAt: number;
  readonly partitionKey: string;
  /** The data, or a function building it when it is sent (to stamp the send time). */
  readonly data: string | (() => string);
  /** What the record is meant to be (`valid`, `late`, `invalid`). @default 'valid' */
  readonly kind?: string;
}

/** Options of {@link feedStream}. */
export interface FeedStreamOptions {
  /** Records in `sentAt` order (may be endless). */
  readonly records: Iterable<FeedRecord>;
  /** Sends one chunk (a `KinesisSink`). */
  readonly sink: { send(records: readonly SinkRecord[]): Promise<unknown> };
  /** Stops feeding when aborted. */
  readonly signal: AbortSignal;
  /** Receives the records of every chunk once it is on the stream. */
  readonly onSent?: (records: readonly FeedRecord[]) => void;
  /** Sends what is due every tick (ms). @default 200 */
  readonly tickMs?: number;
  /** Largest chunk (PutRecords takes 500). @default 500 */
  readonly chunkSize?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

/**
 * Sends records to a stream in real time: every tick, whatever is due (`sentAt ≤ now`) goes in
 * chunks; records already due when the feed starts (a backfill) go at once. Resolves when the
 * records run out or the signal aborts.
 *
 * @returns how many records were sent
 */
export async function feedStream(options: FeedStreamOptions): Promise<number> {
  const clock = options.clock ?? Date.now;
  const tickMs = options.tickMs ?? 200;
  const chunkSize = options.chunkSize ?? 500;
  let sent = 0;
  let chunk: FeedRecord[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const records = chunk;
    chunk = [];
    await options.sink.send(
      records.map((record) => ({
        data: typeof record.data === 'function' ? record.data() : record.data,
        partitionKey: record.partitionKey,
      })),
    );
    sent += records.length;
    options.onSent?.(records);
  };
  for (const record of options.records) {
    if (options.signal.aborted) break;
    if (record.sentAt > clock()) {
      await flush();
      await sleep(Math.max(tickMs, record.sentAt - clock()), options.signal);
      if (options.signal.aborted) break;
    }
    chunk.push(record);
    if (chunk.length >= chunkSize) await flush();
  }
  if (!options.signal.aborted) await flush();
  return sent;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
