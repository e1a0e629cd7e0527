import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';

/** One record read from a stream. */
export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Epoch milliseconds at which Kinesis accepted the record. */
  readonly arrivedAt: number;
}

/** Options for {@link readStream}. */
export interface ReadStreamOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  /**
   * Read from the oldest record instead of only new ones.
   * @default false
   */
  readonly fromStart?: boolean;
  /**
   * Stop after this many records.
   * @default - no limit
   */
  readonly max?: number;
  /**
   * Stop when no record has arrived for this long.
   * @default - never
   */
  readonly idleTimeoutMs?: number;
  /**
   * Delay between polls of a shard that returned nothing.
   * @default 200
   */
  readonly pollIntervalMs?: number;
  /** Stops reading when aborted. */
  readonly signal?: AbortSignal;
  /** Receives each record in per-shard order. */
  readonly onRecord: (record: StreamRecord) => void;
}

/**
 * Reads every shard of a stream, including shards created by resharding, and hands each record to
 * `onRecord` in per-shard order until `max` records, `idleTimeoutMs` of silence or the abort signal.
 *
 * @returns how many records were read
 */
export async function readStream(options: ReadStreamOptions): Promise<number> {
  const { client, streamName } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const iterators = new Map<string, string | undefined>();
  const finished = new Set<string>();
  let count = 0;
  let lastActivity = Date.now();

  const discoverShards = async (): Promise<void> => {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || iterators.has(shardId) || finished.has(shardId)) {
        continue;
      }
      // A child shard is new since we started listening, so read it from its beginning.
      const type: ShardIteratorType =
        options.fromStart || iterators.size > 0 || finished.size > 0 ? 'TRIM_HORIZON' : 'LATEST';
      const iterator = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: type,
        }),
      );
      iterators.set(shardId, iterator.ShardIterator);
    }
  };

  await discoverShards();
  let sinceDiscovery = 0;
  while (!options.signal?.aborted) {
    let received = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) {
        iterators.delete(shardId);
        finished.add(shardId);
        continue;
      }
      const page = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
      );
      iterators.set(shardId, page.NextShardIterator);
      for (const record of page.Records ?? []) {
        options.onRecord({
          shardId,
          sequenceNumber: record.SequenceNumber ?? '',
          partitionKey: record.PartitionKey ?? '',
          data: record.Data ?? new Uint8Array(),
          arrivedAt: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
        });
        count += 1;
        received += 1;
        if (options.max !== undefined && count >= options.max) {
          return count;
        }
      }
    }
    const now = Date.now();
    if (received > 0) {
      lastActivity = now;
      continue;
    }
    if (options.idleTimeoutMs !== undefined && now - lastActivity >= options.idleTimeoutMs) {
      return count;
    }
    sinceDiscovery += 1;
    if (sinceDiscovery >= 10) {
      sinceDiscovery = 0;
      await discoverShards();
    }
    await sleep(pollIntervalMs, options.signal);
  }
  return count;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
