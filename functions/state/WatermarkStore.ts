import {
  type AttributeValue,
  QueryCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { isSilent, PROBE_FRESHNESS_MS, pipelineWatermark } from '#watermark/index';
import { num, readNumber, readString, str } from './attributes';
import { conditionalUpdate, conditionalUpdateOrImage, updateItem } from './conditionalUpdate';
import { ATTR, ITEM_KIND, TABLE_KEYS } from './constants';
import {
  ExpressionBuilder,
  eventTimeBelow,
  positionBelow,
  processedAtBelow,
  watermarkBelow,
} from './expressions';
import { expiresAt, PIPELINE_WATERMARK_SORT_KEY, shardSortKey, watermarkPartition } from './keys';
import { countRead } from './requestStats';
import { normalizeSequence, padSequence } from './sequence';
import type {
  DynamoDBSender,
  OpenShard,
  OpenShardLister,
  PipelineWatermark,
  ReadWatermarkOptions,
  ShardPosition,
  ShardProbePosition,
  ShardTailProbe,
  ShardWatermark,
  WatermarkUpdate,
  WindowStoreStats,
} from './types';

/** What a {@link WatermarkStore} writes to and counts in. */
export interface WatermarkStoreOptions {
  /** The client, already wrapped by the owning store (conflict retries). */
  readonly client: DynamoDBSender;
  readonly tableName: string;
  readonly pipeline: string;
  /** How long a retired shard's row is kept. */
  readonly retentionMs: number;
  /** The owning store's cumulative counters: watermark requests count there too. */
  readonly stats: WindowStoreStats;
}

const unpadded = (padded: string | undefined): string | undefined =>
  padded === undefined ? undefined : normalizeSequence(padded);

/**
 * Asks the probe, for each live shard silent for longer than the idle timeout whose position is
 * known, whether it is caught up. Returns the shards with records left to read (or whose probe
 * failed): they are not idle. Probes run concurrently.
 */
async function shardsBehind(
  shards: readonly ShardWatermark[],
  now: number,
  idleTimeout: number,
  probe: ShardTailProbe,
  onError: ((shardId: string, error: unknown) => void) | undefined,
): Promise<Set<string>> {
  const behind = new Set<string>();
  await Promise.all(
    shards.map(async (shard) => {
      const { streamArn, lastSequenceNumber: sequenceNumber } = shard;
      if (shard.retired || !isSilent(shard, now, idleTimeout)) return;
      if (streamArn === undefined || sequenceNumber === undefined) return;
      const position = {
        shardId: shard.shardId,
        streamArn,
        sequenceNumber,
        freshSince: now - PROBE_FRESHNESS_MS,
      };
      if (!(await caughtUp(probe, position, onError))) behind.add(shard.shardId);
    }),
  );
  return behind;
}

/** The probe's answer; a probe that fails counts as "not caught up" (reported to `onError`). */
async function caughtUp(
  probe: ShardTailProbe,
  position: ShardProbePosition,
  onError: ((shardId: string, error: unknown) => void) | undefined,
): Promise<boolean> {
  try {
    return await probe(position);
  } catch (error) {
    onError?.(position.shardId, error);
    return false;
  }
}

/**
 * The open shards of the reporting shards' streams, with their stream. A listing that fails is
 * reported and skipped: only the shards that reported then count, as without a lister.
 */
async function listOpenShards(
  shards: readonly ShardWatermark[],
  list: OpenShardLister,
  onError: ((shardId: string, error: unknown) => void) | undefined,
): Promise<Array<OpenShard & { readonly streamArn: string }>> {
  const streams = new Set(
    shards.flatMap((s) => (s.retired || s.streamArn === undefined ? [] : [s.streamArn])),
  );
  const found: Array<OpenShard & { readonly streamArn: string }> = [];
  await Promise.all(
    [...streams].map(async (streamArn) => {
      try {
        for (const shard of await list(streamArn)) found.push({ ...shard, streamArn });
      } catch (error) {
        onError?.(streamArn, error);
      }
    }),
  );
  return found;
}

/**
 * The open shards that have no row yet, that Lambda reads from their start (children of a
 * reported shard, or every shard when `readsFromStart`), and that hold records (the probe,
 * reading from their start, finds some): their first batch is still coming.
 */
async function pendingShards(
  shards: readonly ShardWatermark[],
  open: ReadonlyArray<OpenShard & { readonly streamArn: string }>,
  readsFromStart: boolean,
  probe: ShardTailProbe,
  onError: ((shardId: string, error: unknown) => void) | undefined,
): Promise<ShardWatermark[]> {
  const reported = new Set(shards.map((s) => s.shardId));
  const unreported = open.filter(
    ({ shardId, parents }) =>
      !reported.has(shardId) && (readsFromStart || parents.some((p) => reported.has(p))),
  );
  const pending: ShardWatermark[] = [];
  await Promise.all(
    unreported.map(async ({ shardId, streamArn }) => {
      if (await caughtUp(probe, { shardId, streamArn, sequenceNumber: undefined }, onError)) return;
      pending.push({
        shardId,
        maxEventTime: Number.NEGATIVE_INFINITY,
        processedAt: Number.NEGATIVE_INFINITY,
        retired: false,
        streamArn,
        idle: false,
      });
    }),
  );
  return pending;
}

/**
 * The watermark rows of one pipeline: a row per shard (event clock, processing time, position)
 * and the committed watermark. Rows only: the policy (min over active shards, idleness, what is
 * late) lives in `#watermark`. Shared by the slice stores of every window kind.
 *
 * @example
 * const watermarks = new WatermarkStore({ client, tableName, pipeline: 'page-views', retentionMs, stats });
 * await watermarks.updateShardWatermark(shardId, maxEventTime, Date.now());
 */
export class WatermarkStore {
  readonly pipeline: string;
  readonly #client: DynamoDBSender;
  readonly #tableName: string;
  readonly #retentionMs: number;
  readonly stats: WindowStoreStats;

  constructor(options: WatermarkStoreOptions) {
    this.pipeline = options.pipeline;
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#retentionMs = options.retentionMs;
    this.stats = options.stats;
  }

  /**
   * Records a shard's progress after a batch: `maxEventTime` only moves forward (conditional
   * write), `processedAt` (idle detection) is refreshed even when event time did not advance (or
   * is `undefined`: a batch of only filtered or invalid records),
   * with a second conditional write. With `position` (the batch's stream and highest sequence
   * number), one more conditional write moves the stored position forward (never back), so
   * `readWatermark`'s tail probe can tell a caught-up shard from a backlogged one. Usually one
   * write request (event time and position both move forward); otherwise the failed write returns
   * the stored item, and only the writes still needed follow (at most 3 in all).
   *
   * @returns `advanced` (event time moved), `refreshed` (only processedAt moved) or `unchanged`.
   * @example
   * await store.updateShardWatermark(shardId, maxEventTimeOfBatch, Date.now());
   */
  async updateShardWatermark(
    shardId: string,
    maxEventTime: number | undefined,
    processedAt: number,
    position?: Pick<ShardPosition, 'streamArn' | 'sequenceNumber'>,
  ): Promise<WatermarkUpdate> {
    const key = {
      [TABLE_KEYS.partitionKey]: str(watermarkPartition(this.pipeline)),
      [TABLE_KEYS.sortKey]: str(shardSortKey(shardId)),
    };
    // No TTL on a live shard's row: its event clock and position must outlive any silence (rows
    // written by an earlier version lose their TTL here).
    const padded = position === undefined ? undefined : padSequence(position.sequenceNumber);
    // The usual case — a new batch moves both event time and position forward — in one write.
    // When it does not, the item as it was says which of the writes below are still needed.
    let image: Record<string, AttributeValue> | undefined;
    if (maxEventTime !== undefined && position !== undefined && padded !== undefined) {
      const both = new ExpressionBuilder();
      const condition = `(${eventTimeBelow(both, maxEventTime)}) AND (${positionBelow(both, padded)})`;
      const outcome = await conditionalUpdateOrImage(
        this.#client,
        this.#tableName,
        {
          Key: key,
          UpdateExpression: setShardTime(both, shardId, maxEventTime, processedAt)
            .set(ATTR.streamArn, str(position.streamArn))
            .set(ATTR.lastSequenceNumber, str(padded))
            .updateExpression(),
          ConditionExpression: condition,
          ...both.attributes(),
        },
        this.stats,
      );
      if (outcome === true) return 'advanced';
      image = outcome;
    }
    const stored = image === undefined ? undefined : readNumber(image, ATTR.maxEventTime);
    const b = new ExpressionBuilder();
    let update: WatermarkUpdate = 'advanced';
    if (
      maxEventTime === undefined ||
      (stored !== undefined && stored >= maxEventTime) ||
      !(await this.#conditionalWrite({
        Key: key,
        UpdateExpression: setShardTime(b, shardId, maxEventTime, processedAt).updateExpression(),
        ConditionExpression: eventTimeBelow(b, maxEventTime),
        ...b.attributes(),
      }))
    ) {
      const r = new ExpressionBuilder();
      r.set(ATTR.kind, str(ITEM_KIND.SHARD))
        .set(ATTR.shardId, str(shardId))
        .set(ATTR.processedAt, num(processedAt))
        .remove(TABLE_KEYS.timeToLiveAttribute);
      // A batch without any element (all filtered or invalid) says nothing of the shard's event
      // clock: it reports the shard (first time only) but does not keep it from going idle.
      const refreshed = await this.#conditionalWrite({
        Key: key,
        UpdateExpression: r.updateExpression(),
        ConditionExpression:
          maxEventTime === undefined
            ? `attribute_not_exists(${r.name(ATTR.processedAt)})`
            : processedAtBelow(r, processedAt),
        ...r.attributes(),
      });
      update = refreshed ? 'refreshed' : 'unchanged';
    }
    const storedPosition =
      image === undefined ? undefined : readString(image, ATTR.lastSequenceNumber);
    if (
      position !== undefined &&
      padded !== undefined &&
      (storedPosition === undefined || storedPosition < padded)
    ) {
      await this.#advancePosition(key, position.streamArn, padded);
    }
    return update;
  }

  /** Moves the shard's stored position (`padded` sequence number) forward, never back; one conditional write. */
  async #advancePosition(
    key: Record<string, AttributeValue>,
    streamArn: string,
    padded: string,
  ): Promise<void> {
    const b = new ExpressionBuilder();
    b.set(ATTR.streamArn, str(streamArn)).set(ATTR.lastSequenceNumber, str(padded));
    await this.#conditionalWrite({
      Key: key,
      UpdateExpression: b.updateExpression(),
      ConditionExpression: positionBelow(b, padded),
      ...b.attributes(),
    });
  }

  /**
   * Marks a shard retired (a parent shard after resharding, once a child reports): it no longer
   * holds the watermark back nor projects it forward. Idempotent.
   */
  async retireShard(shardId: string, retiredAt: number): Promise<void> {
    const b = new ExpressionBuilder();
    b.set(ATTR.kind, str(ITEM_KIND.SHARD))
      .set(ATTR.shardId, str(shardId))
      .set(ATTR.retired, { BOOL: true })
      .set(ATTR.retiredAt, num(retiredAt))
      .set(TABLE_KEYS.timeToLiveAttribute, num(expiresAt(retiredAt, this.#retentionMs)));
    await updateItem(
      this.#client,
      this.#tableName,
      {
        Key: {
          [TABLE_KEYS.partitionKey]: str(watermarkPartition(this.pipeline)),
          [TABLE_KEYS.sortKey]: str(shardSortKey(shardId)),
        },
        UpdateExpression: b.updateExpression(),
        ...b.attributes(),
      },
      this.stats,
    );
  }

  /**
   * The pipeline watermark, from one strongly consistent Query of the watermark partition and the
   * rules of `pipelineWatermark` (#watermark): min over the active shards' event clocks minus
   * `maxOutOfOrderness`; idle shards (silent for longer than `idleTimeout` and, with a `tailProbe`,
   * caught up) do not hold it back; every shard idle: the slowest clock runs on at wall-clock
   * speed; never below the committed watermark. With `openShards` and `tailProbe`, an open shard
   * that has not reported yet and holds records holds it at the committed watermark.
   *
   * @example
   * const { watermark } = await store.readWatermark({ maxOutOfOrderness: 30_000, idleTimeout: 60_000, now: Date.now() });
   */
  async readWatermark(options: ReadWatermarkOptions): Promise<PipelineWatermark> {
    const { maxOutOfOrderness, idleTimeout, now, tailProbe, onProbeError } = options;
    const shards: ShardWatermark[] = [];
    let committed: number | undefined;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#tableName,
              KeyConditionExpression: `${b.name(TABLE_KEYS.partitionKey)} = ${b.value(str(watermarkPartition(this.pipeline)))}`,
              ...b.attributes(),
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        this.stats,
      );
      for (const item of page.Items ?? []) {
        if (readString(item, TABLE_KEYS.sortKey) === PIPELINE_WATERMARK_SORT_KEY) {
          committed = readNumber(item, ATTR.watermark);
          continue;
        }
        const processedAt = readNumber(item, ATTR.processedAt);
        const retired = item[ATTR.retired]?.BOOL === true;
        if (processedAt === undefined && !retired) continue;
        shards.push({
          shardId: readString(item, ATTR.shardId) ?? '',
          // A shard that reported only filtered or invalid records has no event clock.
          maxEventTime: readNumber(item, ATTR.maxEventTime) ?? Number.NEGATIVE_INFINITY,
          processedAt: processedAt ?? Number.NEGATIVE_INFINITY,
          retired,
          streamArn: readString(item, ATTR.streamArn),
          lastSequenceNumber: unpadded(readString(item, ATTR.lastSequenceNumber)),
          idle: false,
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    // Open shards (listed with their parents): a parent whose child has reported is read to its
    // end — Lambda reads children only once their parents are done — so it is never behind (its
    // probe may fail: Kinesis drops a closed shard after the stream's retention). It goes idle
    // like any caught-up shard, its clock still counting when every shard is idle.
    const open =
      tailProbe === undefined || options.openShards === undefined
        ? []
        : await listOpenShards(shards, options.openShards, onProbeError);
    const reported = new Set(shards.map((s) => s.shardId));
    const finished = new Set(
      open.filter((o) => reported.has(o.shardId)).flatMap((o) => [...o.parents]),
    );
    const behind =
      tailProbe === undefined
        ? new Set<string>()
        : await shardsBehind(
            shards.filter((s) => !finished.has(s.shardId)),
            now,
            idleTimeout,
            tailProbe,
            onProbeError,
          );
    const pending =
      tailProbe === undefined
        ? []
        : await pendingShards(
            shards,
            open,
            options.readsFromStart === true,
            tailProbe,
            onProbeError,
          );
    const outcome = pipelineWatermark({
      shards: shards.map((s) => ({
        shardId: s.shardId,
        eventTime: Number.isFinite(s.maxEventTime) ? s.maxEventTime : undefined,
        processedAt: s.processedAt,
        retired: s.retired,
      })),
      behind,
      pending: pending.length,
      committed,
      now,
      maxOutOfOrderness,
      idleTimeout,
    });
    return {
      watermark: outcome.watermark,
      mode: outcome.mode,
      committed,
      shards: [...shards.map((s) => ({ ...s, idle: outcome.idle.has(s.shardId) })), ...pending],
    };
  }

  /**
   * Commits the pipeline watermark before closing windows under it, so it never goes back (a
   * shard returning from idle cannot reopen time that was closed). Returns whether it advanced.
   */
  async commitWatermark(watermark: number, committedAt: number): Promise<boolean> {
    const b = new ExpressionBuilder();
    // No TTL: the committed watermark never goes back, whatever expires around it (an item
    // written by an earlier version loses its TTL here).
    b.set(ATTR.kind, str(ITEM_KIND.PIPELINE))
      .set(ATTR.watermark, num(watermark))
      .set(ATTR.processedAt, num(committedAt))
      .remove(TABLE_KEYS.timeToLiveAttribute);
    return this.#conditionalWrite({
      Key: {
        [TABLE_KEYS.partitionKey]: str(watermarkPartition(this.pipeline)),
        [TABLE_KEYS.sortKey]: str(PIPELINE_WATERMARK_SORT_KEY),
      },
      UpdateExpression: b.updateExpression(),
      ConditionExpression: watermarkBelow(b, watermark),
      ...b.attributes(),
    });
  }

  /** A conditional write whose failed condition is an expected outcome: true if it was applied. */
  async #conditionalWrite(input: Omit<UpdateItemCommandInput, 'TableName'>): Promise<boolean> {
    return conditionalUpdate(this.#client, this.#tableName, input, this.stats);
  }
}

/** Sets a shard watermark item's event time, processing time and TTL (and what it is). */
function setShardTime(
  b: ExpressionBuilder,
  shardId: string,
  maxEventTime: number,
  processedAt: number,
): ExpressionBuilder {
  return b
    .set(ATTR.kind, str(ITEM_KIND.SHARD))
    .set(ATTR.shardId, str(shardId))
    .set(ATTR.maxEventTime, num(maxEventTime))
    .set(ATTR.processedAt, num(processedAt))
    .remove(TABLE_KEYS.timeToLiveAttribute);
}
