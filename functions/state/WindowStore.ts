/*
 * Over 500 lines, on purpose: this is the items layout (`layout: 'items'`), one item per (key,
 * slice) read-merge-written per batch — the store before lane packs, kept whole and unchanged as
 * the bar the bench measures lane packs against (docs/benchmarks.md) and for its own suites. Its
 * watermark rows moved to `WatermarkStore`. New work goes to `PackStore` and `functions/state/packs`.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { assertItemSize } from './assertItemSize';
import {
  accAttr,
  encodeAcc,
  fenceAttr,
  num,
  type RawItem,
  readAccSet,
  readFences,
  readNumber,
  readString,
  str,
} from './attributes';
import { backoff } from './backoff';
import { batchGetConsistent } from './batchGetConsistent';
import { conditionalUpdate, updateItem } from './conditionalUpdate';
import {
  ATTR,
  DYNAMODB_MAX_ITEM_BYTES,
  ITEM_KIND,
  TABLE_KEYS,
  WINDOW_STATUS,
  WINDOW_STORE_DEFAULTS,
} from './constants';
import { dueIndexPages } from './dueIndexPages';
import {
  InvalidWindowStoreInputError,
  ItemTooLargeError,
  WindowNotClosedError,
  WindowStateConflictError,
  type WindowStoreErrorDetails,
} from './errors';
import {
  allOf,
  ExpressionBuilder,
  itemExists,
  laneFenceBelow,
  laneFenceIs,
  sliceNotSealed,
  versionIs,
  windowIsClosed,
  windowIsOpen,
} from './expressions';
import {
  assertPipelineName,
  bucketOf,
  closedPartition,
  duePartition,
  expiresAt,
  keyPartition,
  padTime,
  sliceSortKey,
  windowSortKey,
} from './keys';
import { mapBounded } from './mapBounded';
import { type LaneWork, planSliceWrite, type SliceWritePlan } from './planSliceWrite';
import { countConflict, countRead, countWrite, emptyStats } from './requestStats';
import { retryTransactionConflicts } from './retryTransactionConflicts';
import { compareSequences, normalizeSequence, padSequence } from './sequence';
import { type GroupedUpdate, transactUpdates } from './transactUpdates';
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
  WindowStoreOptions,
  WindowStoreStats,
} from './types';
import { WatermarkStore } from './WatermarkStore';

/** Everything one batch does to one (key, slice) item. */
interface ItemWork {
  readonly id: string;
  readonly key: string;
  readonly sliceStart: number;
  readonly sliceEnd: number;
  readonly lanes: Map<string, LaneWork>;
}

/** What the store knows about a slice item; `version === undefined` means the item is absent. */
interface SliceImage {
  readonly version: number | undefined;
  readonly acc: AccSet | undefined;
  /** Lane → padded fence. */
  readonly fences: ReadonlyMap<string, string>;
  /** A closer sealed the slice: it accepts no more records. */
  readonly sealed?: boolean;
  /** Sealed because it was full (see `#fill`), not by a closer. */
  readonly full?: boolean;
}

type ApplyOutcome = 'applied' | 'skipped' | 'sealed';

/** A slice item's planned write, and (non-additive items) the image it makes. */
interface SliceAttempt {
  readonly update: GroupedUpdate;
  readonly next?: SliceImage;
}

type WritePlan = SliceWritePlan;

const ABSENT: SliceImage = { version: undefined, acc: undefined, fences: new Map() };

function isItemSizeError(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ValidationException' &&
    /item size (has )?exceeded/i.test(error.message)
  );
}

/**
 * How a window's status is identified in memory: its status item's sort key and its key, as
 * `#readStatuses` builds it from the items it reads.
 */
const statusId = (key: string, window: WindowBounds): string =>
  windowSortKey(window.start, window.end) + key;

/**
 * DynamoDB window store of one pipeline: slice state with per-lane fencing, shard watermarks,
 * and the OPEN → CLOSED → EMITTED window protocol. See docs/architecture.md, "State store".
 *
 * Slice writes (`applyDeltas`) give the effect of exactly-once: every item remembers, per source
 * lane, the highest sequence number it has absorbed (its fence), and every write is conditioned
 * on that fence, so retries, bisected retries, partial replays and duplicate invocations apply
 * each record to each item exactly once.
 *
 * @example
 * const store = new WindowStore({
 *   client: new DynamoDBClient({}),
 *   tableName: process.env.STATE_TABLE!,
 *   pipeline: 'page-views',
 *   merge: mergeAccs,
 *   additive: new Set(['views']),
 * });
 * await store.applyDeltas(deltas);
 * await store.updateShardWatermark('shardId-000000000000', maxEventTime, Date.now());
 */
export class WindowStore {
  /** Pipeline this store holds state for. */
  readonly pipeline: string;
  /** Requests made since construction (all methods). */
  readonly stats: WindowStoreStats = emptyStats();
  /** How long state is kept after its window ends (ms): records further behind are EXPIRED. */
  readonly retentionMs: number;

  readonly #client: DynamoDBSender;
  readonly #tableName: string;
  readonly #merge: MergeAccSets;
  readonly #additive: ReadonlySet<string>;
  readonly #maxOutOfOrdernessMs: number;
  readonly #windowSizeMs: number | undefined;
  readonly #retentionMs: number;
  readonly #clock: () => number;
  readonly #maxItemBytes: number;
  readonly #concurrency: number;
  readonly #maxAttempts: number;
  readonly #dueBuckets: number;
  readonly #cacheSize: number;
  readonly #groupWrites: boolean;
  readonly #cache = new Map<string, SliceImage>();
  /** Windows known CLOSED or EMITTED (a status never goes back), so their status is not read again. */
  readonly #closed = new Set<string>();
  readonly #watermarks: WatermarkStore;

  constructor(options: WindowStoreOptions) {
    assertPipelineName(options.pipeline);
    this.pipeline = options.pipeline;
    this.#tableName = options.tableName;
    this.#merge = options.merge;
    this.#additive = options.additive;
    this.#maxOutOfOrdernessMs = options.maxOutOfOrdernessMs ?? 0;
    this.#windowSizeMs = options.windowSizeMs;
    this.#retentionMs = options.retentionMs ?? WINDOW_STORE_DEFAULTS.retentionMs;
    this.retentionMs = this.#retentionMs;
    this.#clock = options.clock ?? Date.now;
    this.#maxItemBytes = options.maxItemBytes ?? WINDOW_STORE_DEFAULTS.maxItemBytes;
    this.#concurrency = options.concurrency ?? WINDOW_STORE_DEFAULTS.concurrency;
    this.#maxAttempts = options.maxAttempts ?? WINDOW_STORE_DEFAULTS.maxAttempts;
    this.#client = retryTransactionConflicts(options.client, this.#maxAttempts, this.stats);
    this.#dueBuckets = options.dueBuckets ?? WINDOW_STORE_DEFAULTS.dueBuckets;
    this.#cacheSize = options.cacheSize ?? WINDOW_STORE_DEFAULTS.cacheSize;
    this.#groupWrites = options.groupWrites ?? WINDOW_STORE_DEFAULTS.groupWrites;
    this.#watermarks = new WatermarkStore({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      retentionMs: this.#retentionMs,
      stats: this.stats,
    });
    for (const [name, value, min] of [
      ['concurrency', this.#concurrency, 1],
      ['maxAttempts', this.#maxAttempts, 1],
      ['dueBuckets', this.#dueBuckets, 1],
      ['cacheSize', this.#cacheSize, 0],
    ] as const) {
      if (!Number.isInteger(value) || value < min) {
        throw new InvalidWindowStoreInputError(
          `${name} must be an integer >= ${min}, got ${value}`,
          {
            pipeline: this.pipeline,
          },
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Slice state
  // ---------------------------------------------------------------------------------------------

  /**
   * Absorbs one batch's pre-aggregated contribution: one conditional write per touched
   * (key, slice) item, at most `concurrency` in flight. Safe to call again with the same or an
   * overlapping batch (retry, bisect, replay from a sequence number, duplicate invocation): each
   * item absorbs, per lane, only the records above its fence.
   *
   * Items whose accumulators are all additive take the blind `ADD` fast path (no read). Items
   * holding any other accumulator are read-merge-written, conditioned on `version`; the last image
   * written is cached so a warm instance usually skips the read.
   *
   * @throws {ItemTooLargeError} an item would exceed `maxItemBytes` (nothing written for it).
   * @throws {WindowStateConflictError} an item kept changing for `maxAttempts` cycles.
   *
   * @example
   * const result = await store.applyDeltas(deltas);
   * result.writeRequests; // <= number of distinct (key, slice) on a first delivery
   */
  async applyDeltas(
    deltas: readonly SliceDelta[],
    options: ApplyDeltasOptions = {},
  ): Promise<ApplyDeltasResult> {
    const counter = emptyStats();
    const items = this.#groupDeltas(deltas);
    const rejected: RejectedDelta[] = [];
    const outcomes: Array<ApplyOutcome | undefined> = new Array(items.length).fill(undefined);
    if (this.#groupWrites && items.length > 1)
      await this.#applyGrouped(items, outcomes, counter, rejected);
    // What no transaction applied takes the one-item path, which reports conflicts, sealed
    // slices and sizes item by item.
    const rest = [...outcomes.keys()].filter((i) => outcomes[i] === undefined);
    await mapBounded(rest, this.#concurrency, async (i) => {
      outcomes[i] = await this.#applyOne(items[i] as ItemWork, counter, rejected);
    });
    const applied = outcomes.filter((o) => o === 'applied').length;
    const sealed = outcomes.filter((o) => o === 'sealed').length;
    if (rejected.length > 0) await options.onRejected?.(rejected);
    return {
      ...counter,
      items: items.length,
      applied,
      skipped: items.length - applied - sealed,
      sealed,
      rejected,
    };
  }

  /**
   * Reads a window's state: merges every slice item with `sliceStart` in [start, end), using one
   * (paginated) strongly consistent Query. `undefined` when the window has no slice.
   *
   * @example
   * const contents = await store.readWindow('/home', start, start + 60_000);
   */
  async readWindow(key: string, start: number, end: number): Promise<WindowContents | undefined> {
    const counter = emptyStats();
    let acc: AccSet | undefined;
    const slices: WindowBounds[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#tableName,
              KeyConditionExpression: `${b.name(TABLE_KEYS.partitionKey)} = ${b.value(str(keyPartition(this.pipeline, key)))} AND ${b.name(TABLE_KEYS.sortKey)} BETWEEN ${b.value(str(sliceSortKey(start)))} AND ${b.value(str(sliceSortKey(Math.max(start, end - 1))))}`,
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
        const sliceAcc = readAccSet(item);
        if (sliceAcc === undefined) continue;
        acc = acc === undefined ? sliceAcc : this.#merge(acc, sliceAcc);
        slices.push({
          start: readNumber(item, ATTR.sliceStart) ?? 0,
          end: readNumber(item, ATTR.sliceEnd) ?? 0,
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return acc === undefined ? undefined : { acc, slices };
  }

  /**
   * Seals a window's slices and reads its final contents. Every slice in `[start, end)` that is
   * not sealed yet gets `sealed` (one unconditional write each, creating a stub for an absent
   * slice, returning the item as sealed); from then on every slice write fails its condition and
   * the store reports the records as rejected (LATE). The contents returned are therefore final:
   * a closer, a sweeper repairing it, or any number of them, all read the same values.
   *
   * Slices sealed by an earlier window's closer are only read (hopping windows closed in end
   * order cost one seal write each). Call it after `closeWindow` won (or for a window found by
   * `findClosedNotEmitted`), never on an open window.
   *
   * @param window - the window (key and bounds)
   * @param sliceMs - slice width; `end - start` must be a multiple of it
   * @returns the merged contents, `undefined` when no slice holds a record
   * @example
   * const contents = await store.sealWindow({ key: '/home', start, end }, 60_000);
   */
  async sealWindow(window: WindowRef, sliceMs: number): Promise<WindowContents | undefined> {
    const counter = emptyStats();
    const items = await this.#querySlices(window, counter);
    await mapBounded(
      this.#unsealed(window, sliceMs, items),
      this.#concurrency,
      async (sliceStart) => {
        const b = this.#sealUpdate(window, sliceStart, sliceMs);
        const out = await countWrite(
          () =>
            this.#client.send(
              new UpdateItemCommand({
                TableName: this.#tableName,
                Key: this.#sliceKey({ key: window.key, sliceStart }),
                UpdateExpression: b.updateExpression(),
                ...b.attributes(),
                ReturnValues: 'ALL_NEW',
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          counter,
          this.stats,
        );
        if (out.Attributes !== undefined) items.set(sliceStart, out.Attributes);
      },
    );
    return this.#contentsOf(items, sliceMs);
  }

  /**
   * Seals and reads several CLOSED windows, each with the same result as `sealWindow`, in as few
   * writes as possible: one Query per window, then the seals of all their unsealed slices grouped
   * into `TransactWriteItems` (see `groupWrites`), each conditioned on the slice being as read
   * (its `version`, or absent), so the contents read are the sealed ones. A window whose seals did
   * not all apply (a slice written or sealed since the read) is sealed again by `sealWindow`.
   *
   * @returns each window's contents, in order (`undefined` when no slice holds a record).
   * @example
   * const contents = await store.sealWindows(won, 60_000);
   */
  /** Seals slices (windows of one slice each), one `sealWindow` each. */
  async sealSlices(slices: readonly WindowRef[], sliceMs: number): Promise<void> {
    for (const slice of slices) await this.sealWindow(slice, sliceMs);
  }

  /** `readWindow` of several windows. */
  async readWindows(windows: readonly WindowRef[]): Promise<Array<WindowContents | undefined>> {
    const out: Array<WindowContents | undefined> = [];
    for (const w of windows) out.push(await this.readWindow(w.key, w.start, w.end));
    return out;
  }

  async sealWindows(
    windows: readonly WindowRef[],
    sliceMs: number,
  ): Promise<Array<WindowContents | undefined>> {
    if (!this.#groupWrites || windows.length < 2)
      return mapBounded(windows, this.#concurrency, (w) => this.sealWindow(w, sliceMs));
    const counter = emptyStats();
    const reads = await mapBounded(windows, this.#concurrency, (w) =>
      this.#querySlices(w, counter),
    );
    // One seal per slice, however many of the windows share it (hopping windows do).
    const seals = new Map<string, { update: GroupedUpdate; windows: number[] }>();
    for (const [i, window] of windows.entries()) {
      const items = reads[i] as Map<number, RawItem>;
      for (const sliceStart of this.#unsealed(window, sliceMs, items)) {
        const id = this.#sliceId(window.key, sliceStart);
        const known = seals.get(id);
        if (known !== undefined) {
          known.windows.push(i);
          continue;
        }
        const item = items.get(sliceStart);
        const b = this.#sealUpdate(window, sliceStart, sliceMs);
        const condition = versionIs(
          b,
          item === undefined ? undefined : readNumber(item, ATTR.version),
        );
        seals.set(id, {
          update: {
            Key: this.#sliceKey({ key: window.key, sliceStart }),
            UpdateExpression: b.updateExpression(),
            ConditionExpression: condition,
            ...b.attributes(),
          },
          windows: [i],
        });
      }
    }
    const list = [...seals.values()];
    const applied =
      list.length === 1
        ? [await this.#conditionalWrite((list[0] as (typeof list)[0]).update, counter)]
        : await this.#grouped(
            list.map((seal) => seal.update),
            counter,
          );
    const again = new Set<number>();
    for (const [j, seal] of list.entries()) {
      if (applied[j] !== true) for (const i of seal.windows) again.add(i);
    }
    return mapBounded(windows, this.#concurrency, async (window, i) =>
      again.has(i)
        ? this.sealWindow(window, sliceMs)
        : this.#contentsOf(reads[i] as Map<number, RawItem>, sliceMs),
    );
  }

  /** A window's slice items by slice start: one (paginated) strongly consistent Query. */
  async #querySlices(window: WindowRef, counter: WindowStoreStats): Promise<Map<number, RawItem>> {
    const items = new Map<number, RawItem>();
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#tableName,
              KeyConditionExpression: `${b.name(TABLE_KEYS.partitionKey)} = ${b.value(str(keyPartition(this.pipeline, window.key)))} AND ${b.name(TABLE_KEYS.sortKey)} BETWEEN ${b.value(str(sliceSortKey(window.start)))} AND ${b.value(str(sliceSortKey(Math.max(window.start, window.end - 1))))}`,
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
        const sliceStart = readNumber(item, ATTR.sliceStart);
        if (sliceStart !== undefined) items.set(sliceStart, item);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** Slice starts of `window` whose item is absent or not sealed yet. */
  #unsealed(window: WindowRef, sliceMs: number, items: ReadonlyMap<number, RawItem>): number[] {
    const toSeal: number[] = [];
    for (let sliceStart = window.start; sliceStart < window.end; sliceStart += sliceMs) {
      const item = items.get(sliceStart);
      if (item === undefined || item[ATTR.sealed] === undefined) toSeal.push(sliceStart);
    }
    return toSeal;
  }

  /** The seal of one slice of `window` (forgets its cached image: it accepts no more writes). */
  #sealUpdate(window: WindowRef, sliceStart: number, sliceMs: number): ExpressionBuilder {
    this.#cache.delete(this.#sliceId(window.key, sliceStart));
    const relevantUntil = sliceStart + (this.#windowSizeMs ?? sliceMs) + this.#maxOutOfOrdernessMs;
    return (
      new ExpressionBuilder()
        .set(ATTR.sealed, { BOOL: true })
        .set(ATTR.sealedAt, num(window.end))
        .set(ATTR.kind, str(ITEM_KIND.SLICE))
        .set(ATTR.key, str(window.key))
        .set(ATTR.sliceStart, num(sliceStart))
        .set(ATTR.sliceEnd, num(sliceStart + sliceMs))
        // An existing slice keeps its TTL (a seal must not keep it, and the due-index entry it
        // may still hold, alive longer than its window's status); a stub gets one.
        .setIfAbsent(TABLE_KEYS.timeToLiveAttribute, num(this.#expiresAt(relevantUntil)))
        // Bumps version so a read-merge-write that read the unsealed image also fails.
        .add(ATTR.version, 1)
    );
  }

  /** A window's merged contents from its slice items (`undefined` when none holds a record). */
  #contentsOf(items: ReadonlyMap<number, RawItem>, sliceMs: number): WindowContents | undefined {
    let acc: AccSet | undefined;
    const slices: WindowBounds[] = [];
    for (const sliceStart of [...items.keys()].sort((x, y) => x - y)) {
      const item = items.get(sliceStart) as RawItem;
      const sliceAcc = readAccSet(item);
      if (sliceAcc === undefined) continue;
      acc = acc === undefined ? sliceAcc : this.#merge(acc, sliceAcc);
      slices.push({
        start: sliceStart,
        end: readNumber(item, ATTR.sliceEnd) ?? sliceStart + sliceMs,
      });
    }
    return acc === undefined ? undefined : { acc, slices };
  }

  #groupDeltas(deltas: readonly SliceDelta[]): ItemWork[] {
    const items = new Map<string, ItemWork>();
    for (const delta of deltas) {
      const id = this.#sliceId(delta.key, delta.sliceStart);
      const details = this.#sliceDetails(delta);
      if (delta.sliceEnd <= delta.sliceStart) {
        throw new InvalidWindowStoreInputError(
          `sliceEnd must be after sliceStart, got [${delta.sliceStart}, ${delta.sliceEnd})`,
          details,
        );
      }
      const firstSeq = normalizeSequence(delta.firstSeq);
      const lastSeq = normalizeSequence(delta.lastSeq);
      if (compareSequences(firstSeq, lastSeq) > 0) {
        throw new InvalidWindowStoreInputError(`firstSeq ${firstSeq} is after lastSeq ${lastSeq}`, {
          ...details,
          lane: delta.lane,
          sequenceNumber: firstSeq,
        });
      }
      let work = items.get(id);
      if (work === undefined) {
        work = {
          id,
          key: delta.key,
          sliceStart: delta.sliceStart,
          sliceEnd: delta.sliceEnd,
          lanes: new Map(),
        };
        items.set(id, work);
      } else if (work.sliceEnd !== delta.sliceEnd) {
        throw new InvalidWindowStoreInputError(
          `slice ${delta.sliceStart} has two ends: ${work.sliceEnd} and ${delta.sliceEnd}`,
          details,
        );
      }
      const lane: LaneWork = {
        lane: delta.lane,
        firstSeq,
        lastSeq,
        acc: delta.acc,
        recompute: (after) => delta.recompute(after),
      };
      const same = work.lanes.get(delta.lane);
      // Two deltas of one lane for one item (not expected from pre-aggregation): treat as one.
      work.lanes.set(delta.lane, same === undefined ? lane : this.#joinLaneWork(same, lane));
    }
    return [...items.values()];
  }

  #joinLaneWork(a: LaneWork, b: LaneWork): LaneWork {
    const merge = this.#merge;
    return {
      lane: a.lane,
      firstSeq: compareSequences(a.firstSeq, b.firstSeq) <= 0 ? a.firstSeq : b.firstSeq,
      lastSeq: compareSequences(a.lastSeq, b.lastSeq) >= 0 ? a.lastSeq : b.lastSeq,
      acc: merge(a.acc, b.acc),
      recompute: (after) => {
        const x = a.recompute(after);
        const y = b.recompute(after);
        return x === undefined ? y : y === undefined ? x : merge(x, y);
      },
    };
  }

  /**
   * Plans every item's first attempt without writing (additive items need no read; the others
   * merge into their cached, else read, image) and writes them together with `transactUpdates`.
   * Sets the outcome of each item it settles; the others are left `undefined`.
   */
  async #applyGrouped(
    items: readonly ItemWork[],
    outcomes: Array<ApplyOutcome | undefined>,
    counter: WindowStoreStats,
    rejected: RejectedDelta[],
  ): Promise<void> {
    const attempts = await mapBounded(items, this.#concurrency, async (work) => {
      if (this.#isAdditive(work))
        return { update: this.#sliceUpdate(work, ...this.#fastAdditive(work)) };
      const image = this.#cacheGet(work.id) ?? (await this.#getSlice(work, counter));
      // Kept for the one-item path should the group not apply: a stale image only costs it one
      // failed write, as its writes are conditioned on the image's version.
      this.#cacheSet(work.id, image);
      try {
        return this.#mergedAttempt(work, image, rejected);
      } catch (error) {
        // Too large: the one-item path seals it as full and reports what it refuses.
        if (error instanceof ItemTooLargeError) return undefined;
        throw error;
      }
    });
    const pending: number[] = [];
    for (const [i, attempt] of attempts.entries()) {
      if (typeof attempt === 'string') outcomes[i] = attempt;
      else if (attempt !== undefined) pending.push(i);
    }
    let applied: boolean[];
    try {
      applied = await this.#grouped(
        pending.map((i) => (attempts[i] as SliceAttempt).update),
        counter,
      );
    } catch (error) {
      for (const i of pending) this.#cache.delete((items[i] as ItemWork).id); // outcome unknown
      throw error;
    }
    for (const [j, i] of pending.entries()) {
      if (applied[j] !== true) continue;
      outcomes[i] = 'applied';
      const next = (attempts[i] as SliceAttempt).next;
      if (next !== undefined) this.#cacheSet((items[i] as ItemWork).id, next);
    }
  }

  #isAdditive(work: ItemWork): boolean {
    for (const lane of work.lanes.values()) {
      for (const [name, value] of Object.entries(lane.acc)) {
        if (!this.#additive.has(name) || typeof value !== 'number') return false;
      }
    }
    return true;
  }

  /**
   * Additive items: blind `ADD` conditioned on each lane's fence being below its `firstSeq`; on a
   * conflict, read the fences and `ADD` only what is above them, conditioned on those fences.
   */
  async #applyAdditive(
    work: ItemWork,
    counter: WindowStoreStats,
    rejected: RejectedDelta[],
  ): Promise<ApplyOutcome> {
    // Fast path: no read. Succeeds on every first delivery.
    let failure = await this.#writeSlice(work, ...this.#fastAdditive(work), counter);
    if (failure === undefined) return 'applied';

    for (let attempt = 2; attempt <= this.#maxAttempts; attempt++) {
      const image =
        failure.item === undefined
          ? await this.#getSlice(work, counter)
          : this.#decode(failure.item);
      const plan = this.#plan(work, image);
      if (plan.acc === undefined) return 'skipped';
      if (image.sealed === true)
        return this.#reject(work, plan, rejected, image.full === true ? 'full' : 'sealed');
      this.#assertSize(work, image, plan);
      const b = new ExpressionBuilder();
      const fenced = plan.lanes.map(({ work: lane, readFence }) => {
        b.set(fenceAttr(lane.lane), str(padSequence(lane.lastSeq)));
        return laneFenceIs(b, fenceAttr(lane.lane), readFence);
      });
      this.#addAccs(b, plan.acc);
      if (attempt > 2) await backoff(attempt);
      failure = await this.#writeSlice(work, b, allOf(sliceNotSealed(b), ...fenced), counter);
      if (failure === undefined) return 'applied';
    }
    throw new WindowStateConflictError(this.#sliceDetails(work), this.#maxAttempts, {
      cause: failure.error,
    });
  }

  /** An additive item's write without a read: `ADD`, conditioned on each lane's fence being below its `firstSeq`. */
  #fastAdditive(work: ItemWork): [ExpressionBuilder, string] {
    const b = new ExpressionBuilder();
    const conditions: string[] = [sliceNotSealed(b)];
    for (const lane of work.lanes.values()) {
      b.set(fenceAttr(lane.lane), str(padSequence(lane.lastSeq)));
      conditions.push(laneFenceBelow(b, fenceAttr(lane.lane), padSequence(lane.firstSeq)));
    }
    const all = [...work.lanes.values()].map((l) => l.acc).reduce((x, y) => this.#merge(x, y));
    this.#addAccs(b, all);
    return [b, allOf(...conditions)];
  }

  /**
   * Items with a non-additive accumulator: merge into the current image (cached, else read) and
   * SET the result, conditioned on the image's `version`; on a conflict, take the image the
   * failed write returned and merge again.
   */
  async #applyMerged(
    work: ItemWork,
    counter: WindowStoreStats,
    rejected: RejectedDelta[],
  ): Promise<ApplyOutcome> {
    let image = this.#cacheGet(work.id) ?? (await this.#getSlice(work, counter));
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const planned = this.#mergedAttempt(work, image, rejected);
      if (typeof planned === 'string') return planned;
      if (attempt > 2) await backoff(attempt);
      let failure: { item: RawItem | undefined; error: unknown } | undefined;
      try {
        failure = await this.#sendSlice(work, planned.update, counter);
      } catch (error) {
        this.#cache.delete(work.id); // outcome unknown: never trust the cached image again
        throw error;
      }
      if (failure === undefined) {
        this.#cacheSet(work.id, planned.next);
        return 'applied';
      }
      this.#cache.delete(work.id);
      lastError = failure.error;
      image =
        failure.item === undefined
          ? await this.#getSlice(work, counter)
          : this.#decode(failure.item);
    }
    throw new WindowStateConflictError(this.#sliceDetails(work), this.#maxAttempts, {
      cause: lastError,
    });
  }

  /**
   * A non-additive item's next write on `image`: `skipped` (the item absorbed it all), `sealed`
   * (rejected), or the write, conditioned on the image's version, and the image it makes.
   */
  #mergedAttempt(
    work: ItemWork,
    image: SliceImage,
    rejected: RejectedDelta[],
  ): 'skipped' | 'sealed' | Required<SliceAttempt> {
    const plan = this.#plan(work, image);
    if (plan.acc === undefined) {
      this.#cacheSet(work.id, image);
      return 'skipped';
    }
    if (image.sealed === true)
      return this.#reject(work, plan, rejected, image.full === true ? 'full' : 'sealed');
    const acc = image.acc === undefined ? plan.acc : this.#merge(image.acc, plan.acc);
    const fences = new Map(image.fences);
    for (const { work: lane } of plan.lanes) fences.set(lane.lane, padSequence(lane.lastSeq));
    const next: SliceImage = { version: (image.version ?? 0) + 1, acc, fences };
    this.#assertImageSize(work, next);

    const b = new ExpressionBuilder();
    for (const { work: lane } of plan.lanes)
      b.set(fenceAttr(lane.lane), str(padSequence(lane.lastSeq)));
    for (const [name, value] of Object.entries(acc))
      b.set(accAttr(name), encodeAcc(name, value, this.#additive));
    b.set(ATTR.version, num(next.version ?? 1));
    const condition = allOf(sliceNotSealed(b), versionIs(b, image.version));
    return { update: this.#sliceUpdate(work, b, condition), next };
  }

  /**
   * A sealed slice: what the item has not absorbed is rejected, per lane above its fence — LATE,
   * or STATE_TOO_LARGE when it was sealed for being full.
   */
  #reject(
    work: ItemWork,
    plan: WritePlan,
    rejected: RejectedDelta[],
    cause: RejectionCause,
  ): 'sealed' {
    this.#cache.delete(work.id);
    for (const { work: lane, readFence } of plan.lanes) {
      rejected.push({
        key: work.key,
        sliceStart: work.sliceStart,
        sliceEnd: work.sliceEnd,
        lane: lane.lane,
        afterSeq: readFence === undefined ? undefined : normalizeSequence(readFence),
        cause,
      });
    }
    return 'sealed';
  }

  /**
   * One-item write of an item, and what happens when the batch would make it too large: the item
   * is sealed as full (`sealed`, `full`; one unconditional write — a seal only ever refuses more),
   * then written again, which now rejects exactly what it has not absorbed (STATE_TOO_LARGE). A
   * retry, a bisected half or a smaller later batch is refused the same way, so a record is either
   * counted or reported, never both, and the window is emitted with what the item holds.
   */
  async #applyOne(
    work: ItemWork,
    counter: WindowStoreStats,
    rejected: RejectedDelta[],
  ): Promise<ApplyOutcome> {
    const apply = () =>
      this.#isAdditive(work)
        ? this.#applyAdditive(work, counter, rejected)
        : this.#applyMerged(work, counter, rejected);
    try {
      return await apply();
    } catch (error) {
      if (!(error instanceof ItemTooLargeError)) throw error;
      this.#cache.delete(work.id);
      const b = new ExpressionBuilder()
        .set(ATTR.sealed, { BOOL: true })
        .set(ATTR.full, { BOOL: true })
        .set(ATTR.sealedAt, num(this.#clock()))
        .add(ATTR.version, 1);
      await updateItem(
        this.#client,
        this.#tableName,
        this.#sliceUpdate(work, b),
        counter,
        this.stats,
      );
      return apply();
    }
  }

  /** What `work` still brings an item holding `image` (see `planSliceWrite`). */
  #plan(work: ItemWork, image: SliceImage): WritePlan {
    return planSliceWrite(work.lanes.values(), image.fences, this.#merge);
  }

  #addAccs(b: ExpressionBuilder, acc: AccSet): void {
    for (const [name, value] of Object.entries(acc)) b.add(accAttr(name), value as number);
    b.add(ATTR.version, 1);
  }

  /** The conditional write of a slice item, with its descriptive, index and TTL attributes. */
  #sliceUpdate(work: ItemWork, b: ExpressionBuilder, condition?: string): GroupedUpdate {
    const relevantUntil =
      work.sliceStart +
      (this.#windowSizeMs ?? work.sliceEnd - work.sliceStart) +
      this.#maxOutOfOrdernessMs;
    b.set(ATTR.kind, str(ITEM_KIND.SLICE))
      .set(ATTR.key, str(work.key))
      .set(ATTR.sliceStart, num(work.sliceStart))
      .set(ATTR.sliceEnd, num(work.sliceEnd))
      .set(TABLE_KEYS.timeToLiveAttribute, num(this.#expiresAt(relevantUntil)))
      .set(
        TABLE_KEYS.dueIndex.partitionKey,
        str(duePartition(this.pipeline, bucketOf(work.key, this.#dueBuckets))),
      )
      .set(TABLE_KEYS.dueIndex.sortKey, str(padTime(work.sliceEnd)));
    return {
      Key: this.#sliceKey(work),
      UpdateExpression: b.updateExpression(),
      ...(condition === undefined ? {} : { ConditionExpression: condition }),
      ...b.attributes(),
    };
  }

  /** Makes a slice item's conditional write; a failed condition returns the item as it was. */
  async #writeSlice(
    work: ItemWork,
    b: ExpressionBuilder,
    condition: string,
    counter: WindowStoreStats,
  ): Promise<{ item: RawItem | undefined; error: unknown } | undefined> {
    return this.#sendSlice(work, this.#sliceUpdate(work, b, condition), counter);
  }

  async #sendSlice(
    work: ItemWork,
    update: GroupedUpdate,
    counter: WindowStoreStats,
  ): Promise<{ item: RawItem | undefined; error: unknown } | undefined> {
    try {
      await updateItem(
        this.#client,
        this.#tableName,
        { ...update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
        counter,
        this.stats,
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        countConflict(counter, this.stats);
        return { item: error.Item, error };
      }
      if (isItemSizeError(error)) {
        throw new ItemTooLargeError(
          this.#sliceDetails(work),
          DYNAMODB_MAX_ITEM_BYTES,
          DYNAMODB_MAX_ITEM_BYTES,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async #getSlice(work: ItemWork, counter: WindowStoreStats): Promise<SliceImage> {
    const out = await countRead(
      () =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#tableName,
            Key: this.#sliceKey(work),
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      counter,
      this.stats,
    );
    return out.Item === undefined ? ABSENT : this.#decode(out.Item);
  }

  #decode(item: RawItem): SliceImage {
    return {
      version: readNumber(item, ATTR.version) ?? 0,
      acc: readAccSet(item),
      fences: readFences(item),
      sealed: item[ATTR.sealed] !== undefined,
      full: item[ATTR.full] !== undefined,
    };
  }

  #assertSize(work: ItemWork, image: SliceImage, plan: WritePlan): void {
    if (plan.acc === undefined) return;
    const fences = new Map(image.fences);
    for (const { work: lane } of plan.lanes) fences.set(lane.lane, padSequence(lane.lastSeq));
    const acc = image.acc === undefined ? plan.acc : this.#merge(image.acc, plan.acc);
    this.#assertImageSize(work, { version: (image.version ?? 0) + 1, acc, fences });
  }

  /** Throws `ItemTooLargeError` when the item `image` describes would exceed `maxItemBytes`. */
  #assertImageSize(work: ItemWork, image: SliceImage): void {
    const item: RawItem = {
      ...this.#sliceKey(work),
      [ATTR.kind]: str(ITEM_KIND.SLICE),
      [ATTR.key]: str(work.key),
      [ATTR.sliceStart]: num(work.sliceStart),
      [ATTR.sliceEnd]: num(work.sliceEnd),
      [ATTR.version]: num(image.version ?? 1),
      [TABLE_KEYS.timeToLiveAttribute]: num(9_999_999_999),
      [TABLE_KEYS.dueIndex.partitionKey]: str(duePartition(this.pipeline, this.#dueBuckets)),
      [TABLE_KEYS.dueIndex.sortKey]: str(padTime(work.sliceEnd)),
    };
    for (const [lane, fence] of image.fences) item[fenceAttr(lane)] = str(fence);
    for (const [name, value] of Object.entries(image.acc ?? {}))
      item[accAttr(name)] = encodeAcc(name, value, this.#additive);
    assertItemSize(item, this.#maxItemBytes, this.#sliceDetails(work));
  }

  /** TTL (epoch s) of an item that matters until `relevantUntil` (epoch ms), written now. */
  #expiresAt(relevantUntil: number): number {
    return expiresAt(relevantUntil, this.#retentionMs, this.#clock());
  }

  /** A slice item's id in the image cache. */
  #sliceId(key: string, sliceStart: number): string {
    return `${keyPartition(this.pipeline, key)}\u0000${sliceSortKey(sliceStart)}`;
  }

  #sliceKey(work: { key: string; sliceStart: number }): RawItem {
    return {
      [TABLE_KEYS.partitionKey]: str(keyPartition(this.pipeline, work.key)),
      [TABLE_KEYS.sortKey]: str(sliceSortKey(work.sliceStart)),
    };
  }

  #sliceDetails(work: {
    key: string;
    sliceStart: number;
    sliceEnd: number;
  }): WindowStoreErrorDetails & {
    pipeline: string;
    key: string;
    sliceStart: number;
  } {
    return {
      pipeline: this.pipeline,
      key: work.key,
      sliceStart: work.sliceStart,
      sliceEnd: work.sliceEnd,
    };
  }

  #cacheGet(id: string): SliceImage | undefined {
    const image = this.#cache.get(id);
    if (image !== undefined) {
      this.#cache.delete(id);
      this.#cache.set(id, image);
    }
    return image;
  }

  /** Remembers a window known CLOSED or EMITTED (its `statusId`), as many as `cacheSize`. */
  #rememberClosed(id: string): void {
    if (this.#cacheSize === 0) return;
    this.#closed.add(id);
    if (this.#closed.size > this.#cacheSize) {
      const oldest = this.#closed.values().next().value;
      if (oldest !== undefined) this.#closed.delete(oldest);
    }
  }

  #cacheSet(id: string, image: SliceImage): void {
    if (this.#cacheSize === 0 || image.version === undefined) return;
    this.#cache.delete(id);
    this.#cache.set(id, image);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
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
  // Closing and emission
  // ---------------------------------------------------------------------------------------------

  /**
   * Windows that are due (`end <= watermark`), have at least one slice, and are not CLOSED or
   * EMITTED, found through the due index (no Scan): slices with `sliceEnd <= watermark`, mapped
   * to windows by `windowsOfSlice`, filtered by one BatchGetItem of their status items. As
   * housekeeping, slices whose windows are all due and closed leave the index (one conditional
   * REMOVE each), so the index only holds work still to do.
   *
   * @example
   * const due = await store.findDueWindows(watermark, { windowsOfSlice: (s) => [{ start: s, end: s + 60_000 }] });
   */
  async findDueWindows(watermark: number, options: FindDueWindowsOptions): Promise<WindowRef[]> {
    const limit = options.limit ?? 100;
    const found = new Map<string, WindowRef>();
    const counter = emptyStats();
    for await (const items of dueIndexPages({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      dueBuckets: this.#dueBuckets,
      partition: duePartition,
      upTo: watermark,
      pageLimit: () => 200,
      wantsMore: () => found.size < limit,
      counters: [counter, this.stats],
    })) {
      const slices = items.flatMap((item) => {
        const key = readString(item, ATTR.key);
        const start = readNumber(item, ATTR.sliceStart);
        const end = readNumber(item, ATTR.sliceEnd);
        if (key === undefined || start === undefined || end === undefined) return [];
        return [{ key, start, end, windows: options.windowsOfSlice(start, end) }];
      });
      const candidates = new Map<string, WindowRef>();
      for (const slice of slices) {
        for (const w of slice.windows) {
          if (w.end <= watermark) candidates.set(statusId(slice.key, w), { key: slice.key, ...w });
        }
      }
      // A window never reopens: those known closed are not read again (hopping windows' slices
      // stay in the index until their last window closes, so every round would re-read them).
      const unknown = [...candidates].filter(([id]) => !this.#closed.has(id)).map(([, w]) => w);
      const statuses = await this.#readStatuses(unknown, counter);
      for (const id of candidates.keys()) {
        const status = statuses.get(id);
        if (this.#closed.has(id)) statuses.set(id, WINDOW_STATUS.CLOSED);
        else if (status === WINDOW_STATUS.CLOSED || status === WINDOW_STATUS.EMITTED)
          this.#rememberClosed(id);
      }
      for (const [id, ref] of candidates) {
        const status = statuses.get(id);
        if (status === undefined || status === WINDOW_STATUS.OPEN) found.set(id, ref);
      }
      const finished = slices.filter((s) =>
        s.windows.every((w) => {
          const status = statuses.get(statusId(s.key, w));
          return (
            w.end <= watermark &&
            (status === WINDOW_STATUS.CLOSED || status === WINDOW_STATUS.EMITTED)
          );
        }),
      );
      await this.#leaveDueIndexAll(
        finished.map((s) => ({ key: s.key, sliceStart: s.start })),
        counter,
      );
    }
    return [...found.values()]
      .sort(
        (a, b) =>
          a.end - b.end || a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      )
      .slice(0, limit);
  }

  /**
   * Closes a window: OPEN → CLOSED, a conditional write that exactly one caller wins. The winner
   * must read and emit the window, then call `markEmitted`; if it crashes in between, the window
   * shows up in `findClosedNotEmitted`.
   *
   * @example
   * if ((await store.closeWindow(ref, Date.now())) === 'closed') { ...emit...; await store.markEmitted(ref, Date.now()); }
   */
  async closeWindow(window: WindowRef, closedAt: number): Promise<CloseOutcome> {
    const won = await this.#conditionalWrite(this.#closeUpdate(window, closedAt));
    this.#rememberClosed(statusId(window.key, window));
    return won ? 'closed' : 'already-closed';
  }

  /**
   * Closes several windows, each exactly as `closeWindow` would, in as few requests as possible:
   * the closes are grouped into `TransactWriteItems` (see `groupWrites`); a group that does not
   * apply whole (another closer won one of its windows) is closed again window by window.
   *
   * @returns each window's outcome, in order.
   * @example
   * const outcomes = await store.closeWindows(due, Date.now());
   * const won = due.filter((_, i) => outcomes[i] === 'closed');
   */
  async closeWindows(windows: readonly WindowRef[], closedAt: number): Promise<CloseOutcome[]> {
    const applied = await this.#grouped(windows.map((w) => this.#closeUpdate(w, closedAt)));
    return mapBounded(windows, this.#concurrency, async (window, i) => {
      if (applied[i] !== true) return this.closeWindow(window, closedAt);
      this.#rememberClosed(statusId(window.key, window));
      return 'closed';
    });
  }

  #closeUpdate(window: WindowRef, closedAt: number): GroupedUpdate {
    const b = new ExpressionBuilder();
    b.set(ATTR.kind, str(ITEM_KIND.WINDOW))
      .set(ATTR.status, str(WINDOW_STATUS.CLOSED))
      .set(ATTR.closedAt, num(closedAt))
      .set(ATTR.key, str(window.key))
      .set(ATTR.windowStart, num(window.start))
      .set(ATTR.windowEnd, num(window.end))
      // Kept at least as long as any slice of the window (the last one lives until its own
      // last window's end): a slice still in the due index never finds this window without its
      // status, which would make it look OPEN and close it again.
      .set(
        TABLE_KEYS.timeToLiveAttribute,
        num(
          this.#expiresAt(
            window.end +
              (this.#windowSizeMs ?? window.end - window.start) +
              this.#maxOutOfOrdernessMs,
          ),
        ),
      )
      .set(
        TABLE_KEYS.dueIndex.partitionKey,
        str(closedPartition(this.pipeline, bucketOf(window.key, this.#dueBuckets))),
      )
      .set(TABLE_KEYS.dueIndex.sortKey, str(padTime(closedAt)));
    return {
      Key: this.#windowKey(window),
      UpdateExpression: b.updateExpression(),
      ConditionExpression: windowIsOpen(b),
      ...b.attributes(),
    };
  }

  /**
   * Records that a closed window's result was emitted: CLOSED → EMITTED, and the window leaves
   * the repair index. A second call reports `already-emitted`.
   *
   * @throws {WindowNotClosedError} the window was never closed.
   */
  async markEmitted(window: WindowRef, emittedAt: number): Promise<EmitOutcome> {
    try {
      await updateItem(
        this.#client,
        this.#tableName,
        {
          ...this.#emittedUpdate(window, emittedAt),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        emptyStats(),
        this.stats,
      );
      return 'emitted';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      countConflict(this.stats);
      let status = error.Item === undefined ? undefined : readString(error.Item, ATTR.status);
      if (error.Item === undefined) {
        const out = await countRead(
          () =>
            this.#client.send(
              new GetItemCommand({
                TableName: this.#tableName,
                Key: this.#windowKey(window),
                ConsistentRead: true,
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          emptyStats(),
          this.stats,
        );
        status = out.Item === undefined ? undefined : readString(out.Item, ATTR.status);
      }
      if (status === WINDOW_STATUS.EMITTED) return 'already-emitted';
      throw new WindowNotClosedError(
        {
          pipeline: this.pipeline,
          key: window.key,
          windowStart: window.start,
          windowEnd: window.end,
        },
        status,
        { cause: error },
      );
    }
  }

  /**
   * Marks several windows emitted, each exactly as `markEmitted` would, grouped into
   * `TransactWriteItems` (see `groupWrites`); a group that does not apply whole is marked again
   * window by window.
   *
   * @throws {WindowNotClosedError} a window was never closed.
   * @example
   * await store.markWindowsEmitted(won, Date.now());
   */
  async markWindowsEmitted(
    windows: readonly WindowRef[],
    emittedAt: number,
  ): Promise<EmitOutcome[]> {
    const applied = await this.#grouped(windows.map((w) => this.#emittedUpdate(w, emittedAt)));
    return mapBounded(windows, this.#concurrency, async (window, i) =>
      applied[i] === true ? 'emitted' : this.markEmitted(window, emittedAt),
    );
  }

  #emittedUpdate(window: WindowRef, emittedAt: number): GroupedUpdate {
    const b = new ExpressionBuilder();
    b.set(ATTR.status, str(WINDOW_STATUS.EMITTED))
      .set(ATTR.emittedAt, num(emittedAt))
      .remove(TABLE_KEYS.dueIndex.partitionKey)
      .remove(TABLE_KEYS.dueIndex.sortKey);
    return {
      Key: this.#windowKey(window),
      UpdateExpression: b.updateExpression(),
      ConditionExpression: windowIsClosed(b),
      ...b.attributes(),
    };
  }

  /**
   * Windows CLOSED at or before `closedBefore` but not yet EMITTED (a closer crashed between close
   * and emit), for the sweeper to re-emit. Reads the sparse repair index, no Scan.
   */
  async findClosedNotEmitted(closedBefore: number, limit = 100): Promise<ClosedWindow[]> {
    const result: ClosedWindow[] = [];
    for await (const items of dueIndexPages({
      client: this.#client,
      tableName: this.#tableName,
      pipeline: this.pipeline,
      dueBuckets: this.#dueBuckets,
      partition: closedPartition,
      upTo: closedBefore,
      pageLimit: () => limit - result.length,
      wantsMore: () => result.length < limit,
      counters: [this.stats],
    })) {
      for (const item of items) {
        const key = readString(item, ATTR.key);
        const start = readNumber(item, ATTR.windowStart);
        const end = readNumber(item, ATTR.windowEnd);
        const closedAt = Number(readString(item, TABLE_KEYS.dueIndex.sortKey));
        if (key !== undefined && start !== undefined && end !== undefined)
          result.push({ key, start, end, closedAt });
      }
    }
    return result;
  }

  async #readStatuses(
    windows: readonly WindowRef[],
    counter: WindowStoreStats,
  ): Promise<Map<string, string>> {
    const statuses = new Map<string, string>();
    const rows = await batchGetConsistent(
      this.#client,
      this.#tableName,
      windows.map((w) => this.#windowKey(w)),
      [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, ATTR.status, ATTR.key],
      counter,
      this.stats,
    );
    for (const item of rows) {
      const status = readString(item, ATTR.status);
      const sk = readString(item, TABLE_KEYS.sortKey);
      const key = readString(item, ATTR.key);
      if (status !== undefined && sk !== undefined && key !== undefined)
        statuses.set(sk + key, status);
    }
    return statuses;
  }

  /**
   * Takes a slice out of the due index once the last window it belongs to is closed and emitted
   * (the closer calls it, so later batches find no leftover housekeeping). Idempotent; never
   * resurrects a TTL-deleted item.
   */
  async leaveDueIndex(key: string, sliceStart: number): Promise<void> {
    await this.#leaveDueIndex(key, sliceStart, emptyStats());
  }

  async #leaveDueIndex(key: string, sliceStart: number, counter: WindowStoreStats): Promise<void> {
    await this.#conditionalWrite(this.#leaveUpdate(key, sliceStart), counter);
  }

  /**
   * Takes several slices out of the due index (see `leaveDueIndex`), grouped into
   * `TransactWriteItems` (see `groupWrites`); a group that does not apply whole (a slice already
   * gone) is done slice by slice.
   *
   * @example
   * await store.leaveDueIndexAll([{ key: '/home', sliceStart }]);
   */
  async leaveDueIndexAll(
    slices: ReadonlyArray<{ readonly key: string; readonly sliceStart: number }>,
  ): Promise<void> {
    await this.#leaveDueIndexAll(slices, emptyStats());
  }

  async #leaveDueIndexAll(
    slices: ReadonlyArray<{ readonly key: string; readonly sliceStart: number }>,
    counter: WindowStoreStats,
  ): Promise<void> {
    const applied = await this.#grouped(
      slices.map((s) => this.#leaveUpdate(s.key, s.sliceStart)),
      counter,
    );
    await mapBounded(slices, this.#concurrency, async (slice, i) => {
      if (applied[i] !== true) await this.#leaveDueIndex(slice.key, slice.sliceStart, counter);
    });
  }

  #leaveUpdate(key: string, sliceStart: number): GroupedUpdate {
    const b = new ExpressionBuilder();
    b.remove(TABLE_KEYS.dueIndex.partitionKey).remove(TABLE_KEYS.dueIndex.sortKey);
    return {
      Key: this.#sliceKey({ key, sliceStart }),
      UpdateExpression: b.updateExpression(),
      ConditionExpression: itemExists(b),
      ...b.attributes(),
    };
  }

  #windowKey(window: WindowRef): RawItem {
    return {
      [TABLE_KEYS.partitionKey]: str(keyPartition(this.pipeline, window.key)),
      [TABLE_KEYS.sortKey]: str(windowSortKey(window.start, window.end)),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Requests
  // ---------------------------------------------------------------------------------------------

  /** `transactUpdates` when writes are grouped (else nothing applied: every write goes alone). */
  async #grouped(
    updates: readonly GroupedUpdate[],
    counter: WindowStoreStats = emptyStats(),
  ): Promise<boolean[]> {
    return this.#groupWrites
      ? transactUpdates(this.#client, this.#tableName, updates, counter, this.stats)
      : updates.map(() => false);
  }

  /** A conditional write whose failed condition is an expected outcome: true if it was applied. */
  async #conditionalWrite(
    input: Omit<UpdateItemCommandInput, 'TableName'>,
    counter: WindowStoreStats = emptyStats(),
  ): Promise<boolean> {
    return conditionalUpdate(this.#client, this.#tableName, input, counter, this.stats);
  }
}
