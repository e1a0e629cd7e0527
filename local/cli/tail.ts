import { readStream } from '#local/io/readStream';
import type { ResolvedStream } from './resolveStream';

/** Options of `shardflow tail`. */
export interface TailOptions {
  readonly fromStart?: boolean;
  readonly max?: number;
  /** Seconds without records after which tail stops. */
  readonly idleTimeout?: number;
}

/**
 * Prints each record of a stream on stdout as one line (its data as UTF-8, normally JSON) until `max`
 * records, the idle timeout or Ctrl-C.
 *
 * @returns the number of records printed
 */
export async function tailStream(target: ResolvedStream, options: TailOptions): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  try {
    return await readStream({
      client: target.client,
      streamName: target.streamName,
      fromStart: options.fromStart,
      max: options.max,
      idleTimeoutMs: options.idleTimeout === undefined ? undefined : options.idleTimeout * 1000,
      signal: controller.signal,
      onRecord: (record) => {
        process.stdout.write(`${Buffer.from(record.data).toString('utf8')}\n`);
      },
    });
  } finally {
    process.removeListener('SIGINT', stop);
  }
}
