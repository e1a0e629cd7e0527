import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { OpenShard, ShardProbePosition } from '#state/index';

/** Options of {@link KinesisTailProbe}. */
export interface KinesisTailProbeOptions {
  /** @default a `KinesisClient` from the environment */
  readonly client?: KinesisClient;
  /**
   * How long an answer for one (shard, sequence number), or a stream's list of open shards, is
   * reused, in ms: a handler asks for every batch, an answer costs one or two API calls.
   * @default 5000
   */
  readonly cacheMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

const DEFAULT_CACHE_MS = 5_000;

/**
 * Tells whether a Kinesis shard holds records after a sequence number: one GetShardIterator
 * (`AFTER_SEQUENCE_NUMBER`) and one GetRecords with `Limit: 1`. The shard is caught up when that
 * read returns no record and `MillisBehindLatest` is 0 (GetRecords may return an empty page while
 * records lie further on; `MillisBehindLatest` says so), or — with `freshSince` — when the first
 * unread record arrived at or after it (a steady stream read as it comes is no backlog). A closed shard read to its end is caught
 * up. Used as the window store's tail probe, so a shard is idle only when it has nothing left to
 * read — not merely because its last batch is old (a backlogged, throttled or failing shard).
 *
 * The function's role needs `kinesis:GetShardIterator` and `kinesis:GetRecords` on the stream (and
 * `kms:Decrypt` on its key), which `stream.grantRead` gives.
 *
 * @example
 * ```ts
 * const probe = new KinesisTailProbe();
 * await store.readWatermark({ maxOutOfOrderness, idleTimeout, now, tailProbe: probe.caughtUp });
 * ```
 */
export class KinesisTailProbe {
  readonly #client: KinesisClient;
  readonly #cacheMs: number;
  readonly #clock: () => number;
  readonly #answers = new Map<string, { readonly caughtUp: boolean; readonly at: number }>();
  readonly #shards = new Map<string, { readonly ids: readonly OpenShard[]; readonly at: number }>();

  constructor(options: KinesisTailProbeOptions = {}) {
    this.#client = options.client ?? new KinesisClient({});
    this.#cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Whether nothing is left to read after `position` — from the shard's start when its
   * `sequenceNumber` is `undefined` (bound: pass it as a callback).
   */
  readonly caughtUp = async (position: ShardProbePosition): Promise<boolean> => {
    const cacheKey = `${position.streamArn}|${position.shardId}|${position.sequenceNumber ?? ''}|${position.freshSince === undefined ? '' : 'fresh'}`;
    const now = this.#clock();
    const cached = this.#answers.get(cacheKey);
    if (cached !== undefined && now - cached.at < this.#cacheMs) return cached.caughtUp;
    const { ShardIterator } = await this.#client.send(
      new GetShardIteratorCommand(
        position.sequenceNumber === undefined
          ? {
              StreamARN: position.streamArn,
              ShardId: position.shardId,
              ShardIteratorType: 'TRIM_HORIZON',
            }
          : {
              StreamARN: position.streamArn,
              ShardId: position.shardId,
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
              StartingSequenceNumber: position.sequenceNumber,
            },
      ),
    );
    let caughtUp = true;
    if (ShardIterator !== undefined) {
      const page = await this.#client.send(
        new GetRecordsCommand({ StreamARN: position.streamArn, ShardIterator, Limit: 1 }),
      );
      const next = page.Records?.[0];
      caughtUp =
        next === undefined
          ? (page.MillisBehindLatest ?? 0) === 0
          : position.freshSince !== undefined &&
            (next.ApproximateArrivalTimestamp?.getTime() ?? 0) >= position.freshSince;
    }
    for (const [key, answer] of this.#answers) {
      if (now - answer.at >= this.#cacheMs) this.#answers.delete(key);
    }
    this.#answers.set(cacheKey, { caughtUp, at: now });
    return caughtUp;
  };

  /**
   * A stream's open shards and their parents (`ListShards`, every page), reused for `cacheMs`
   * (bound: pass it as `readWatermark`'s `openShards`). Needs `kinesis:ListShards` on the stream.
   */
  readonly openShards = async (streamArn: string): Promise<readonly OpenShard[]> => {
    const now = this.#clock();
    const cached = this.#shards.get(streamArn);
    if (cached !== undefined && now - cached.at < this.#cacheMs) return cached.ids;
    const ids: OpenShard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListShardsCommand(
          nextToken === undefined ? { StreamARN: streamArn } : { NextToken: nextToken },
        ),
      );
      for (const shard of page.Shards ?? []) {
        if (
          shard.ShardId !== undefined &&
          shard.SequenceNumberRange?.EndingSequenceNumber === undefined
        )
          ids.push({
            shardId: shard.ShardId,
            parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter(
              (id): id is string => id !== undefined,
            ),
          });
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    this.#shards.set(streamArn, { ids, at: now });
    return ids;
  };
}
