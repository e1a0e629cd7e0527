import {
  type AttributeValue,
  BatchGetItemCommand,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import { num, type RawItem, readNumber, readString, str } from './attributes';
import { backoff } from './backoff';
import { conditionalUpdate } from './conditionalUpdate';
import {
  ATTR,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_ITEMS,
  TABLE_KEYS,
  WINDOW_STATUS,
  WINDOW_STORE_DEFAULTS,
} from './constants';
import { dueIndexPages } from './dueIndexPages';
import { InvalidWindowStoreInputError, WindowStateConflictError } from './errors';
import { ExpressionBuilder } from './expressions';
import {
  assertPipelineName,
  closedWindowsPartition,
  dueSlicesPartition,
  expiresAt,
  lanePartition,
  packPartition,
  packSortKey,
  padTime,
  sliceSortKey,
  slicesPartition,
  windowSortKey,
} from './keys';
import { decodePack } from './packs/packCodec';
import { type PackPlan, planPacks } from './packs/planPacks';
import { countConflict, countRead, countWrite, emptyStats } from './requestStats';
import { retryTransactionConflicts } from './retryTransactionConflicts';
import { normalizeSequence } from './sequence';
import type {
  AccSet,
  ApplyDeltasOptions,
  ApplyDeltasResult,
  ClosedWindow,
  CloseOutcome,
  DynamoDBSender,
  EmitOutcome,
  FindDueWindowsOptions,
  MergeAccSets,
  PipelineWatermark,
  ReadWatermarkOptions,
  RejectedDelta,
  RejectionCause,
  ShardPosition,
  SliceDelta,
  WatermarkUpdate,
  WindowBounds,
  WindowContents,
  WindowRef,
  WindowStoreStats,
} from './types';
import { WatermarkStore } from './WatermarkStore';

/** Options of {@link PackStore}. */
export interface PackStoreOptions {
  /** DynamoDB client (low-level). */
  readonly client: DynamoDBSender;
  /** Name of the state table. */
  readonly tableName: string;
  /** Pipeline name; must not contain `#`. */
  readonly pipeline: string;
  /** Merges accumulator sets of this pipeline's aggregates (associative, commutative). */
  readonly merge: MergeAccSets;
  /** Slice length of the pipeline's windows, ms. */
  readonly sliceMs: number;
  /**
   * Longest window a slice belongs to, ms (hopping size): slices live until it ends.
   * @default sliceMs
   */
  readonly windowSizeMs?: number;
  /** @default 0 */
  readonly maxOutOfOrdernessMs?: number;
  /** @default 604800000 (7 days) */
  readonly retentionMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /**
   * Largest encoded pack part, bytes: a pack above it is split by key.
   * @default 358400 (350 KiB)
   */
  readonly maxItemBytes?: number;
  /**
   * Commit attempts of one lane range that meet other transactions before `WindowStateConflictError`.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * Sealed slices whose merged packs are kept in memory (hopping windows read a slice once per
   * window it belongs to). 0 disables the cache.
   * @default 64
   */
  readonly sliceCacheSize?: number;
}

/** Transaction items that are not packs: the lane row. */
const LANE_ITEMS = 1;
/** Request bytes of a transaction's keys, names and conditions per item, above its values. */
const ITEM_OVERHEAD_BYTES = 512;
/** Index pages one call reads at most (the rest waits for the next close or sweep). */
const MAX_INDEX_PAGES = 20;
const SLICE_KIND = 'slice';
const WINDOW_KIND = 'window';
const LANE_KIND = 'lane';
const CURSOR = 'cursor';
const BODY = 'b';
const OPENED = 'opened';
/** On a slice row: how many pack parts were committed to the slice. */
const PARTS = 'parts';

/** A lane transaction's outcome. */
type Commit =
  | { readonly outcome: 'committed' }
  | { readonly outcome: 'cursor-moved'; readonly cursor: string | undefined }
  | { readonly outcome: 'sealed'; readonly slices: readonly number[] }
  | { readonly outcome: 'conflict' };

/**
 * DynamoDB store of a tumbling or hopping pipeline in the **lane packs** layout
 * (docs/architecture.md, "State store"): per batch and lane, one transaction puts a pack per
 * slice (every key's accumulators of the batch's records in that slice, deflated), moves the
 * lane's cursor, and checks each slice is not sealed. Packs are never updated; closing a window
 * seals its slices, reads their packs (strongly consistent) and merges them per key.
 *
 * Exactly-once: the packs of lane L hold exactly L's records up to its cursor (each once), because
 * a batch commits its packs and the cursor's move from `c` on the condition "cursor is still `c`",
 * skips records ≤ `c`, and a sealed slice refuses the whole transaction. Refusals are reported
 * (`onRejected`) before the cursor moves past them.
 *
 * It has the handlers' `PipelineStore` surface, window operations per key as `WindowStore`'s.
 *
 * @example
 * const store = new PackStore({ client, tableName, pipeline: 'page-views', merge, sliceMs: 60_000 });
 * await store.applyDeltas(deltas, { onRejected: report });
 */
export class PackStore {
  readonly pipeline: string;
  readonly stats: WindowStoreStats = emptyStats();
  readonly retentionMs: number;

  readonly #client: DynamoDBSender;
  readonly #tableName: string;
  readonly #merge: MergeAccSets;
  readonly #sliceMs: number;
  readonly #windowSizeMs: number;
  readonly #maxOutOfOrdernessMs: number;
  readonly #clock: () => number;
  readonly #maxPartBytes: number;
  readonly #maxAttempts: number;
  readonly #sliceCacheSize: number;
  readonly #watermarks: WatermarkStore;
  /** Lane → cursor this instance last wrote or read (a stale one fails the condition, and is read). */
  readonly #cursors = new Map<string, string | undefined>();
  /** Slices known sealed (a seal is never undone). */
  readonly #sealed = new Set<number>();
  /** Sealed slices → the pack parts committed to them before the seal (from the seal's answer). */
  readonly #sealedParts = new Map<number, number>();
  /** Windows known CLOSED or EMITTED. */
  readonly #closed = new Set<string>();
  /** Sealed slices' merged packs, key → accumulators; least recently used first. */
  readonly #sliceContents = new Map<number, ReadonlyMap<string, AccSet>>();

  constructor(options: PackStoreOptions) {
    assertPipelineName(options.pipeline);
    this.pipeline = options.pipeline;
    this.#tableName = options.tableName;
    this.#merge = options.merge;
    this.#sliceMs = options.sliceMs;
    this.#windowSizeMs = options.windowSizeMs ?? options.sliceMs;
    this.#maxOutOfOrdernessMs = options.maxOutOfOrdernessMs ?? 0;
    this.retentionMs = options.retentionMs ?? WINDOW_STORE_DEFAULTS.retentionMs;
    this.#clock = options.clock ?? Date.now;
    this.#maxPartBytes = options.maxItemBytes ?? WINDOW_STORE_DEFAULTS.maxItemBytes;
    this.#maxAttempts = options.maxAttempts ?? WINDOW_STORE_DEFAULTS.maxAttempts;
    this.#sliceCacheSize = options.sliceCacheSize ?? 64;
    for (const [name, value, min] of [
      ['sliceMs', this.#sliceMs, 1],
      ['windowSizeMs', this.#windowSizeMs, this.#sliceMs],
      ['maxAttempts', this.#maxAttempts, 1],
      ['maxItemBytes', this.#maxPartBytes, 1024],
      ['sliceCacheSize', this.#sliceCacheSize, 0],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new InvalidWindowStoreInputError(
          `${name} must be an integer >= ${min}, got ${value}`,
          {
            pipeline: this.pipeline,
          },
        );
      }
    }
    this.#client = retryTransactionConflicts(options.client, this.#maxAttempts, this.stats);
    this.#watermarks = new WatermarkStore({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      retentionMs: this.retentionMs,
      stats: this.stats,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Batches: lane packs
  // ---------------------------------------------------------------------------------------------

  /**
   * Absorbs one batch: per lane, the records above the lane's cursor go into one pack per slice,
   * committed with the cursor's move in one transaction (several when the packs exceed a
   * transaction's 100 items or its bytes: each covers a contiguous run of the lane's records).
   * Records of a sealed slice (closed, or behind the committed watermark) are refused: reported to
   * `onRejected` before the cursor moves past them, and returned.
   *
   * @throws {WindowStateConflictError} a lane's transaction kept meeting other transactions.
   */
  async applyDeltas(
    deltas: readonly SliceDelta[],
    options: ApplyDeltasOptions = {},
  ): Promise<ApplyDeltasResult> {
    const counter = emptyStats();
    const byLane = new Map<string, SliceDelta[]>();
    for (const delta of deltas) {
      if (delta.sliceEnd <= delta.sliceStart) {
        throw new InvalidWindowStoreInputError(
          `slice end ${delta.sliceEnd} must be after its start ${delta.sliceStart}`,
          { pipeline: this.pipeline, key: delta.key, sliceStart: delta.sliceStart },
        );
      }
      const list = byLane.get(delta.lane) ?? [];
      list.push(delta);
      byLane.set(delta.lane, list);
    }
    const tally = { applied: 0, rejected: [] as RejectedDelta[] };
    for (const [lane, list] of byLane) await this.#applyLane(lane, list, counter, tally, options);
    const refused = new Set(tally.rejected.map((r) => `${r.key}\u0000${r.sliceStart}`));
    return {
      ...counter,
      items: new Set(deltas.map((d) => `${d.key}\u0000${d.sliceStart}`)).size,
      applied: tally.applied,
      skipped: Math.max(0, deltas.length - tally.applied - tally.rejected.length),
      sealed: refused.size,
      rejected: tally.rejected,
    };
  }

  async #applyLane(
    lane: string,
    laneDeltas: readonly SliceDelta[],
    counter: WindowStoreStats,
    tally: { applied: number; rejected: RejectedDelta[] },
    options: ApplyDeltasOptions,
  ): Promise<void> {
    let deltas = laneDeltas.map(normalized);
    const end = deltas.reduce(
      (max, d) => (compareSequenceNumbers(d.lastSeq, max) > 0 ? d.lastSeq : max),
      (deltas[0] as SliceDelta).lastSeq,
    );
    const read = await this.#cursor(lane, counter);
    let stored = read.cursor;
    let after = stored;
    // Whether `stored` was read from the table in this call (or a commit of this call set it): a
    // cached cursor may be stale, and refusing on it could report records another instance
    // already committed.
    let confirmed = !read.cached;
    let conflicts = 0;
    /** Reports refused deltas (their records in (`from`, `upto`]) before any commit passes them. */
    const refuse = async (
      refused: readonly SliceDelta[],
      from: string | undefined,
      upto: string | undefined,
      cause: RejectionCause,
    ): Promise<void> => {
      const rejected = refused.map((d) => ({
        key: d.key,
        sliceStart: d.sliceStart,
        sliceEnd: d.sliceEnd,
        lane,
        afterSeq: from,
        ...(upto === undefined ? {} : { uptoSeq: upto }),
        cause,
      }));
      // A retry skips what is ≤ the cursor: what it would not count is reported first.
      await options.onRejected?.(rejected);
      tally.rejected.push(...rejected);
    };
    while (deltas.length > 0 && (after === undefined || compareSequenceNumbers(after, end) < 0)) {
      let upto: string | undefined;
      /** Deltas whose records in this range alone are refused (one record too large). */
      const skip = new Set<SliceDelta>();
      let plan: PackPlan;
      for (;;) {
        const live = skip.size === 0 ? deltas : deltas.filter((d) => !skip.has(d));
        plan = planPacks(live, { after, upto }, this.#maxPartBytes);
        const sealed = plan.slices.filter((s) => this.#sealed.has(s.sliceStart));
        const fitting = plan.tooLarge.length === 0 && fits(plan);
        if ((sealed.length > 0 || !fitting) && !confirmed) {
          // Refusing, or cutting ranges, only on a cursor read from the table (after any seal
          // known here: what was committed to a slice before its seal is visible now).
          this.#cursors.delete(lane);
          stored = (await this.#cursor(lane, counter)).cursor;
          confirmed = true;
          if (
            stored !== undefined &&
            (after === undefined || compareSequenceNumbers(stored, after) > 0)
          )
            after = stored;
          if (after !== undefined && compareSequenceNumbers(after, end) >= 0) return;
          continue;
        }
        if (sealed.length > 0) {
          // A seal is permanent: every record of these deltas above the cursor is refused, now
          // and on any retry.
          const gone = new Set(sealed.flatMap((s) => s.deltas));
          await refuse([...gone], after, undefined, 'sealed');
          deltas = deltas.filter((d) => !gone.has(d));
          continue;
        }
        if (fitting) break;
        const cut = cutPoint(live, after, upto ?? end);
        if (cut !== undefined) {
          upto = cut;
          continue;
        }
        // One record is left in the range, and its own elements are too large for one item or
        // one transaction, in whatever batch it comes: refuse those elements, keep the rest.
        const single = upto ?? end;
        const refused =
          plan.tooLarge.length > 0 ? plan.tooLarge : plan.slices.flatMap((s) => s.deltas);
        await refuse(refused, after, single, 'full');
        for (const d of refused) skip.add(d);
        upto = single;
      }
      const next = upto ?? end;
      if (plan.slices.length === 0) {
        after = next;
        continue;
      }
      const commit = await this.#commit(lane, stored, next, plan, counter);
      if (commit.outcome === 'committed') {
        confirmed = true;
        stored = next;
        after = next;
        this.#cursors.set(lane, next);
        tally.applied += plan.slices.reduce((n, s) => n + s.deltas.length, 0);
      } else if (commit.outcome === 'cursor-moved') {
        // A duplicate or earlier invocation of this lane committed records up to its cursor.
        stored = commit.cursor;
        confirmed = true;
        this.#cursors.set(lane, stored);
        if (
          stored !== undefined &&
          (after === undefined || compareSequenceNumbers(stored, after) > 0)
        )
          after = stored;
      } else if (commit.outcome === 'sealed') {
        // The cursor condition held (the table confirmed it), and these slices are sealed.
        confirmed = true;
        for (const sliceStart of commit.slices) this.#sealed.add(sliceStart);
      } else {
        conflicts++;
        if (conflicts >= this.#maxAttempts) {
          throw new WindowStateConflictError(
            { pipeline: this.pipeline, key: lane, sliceStart: plan.slices[0]?.sliceStart ?? 0 },
            conflicts,
          );
        }
        await backoff(conflicts);
      }
    }
  }

  /** The lane's cursor: cached (`cached`), or one strongly consistent read of its row. */
  async #cursor(
    lane: string,
    counter: WindowStoreStats,
  ): Promise<{ readonly cursor: string | undefined; readonly cached: boolean }> {
    if (this.#cursors.has(lane)) return { cursor: this.#cursors.get(lane), cached: true };
    const out = await countRead(
      () =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#tableName,
            Key: this.#laneKey(lane),
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      counter,
      this.stats,
    );
    const cursor = out.Item === undefined ? undefined : readString(out.Item, CURSOR);
    this.#cursors.set(lane, cursor);
    return { cursor, cached: false };
  }

  /** One transaction: the lane row's cursor from `stored` to `next`, each slice's row, the packs. */
  async #commit(
    lane: string,
    stored: string | undefined,
    next: string,
    plan: PackPlan,
    counter: WindowStoreStats,
  ): Promise<Commit> {
    const now = this.#clock();
    const items: TransactWriteItem[] = [];
    const l = new ExpressionBuilder();
    l.set(ATTR.kind, str(LANE_KIND)).set(CURSOR, str(next));
    items.push({
      Update: {
        TableName: this.#tableName,
        Key: this.#laneKey(lane),
        UpdateExpression: l.updateExpression(),
        ConditionExpression:
          stored === undefined
            ? `attribute_not_exists(${l.name(CURSOR)})`
            : `${l.name(CURSOR)} = ${l.value(str(stored))}`,
        ...l.attributes(),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    for (const slice of plan.slices) {
      const b = new ExpressionBuilder();
      const index = TABLE_KEYS.dueIndex;
      b.set(ATTR.kind, str(SLICE_KIND))
        .set(ATTR.sliceStart, num(slice.sliceStart))
        .set(ATTR.sliceEnd, num(slice.sliceEnd))
        .setIfAbsent(OPENED, num(now))
        .add(PARTS, slice.parts.length)
        .setIfAbsent(index.partitionKey, str(dueSlicesPartition(this.pipeline)))
        .setIfAbsent(index.sortKey, str(padTime(slice.sliceEnd)))
        .setIfAbsent(TABLE_KEYS.timeToLiveAttribute, num(this.#expiresAt(slice.sliceEnd, now)));
      items.push({
        Update: {
          TableName: this.#tableName,
          Key: this.#sliceKey(slice.sliceStart),
          UpdateExpression: b.updateExpression(),
          ConditionExpression: `attribute_not_exists(${b.name(ATTR.sealedAt)})`,
          ...b.attributes(),
        },
      });
    }
    for (const slice of plan.slices) {
      for (const [part, body] of slice.parts.entries()) {
        items.push({
          Put: {
            TableName: this.#tableName,
            Item: {
              [TABLE_KEYS.partitionKey]: str(packPartition(this.pipeline, slice.sliceStart)),
              [TABLE_KEYS.sortKey]: str(packSortKey(lane, next, part)),
              [BODY]: { B: body },
              [TABLE_KEYS.timeToLiveAttribute]: num(this.#expiresAt(slice.sliceEnd, now)),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
          },
        });
      }
    }
    try {
      await countWrite(
        () =>
          this.#client.send(
            new TransactWriteItemsCommand({
              TransactItems: items,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.stats,
      );
      return { outcome: 'committed' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      countConflict(counter, this.stats);
      const reasons = error.CancellationReasons ?? [];
      const lost = reasons[0];
      if (lost?.Code === 'ConditionalCheckFailed') {
        const cursor = lost.Item === undefined ? undefined : readString(lost.Item, CURSOR);
        return { outcome: 'cursor-moved', cursor };
      }
      const sealed = plan.slices
        .filter((_, i) => reasons[LANE_ITEMS + i]?.Code === 'ConditionalCheckFailed')
        .map((s) => s.sliceStart);
      // Sealed slices count only when the cursor condition held (its reason is `None`): else the
      // table did not confirm the cursor the refusals would be reported on.
      if (sealed.length > 0 && (lost?.Code === undefined || lost.Code === 'None'))
        return { outcome: 'sealed', slices: sealed };
      if (reasons.some((r) => r.Code === 'TransactionConflict')) return { outcome: 'conflict' };
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reading windows
  // ---------------------------------------------------------------------------------------------

  /**
   * A key's window as the packs hold it now (strongly consistent): `undefined` when no pack of
   * its slices holds the key. For previews (`emit('update')`); final results come from sealed
   * slices.
   */
  async readWindow(key: string, start: number, end: number): Promise<WindowContents | undefined> {
    return (await this.readWindows([{ key, start, end }]))[0];
  }

  /**
   * Several keys' windows as the packs hold them now: each slice read once, however many of the
   * windows share it (a batch's previews touch every key of a slice).
   */
  async readWindows(windows: readonly WindowRef[]): Promise<Array<WindowContents | undefined>> {
    const counter = emptyStats();
    const slices = new Map<number, ReadonlyMap<string, AccSet>>();
    const out: Array<WindowContents | undefined> = [];
    for (const window of windows) {
      let acc: AccSet | undefined;
      const bounds: WindowBounds[] = [];
      for (const sliceStart of this.#slicesOf(window)) {
        let contents = slices.get(sliceStart);
        if (contents === undefined) {
          contents = await this.#readSlice(sliceStart, counter);
          slices.set(sliceStart, contents);
        }
        const value = contents.get(window.key);
        if (value === undefined) continue;
        acc = acc === undefined ? value : this.#merge(acc, value);
        bounds.push({ start: sliceStart, end: sliceStart + this.#sliceMs });
      }
      out.push(acc === undefined ? undefined : { acc, slices: bounds });
    }
    return out;
  }

  /**
   * Seals the slices of the given windows (a batch's slices behind the committed watermark),
   * reading nothing: one write per slice not known sealed.
   */
  async sealSlices(slices: readonly WindowBounds[], _sliceMs: number): Promise<void> {
    const starts = new Set<number>();
    for (const slice of slices) for (const s of this.#slicesOf(slice)) starts.add(s);
    await this.#seal([...starts], emptyStats());
  }

  /** Seals the window's slices (they take no more packs) and returns the key's contents. */
  async sealWindow(window: WindowRef, _sliceMs: number): Promise<WindowContents | undefined> {
    return (await this.sealWindows([window], _sliceMs))[0];
  }

  /**
   * Seals the slices of every window (one write per slice not known sealed, however many windows
   * share it), then reads each slice's packs once and merges them per key. After the seal no
   * transaction can add a pack, so every call returns the same contents.
   */
  async sealWindows(
    windows: readonly WindowRef[],
    _sliceMs: number,
  ): Promise<Array<WindowContents | undefined>> {
    const counter = emptyStats();
    const byWindow = new Map<string, ReadonlyMap<string, WindowContents>>();
    const out: Array<WindowContents | undefined> = [];
    for (const window of windows) {
      const id = windowId(window);
      let contents = byWindow.get(id);
      if (contents === undefined) {
        contents = await this.#sealedWindow(window, counter);
        byWindow.set(id, contents);
      }
      out.push(contents.get(window.key));
    }
    return out;
  }

  /** Every key's contents of a window, its slices sealed first. */
  async #sealedWindow(
    window: WindowBounds,
    counter: WindowStoreStats,
  ): Promise<ReadonlyMap<string, WindowContents>> {
    const slices = this.#slicesOf(window);
    await this.#seal(slices, counter);
    const merged = new Map<string, { acc: AccSet; slices: WindowBounds[] }>();
    for (const sliceStart of slices) {
      for (const [key, acc] of await this.#readSlice(sliceStart, counter)) {
        const bounds = { start: sliceStart, end: sliceStart + this.#sliceMs };
        const entry = merged.get(key);
        if (entry === undefined) merged.set(key, { acc, slices: [bounds] });
        else {
          entry.acc = this.#merge(entry.acc, acc);
          entry.slices.push(bounds);
        }
      }
    }
    return merged;
  }

  /**
   * Seals slices (idempotent: the first seal's time stays); one write per slice whose seal this
   * instance has not made or seen, which also returns how many pack parts the slice holds.
   */
  async #seal(sliceStarts: readonly number[], counter: WindowStoreStats): Promise<void> {
    const now = this.#clock();
    for (const sliceStart of sliceStarts) {
      if (this.#sealedParts.has(sliceStart)) continue;
      const sliceEnd = sliceStart + this.#sliceMs;
      const b = new ExpressionBuilder();
      b.set(ATTR.kind, str(SLICE_KIND))
        .set(ATTR.sliceStart, num(sliceStart))
        .set(ATTR.sliceEnd, num(sliceEnd))
        .setIfAbsent(ATTR.sealedAt, num(now))
        .setIfAbsent(TABLE_KEYS.timeToLiveAttribute, num(this.#expiresAt(sliceEnd, now)));
      const out = await countWrite(
        () =>
          this.#client.send(
            new UpdateItemCommand({
              TableName: this.#tableName,
              Key: this.#sliceKey(sliceStart),
              UpdateExpression: b.updateExpression(),
              ...b.attributes(),
              ReturnValues: 'ALL_NEW',
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.stats,
      );
      this.#sealed.add(sliceStart);
      this.#sealedParts.set(sliceStart, readNumber(out.Attributes ?? {}, PARTS) ?? 0);
    }
  }

  /**
   * A slice's packs merged per key (strongly consistent Query, paged). For a slice this instance
   * sealed, it waits until every pack part the seal counted is visible: a transaction's items
   * commit one by one, and a Query is read-committed per item, so a pack of a transaction that
   * committed on the slice row just before the seal could otherwise be missed. Sealed slices are
   * cached.
   *
   * @throws {WindowStateConflictError} the counted parts did not all appear within `maxAttempts`
   *   reads (nothing is emitted; the closer's invocation is retried).
   */
  async #readSlice(
    sliceStart: number,
    counter: WindowStoreStats,
  ): Promise<ReadonlyMap<string, AccSet>> {
    const cached = this.#sliceContents.get(sliceStart);
    if (cached !== undefined) {
      this.#sliceContents.delete(sliceStart);
      this.#sliceContents.set(sliceStart, cached);
      return cached;
    }
    const expected = this.#sealedParts.get(sliceStart);
    for (let attempt = 1; ; attempt++) {
      const { merged, parts } = await this.#queryPacks(sliceStart, counter);
      if (expected === undefined) return merged;
      if (parts >= expected) {
        if (this.#sliceCacheSize > 0) {
          this.#sliceContents.set(sliceStart, merged);
          if (this.#sliceContents.size > this.#sliceCacheSize) {
            const oldest = this.#sliceContents.keys().next().value;
            if (oldest !== undefined) this.#sliceContents.delete(oldest);
          }
        }
        return merged;
      }
      if (attempt >= this.#maxAttempts) {
        throw new WindowStateConflictError(
          { pipeline: this.pipeline, key: '', sliceStart },
          attempt,
        );
      }
      await backoff(attempt);
    }
  }

  /** One read of a slice's packs: merged per key, and how many parts there were. */
  async #queryPacks(
    sliceStart: number,
    counter: WindowStoreStats,
  ): Promise<{ merged: Map<string, AccSet>; parts: number }> {
    const merged = new Map<string, AccSet>();
    let parts = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#tableName,
              KeyConditionExpression: `${b.name(TABLE_KEYS.partitionKey)} = ${b.value(str(packPartition(this.pipeline, sliceStart)))}`,
              ...b.attributes(),
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.stats,
      );
      for (const item of page.Items ?? []) {
        const body = item[BODY]?.B;
        if (body === undefined) continue;
        parts++;
        for (const [key, acc] of decodePack(body)) {
          const before = merged.get(key);
          merged.set(key, before === undefined ? acc : this.#merge(before, acc));
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { merged, parts };
  }

  // ---------------------------------------------------------------------------------------------
  // Closing and emission (window rows; per-key refs for the handlers)
  // ---------------------------------------------------------------------------------------------

  /**
   * Windows due under `watermark` (end ≤ watermark) that are not CLOSED, found through the slice
   * rows still in the due index: at most `limit` windows, each returned once per key its packs
   * hold (every key of a window, whatever `limit`). Their slices are sealed here — every one ends
   * at or before the watermark, so nothing more may join them — and read once. Slices whose every
   * window is closed leave the index.
   */
  async findDueWindows(watermark: number, options: FindDueWindowsOptions): Promise<WindowRef[]> {
    const limit = options.limit ?? 100;
    const counter = emptyStats();
    const windows = new Map<string, WindowBounds>();
    const slices: Array<{ sliceStart: number; windows: WindowBounds[] }> = [];
    let pages = 0;
    for await (const items of dueIndexPages({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      dueBuckets: 1,
      partition: (pipeline) => dueSlicesPartition(pipeline),
      upTo: watermark,
      pageLimit: () => 100,
      // A page cap: another pipeline's role could list entries under this index partition (they
      // are dropped, being foreign, but would be paged through on every close).
      wantsMore: () => pages++ < MAX_INDEX_PAGES && windows.size < limit * 4,
      counters: [counter, this.stats],
      ownPrefix: slicesPartition(this.pipeline),
    })) {
      for (const item of items) {
        const sliceStart = readNumber(item, ATTR.sliceStart);
        const sliceEnd = readNumber(item, ATTR.sliceEnd);
        if (sliceStart === undefined || sliceEnd === undefined) continue;
        const all = options.windowsOfSlice(sliceStart, sliceEnd);
        slices.push({ sliceStart, windows: [...all] });
        for (const w of all) if (w.end <= watermark) windows.set(windowId(w), w);
      }
    }
    const closed = await this.#closedOf([...windows.values()], counter);
    // Housekeeping: a slice whose every window is due and closed has nothing left to do.
    for (const slice of slices) {
      if (slice.windows.every((w) => w.end <= watermark && closed.has(windowId(w))))
        await this.#leaveDueIndex(slice.sliceStart, counter);
    }
    const due = [...windows.values()]
      .filter((w) => !closed.has(windowId(w)))
      .sort((a, b) => a.end - b.end || a.start - b.start)
      .slice(0, limit);
    const refs: WindowRef[] = [];
    for (const w of due) {
      const contents = await this.#sealedWindow(w, counter);
      for (const key of [...contents.keys()].sort()) refs.push({ key, start: w.start, end: w.end });
    }
    return refs;
  }

  /** Which of `windows` have a CLOSED or EMITTED row (known ones from memory, the rest read). */
  async #closedOf(
    windows: readonly WindowBounds[],
    counter: WindowStoreStats,
  ): Promise<Set<string>> {
    const closed = new Set<string>();
    const unknown = windows.filter((w) => {
      const known = this.#closed.has(windowId(w));
      if (known) closed.add(windowId(w));
      return !known;
    });
    for (const [id] of await this.#statusOf(unknown, counter)) {
      closed.add(id);
      this.#closed.add(id);
    }
    return closed;
  }

  /** The status (CLOSED or EMITTED) of each window that has a row: consistent BatchGetItems of 100. */
  async #statusOf(
    windows: readonly WindowBounds[],
    counter: WindowStoreStats,
  ): Promise<Map<string, string>> {
    const status = new Map<string, string>();
    for (let i = 0; i < windows.length; i += 100) {
      let keys: RawItem[] = windows.slice(i, i + 100).map((w) => this.#windowKey(w));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await backoff(attempt);
        const out = await countRead(
          () =>
            this.#client.send(
              new BatchGetItemCommand({
                RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } },
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          counter,
          this.stats,
        );
        for (const item of out.Responses?.[this.#tableName] ?? []) {
          const start = readNumber(item, ATTR.windowStart);
          const end = readNumber(item, ATTR.windowEnd);
          const value = readString(item, ATTR.status);
          if (start === undefined || end === undefined || item[ATTR.closedAt] === undefined)
            continue;
          status.set(windowId({ start, end }), value ?? WINDOW_STATUS.CLOSED);
        }
        keys = (out.UnprocessedKeys?.[this.#tableName]?.Keys ?? []) as RawItem[];
      }
    }
    return status;
  }

  /**
   * Closes each distinct window of `windows` (OPEN → CLOSED, one conditional write): exactly one
   * caller wins a window, and gets `closed` for every key of it.
   */
  async closeWindows(windows: readonly WindowRef[], closedAt: number): Promise<CloseOutcome[]> {
    const outcomes = new Map<string, CloseOutcome>();
    for (const window of windows) {
      const id = windowId(window);
      if (outcomes.has(id)) continue;
      const index = TABLE_KEYS.dueIndex;
      const b = new ExpressionBuilder();
      b.set(ATTR.kind, str(WINDOW_KIND))
        .set(ATTR.windowStart, num(window.start))
        .set(ATTR.windowEnd, num(window.end))
        .set(ATTR.status, str(WINDOW_STATUS.CLOSED))
        .set(ATTR.closedAt, num(closedAt))
        .set(index.partitionKey, str(closedWindowsPartition(this.pipeline)))
        .set(index.sortKey, str(padTime(closedAt)))
        .set(TABLE_KEYS.timeToLiveAttribute, num(this.#expiresAt(window.end, closedAt)));
      const won = await conditionalUpdate(
        this.#client,
        this.#tableName,
        {
          Key: this.#windowKey(window),
          UpdateExpression: b.updateExpression(),
          ConditionExpression: `attribute_not_exists(${b.name(ATTR.closedAt)})`,
          ...b.attributes(),
        },
        this.stats,
      );
      this.#closed.add(id);
      outcomes.set(id, won ? 'closed' : 'already-closed');
    }
    return windows.map((w) => outcomes.get(windowId(w)) as CloseOutcome);
  }

  /** {@link closeWindows} of one window. */
  async closeWindow(window: WindowRef, closedAt: number): Promise<CloseOutcome> {
    return (await this.closeWindows([window], closedAt))[0] as CloseOutcome;
  }

  /** {@link markWindowsEmitted} of one window. */
  async markEmitted(window: WindowRef, emittedAt: number): Promise<EmitOutcome> {
    return (await this.markWindowsEmitted([window], emittedAt))[0] as EmitOutcome;
  }

  /** Marks each distinct window EMITTED (it leaves the repair index). */
  async markWindowsEmitted(
    windows: readonly WindowRef[],
    emittedAt: number,
  ): Promise<EmitOutcome[]> {
    const outcomes = new Map<string, EmitOutcome>();
    for (const window of windows) {
      const id = windowId(window);
      if (outcomes.has(id)) continue;
      const index = TABLE_KEYS.dueIndex;
      const b = new ExpressionBuilder();
      b.set(ATTR.status, str(WINDOW_STATUS.EMITTED))
        .set(ATTR.emittedAt, num(emittedAt))
        .remove(index.partitionKey)
        .remove(index.sortKey);
      const marked = await conditionalUpdate(
        this.#client,
        this.#tableName,
        {
          Key: this.#windowKey(window),
          UpdateExpression: b.updateExpression(),
          ConditionExpression: `attribute_exists(${b.name(ATTR.closedAt)}) AND ${b.name(ATTR.status)} <> ${b.value(str(WINDOW_STATUS.EMITTED))}`,
          ...b.attributes(),
        },
        this.stats,
      );
      outcomes.set(id, marked ? 'emitted' : 'already-emitted');
    }
    return windows.map((w) => outcomes.get(windowId(w)) as EmitOutcome);
  }

  /**
   * Windows CLOSED at or before `closedBefore` and never marked EMITTED (a closer died in
   * between), at most `limit` windows, once per key their sealed packs hold.
   */
  async findClosedNotEmitted(closedBefore: number, limit = 100): Promise<ClosedWindow[]> {
    const counter = emptyStats();
    const found: Array<WindowBounds & { closedAt: number }> = [];
    let pages = 0;
    for await (const items of dueIndexPages({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      dueBuckets: 1,
      partition: (pipeline) => closedWindowsPartition(pipeline),
      upTo: closedBefore,
      pageLimit: () => limit - found.length,
      wantsMore: () => pages++ < MAX_INDEX_PAGES && found.length < limit,
      counters: [counter, this.stats],
      ownPrefix: slicesPartition(this.pipeline),
    })) {
      for (const item of items) {
        const start = readNumber(item, ATTR.windowStart);
        const end = readNumber(item, ATTR.windowEnd);
        const closedAt = Number(readString(item, TABLE_KEYS.dueIndex.sortKey));
        if (start === undefined || end === undefined || found.length >= limit) continue;
        found.push({ start, end, closedAt });
      }
    }
    // The index is eventually consistent: a window marked EMITTED a moment ago may still be in
    // it. Its row says (one consistent read), so a repair run does not emit it again.
    const status = await this.#statusOf(found, counter);
    const refs: ClosedWindow[] = [];
    for (const w of found) {
      if (status.get(windowId(w)) !== WINDOW_STATUS.CLOSED) continue;
      const contents = await this.#sealedWindow(w, counter);
      for (const key of [...contents.keys()].sort()) refs.push({ key, ...w });
    }
    return refs;
  }

  /** Slices whose last window is emitted leave the due index (one write per distinct slice). */
  async leaveDueIndexAll(
    slices: ReadonlyArray<{ readonly key: string; readonly sliceStart: number }>,
  ): Promise<void> {
    const counter = emptyStats();
    for (const sliceStart of new Set(slices.map((s) => s.sliceStart)))
      await this.#leaveDueIndex(sliceStart, counter);
  }

  async #leaveDueIndex(sliceStart: number, counter: WindowStoreStats): Promise<void> {
    const index = TABLE_KEYS.dueIndex;
    const b = new ExpressionBuilder();
    b.remove(index.partitionKey).remove(index.sortKey);
    await conditionalUpdate(
      this.#client,
      this.#tableName,
      {
        Key: this.#sliceKey(sliceStart),
        UpdateExpression: b.updateExpression(),
        ConditionExpression: `attribute_exists(${b.name(index.partitionKey)})`,
        ...b.attributes(),
      },
      counter,
      this.stats,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Watermarks (rows in `WatermarkStore`; the policy in #watermark)
  // ---------------------------------------------------------------------------------------------

  /** See {@link WatermarkStore.updateShardWatermark}. */
  updateShardWatermark(
    shardId: string,
    maxEventTime: number | undefined,
    processedAt: number,
    position?: Pick<ShardPosition, 'streamArn' | 'sequenceNumber'>,
  ): Promise<WatermarkUpdate> {
    return this.#watermarks.updateShardWatermark(shardId, maxEventTime, processedAt, position);
  }

  /** See {@link WatermarkStore.retireShard}. */
  retireShard(shardId: string, retiredAt: number): Promise<void> {
    return this.#watermarks.retireShard(shardId, retiredAt);
  }

  /** See {@link WatermarkStore.readWatermark}. */
  readWatermark(options: ReadWatermarkOptions): Promise<PipelineWatermark> {
    return this.#watermarks.readWatermark(options);
  }

  /** See {@link WatermarkStore.commitWatermark}. */
  commitWatermark(watermark: number, committedAt: number): Promise<boolean> {
    return this.#watermarks.commitWatermark(watermark, committedAt);
  }

  // ---------------------------------------------------------------------------------------------
  // Keys and requests
  // ---------------------------------------------------------------------------------------------

  /** Slice starts of a window. */
  #slicesOf(window: WindowBounds): number[] {
    const starts: number[] = [];
    for (let s = window.start; s < window.end; s += this.#sliceMs) starts.push(s);
    return starts;
  }

  /** TTL of a slice's items: its last window's end + out-of-orderness + retention. */
  #expiresAt(sliceEnd: number, now: number): number {
    const lastWindowEnd = sliceEnd - this.#sliceMs + this.#windowSizeMs;
    return expiresAt(lastWindowEnd + this.#maxOutOfOrdernessMs, this.retentionMs, now);
  }

  #laneKey(lane: string): RawItem {
    return {
      [TABLE_KEYS.partitionKey]: str(lanePartition(this.pipeline)),
      [TABLE_KEYS.sortKey]: str(lane),
    };
  }

  #sliceKey(sliceStart: number): RawItem {
    return {
      [TABLE_KEYS.partitionKey]: str(slicesPartition(this.pipeline)),
      [TABLE_KEYS.sortKey]: str(sliceSortKey(sliceStart)),
    };
  }

  #windowKey(window: WindowBounds): RawItem {
    return {
      [TABLE_KEYS.partitionKey]: str(slicesPartition(this.pipeline)),
      [TABLE_KEYS.sortKey]: str(windowSortKey(window.start, window.end)),
    };
  }
}

const windowId = (w: WindowBounds): string => `${w.start}\u0000${w.end}`;

/** True when a plan's transaction stays within DynamoDB's item and byte limits. */
function fits(plan: PackPlan): boolean {
  const items = LANE_ITEMS + plan.slices.reduce((n, s) => n + 1 + s.parts.length, 0);
  return (
    items <= MAX_TRANSACTION_ITEMS &&
    plan.bytes + items * ITEM_OVERHEAD_BYTES <= MAX_TRANSACTION_BYTES
  );
}

/**
 * A sequence number strictly inside (`after`, `end`) at which a lane's records can be cut in two
 * ranges: the median of the deltas' records there (their bounds, when a delta does not list its
 * records); `undefined` when there is none (one record's elements alone fill the range).
 */
function cutPoint(
  deltas: readonly SliceDelta[],
  after: string | undefined,
  end: string,
): string | undefined {
  const inside = new Set<string>();
  for (const d of deltas) {
    for (const s of d.sequences?.() ?? [d.firstSeq, d.lastSeq]) {
      if (
        (after === undefined || compareSequenceNumbers(s, after) > 0) &&
        compareSequenceNumbers(s, end) < 0
      )
        inside.add(normalizeSequence(s));
    }
  }
  const sorted = [...inside].sort(compareSequenceNumbers);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The delta with its sequence numbers normalized (no leading zeros), so they compare as numbers. */
function normalized(delta: SliceDelta): SliceDelta {
  const sequences = delta.sequences;
  return {
    key: delta.key,
    sliceStart: delta.sliceStart,
    sliceEnd: delta.sliceEnd,
    lane: delta.lane,
    firstSeq: normalizeSequence(delta.firstSeq),
    lastSeq: normalizeSequence(delta.lastSeq),
    acc: delta.acc,
    recompute: (afterSeq, uptoSeq) => delta.recompute(afterSeq, uptoSeq),
    ...(sequences === undefined
      ? {}
      : { sequences: () => sequences.call(delta).map(normalizeSequence) }),
  };
}
