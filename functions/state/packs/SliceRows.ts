import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { num, type RawItem, readNumber, readString, str } from '../attributes';
import { batchGetConsistent } from '../batchGetConsistent';
import { conditionalUpdate } from '../conditionalUpdate';
import { ATTR, TABLE_KEYS, WINDOW_STATUS } from '../constants';
import { dueIndexPages } from '../dueIndexPages';
import { ExpressionBuilder } from '../expressions';
import { closedWindowsPartition, dueSlicesPartition, padTime, slicesPartition } from '../keys';
import { countWrite, emptyStats } from '../requestStats';
import type {
  CloseOutcome,
  EmitOutcome,
  FindDueWindowsOptions,
  WindowBounds,
  WindowStoreStats,
} from '../types';
import type { SealKnowledge } from './LaneWriter';
import { PACK_ATTR, PACK_KIND, type PackTable, windowId } from './PackTable';

/** Index pages one call reads at most (the rest waits for the next close or sweep). */
const MAX_INDEX_PAGES = 20;

/**
 * The slice and window rows of one pipeline's lane packs (docs/architecture.md, "Lane packs:
 * closing"): a slice row is the seal and, while it has windows to close, a due-index entry; a
 * window row is one window's status for every key (CLOSED, then EMITTED).
 */
export class SliceRows implements SealKnowledge {
  readonly #t: PackTable;
  /** Slices known sealed (a seal is never undone). */
  readonly #sealed = new Set<number>();
  /** Sealed slices → the pack parts committed to them before the seal (from the seal's answer). */
  readonly #sealedParts = new Map<number, number>();
  /** Windows known CLOSED or EMITTED. */
  readonly #closed = new Set<string>();

  constructor(table: PackTable) {
    this.#t = table;
  }

  isSealed(sliceStart: number): boolean {
    return this.#sealed.has(sliceStart);
  }

  markSealed(sliceStart: number): void {
    this.#sealed.add(sliceStart);
  }

  /** How many pack parts a slice this instance sealed holds; `undefined` when it did not seal it. */
  partsOf(sliceStart: number): number | undefined {
    return this.#sealedParts.get(sliceStart);
  }

  /**
   * Seals slices (idempotent: the first seal's time stays); one write per slice whose seal this
   * instance has not made or seen, which also returns how many pack parts the slice holds.
   */
  async seal(sliceStarts: readonly number[], counter: WindowStoreStats): Promise<void> {
    const now = this.#t.clock();
    for (const sliceStart of sliceStarts) {
      if (this.#sealedParts.has(sliceStart)) continue;
      const sliceEnd = sliceStart + this.#t.sliceMs;
      const b = new ExpressionBuilder();
      b.set(ATTR.kind, str(PACK_KIND.SLICE))
        .set(ATTR.sliceStart, num(sliceStart))
        .set(ATTR.sliceEnd, num(sliceEnd))
        .setIfAbsent(ATTR.sealedAt, num(now))
        .setIfAbsent(TABLE_KEYS.timeToLiveAttribute, num(this.#t.expiresAt(sliceEnd, now)));
      const out = await countWrite(
        () =>
          this.#t.client.send(
            new UpdateItemCommand({
              TableName: this.#t.tableName,
              Key: this.#t.sliceKey(sliceStart),
              UpdateExpression: b.updateExpression(),
              ...b.attributes(),
              ReturnValues: 'ALL_NEW',
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        counter,
        this.#t.stats,
      );
      this.markSealed(sliceStart);
      this.#sealedParts.set(sliceStart, readNumber(out.Attributes ?? {}, PACK_ATTR.parts) ?? 0);
    }
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
    const rows = await batchGetConsistent(
      this.#t.client,
      this.#t.tableName,
      windows.map((w) => this.#t.windowKey(w)),
      undefined,
      counter,
      this.#t.stats,
    );
    for (const item of rows) {
      const start = readNumber(item, ATTR.windowStart);
      const end = readNumber(item, ATTR.windowEnd);
      const value = readString(item, ATTR.status);
      if (start === undefined || end === undefined || item[ATTR.closedAt] === undefined) continue;
      status.set(windowId({ start, end }), value ?? WINDOW_STATUS.CLOSED);
    }
    return status;
  }

  /**
   * Closes each window (OPEN → CLOSED, one conditional write; `windows` distinct): exactly one
   * caller wins a window, and gets `closed`.
   */
  async close(windows: readonly WindowBounds[], closedAt: number): Promise<CloseOutcome[]> {
    const index = TABLE_KEYS.dueIndex;
    const won = await this.#transition(windows, (b, window) => {
      b.set(ATTR.kind, str(PACK_KIND.WINDOW))
        .set(ATTR.windowStart, num(window.start))
        .set(ATTR.windowEnd, num(window.end))
        .set(ATTR.status, str(WINDOW_STATUS.CLOSED))
        .set(ATTR.closedAt, num(closedAt))
        .set(index.partitionKey, str(closedWindowsPartition(this.#t.pipeline)))
        .set(index.sortKey, str(padTime(closedAt)))
        .set(TABLE_KEYS.timeToLiveAttribute, num(this.#t.expiresAt(window.end, closedAt)));
      return `attribute_not_exists(${b.name(ATTR.closedAt)})`;
    });
    for (const window of windows) this.#closed.add(windowId(window));
    return won.map((w) => (w ? 'closed' : 'already-closed'));
  }

  /** Marks each window EMITTED (`windows` distinct); it leaves the repair index. */
  async markEmitted(windows: readonly WindowBounds[], emittedAt: number): Promise<EmitOutcome[]> {
    const index = TABLE_KEYS.dueIndex;
    const marked = await this.#transition(windows, (b) => {
      b.set(ATTR.status, str(WINDOW_STATUS.EMITTED))
        .set(ATTR.emittedAt, num(emittedAt))
        .remove(index.partitionKey)
        .remove(index.sortKey);
      return `attribute_exists(${b.name(ATTR.closedAt)}) AND ${b.name(ATTR.status)} <> ${b.value(str(WINDOW_STATUS.EMITTED))}`;
    });
    return marked.map((m) => (m ? 'emitted' : 'already-emitted'));
  }

  /**
   * One conditional update per window row, built by `update` (which returns the condition):
   * whether each was applied.
   */
  async #transition(
    windows: readonly WindowBounds[],
    update: (b: ExpressionBuilder, window: WindowBounds) => string,
  ): Promise<boolean[]> {
    const applied: boolean[] = [];
    for (const window of windows) {
      const b = new ExpressionBuilder();
      const condition = update(b, window);
      applied.push(
        await conditionalUpdate(
          this.#t.client,
          this.#t.tableName,
          {
            Key: this.#t.windowKey(window),
            UpdateExpression: b.updateExpression(),
            ConditionExpression: condition,
            ...b.attributes(),
          },
          this.#t.stats,
        ),
      );
    }
    return applied;
  }

  async leaveDueIndex(sliceStart: number, counter: WindowStoreStats): Promise<void> {
    const index = TABLE_KEYS.dueIndex;
    const b = new ExpressionBuilder();
    b.remove(index.partitionKey).remove(index.sortKey);
    await conditionalUpdate(
      this.#t.client,
      this.#t.tableName,
      {
        Key: this.#t.sliceKey(sliceStart),
        UpdateExpression: b.updateExpression(),
        ConditionExpression: `attribute_exists(${b.name(index.partitionKey)})`,
        ...b.attributes(),
      },
      counter,
      this.#t.stats,
    );
  }

  /**
   * Windows due under `watermark` (end ≤ watermark) that are not CLOSED, found through the slice
   * rows still in the due index: at most `limit`, earliest end first. Slices whose every window
   * is closed leave the index.
   */
  async dueWindows(watermark: number, options: FindDueWindowsOptions): Promise<WindowBounds[]> {
    const limit = options.limit ?? 100;
    const counter = emptyStats();
    const windows = new Map<string, WindowBounds>();
    const slices: Array<{ sliceStart: number; windows: WindowBounds[] }> = [];
    for await (const items of this.#indexPages(
      dueSlicesPartition(this.#t.pipeline),
      watermark,
      () => 100,
      () => windows.size < limit * 4,
      counter,
    )) {
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
        await this.leaveDueIndex(slice.sliceStart, counter);
    }
    return [...windows.values()]
      .filter((w) => !closed.has(windowId(w)))
      .sort((a, b) => a.end - b.end || a.start - b.start)
      .slice(0, limit);
  }

  /**
   * Windows CLOSED at or before `closedBefore` and never marked EMITTED (a closer died in
   * between), at most `limit`, each checked on its row (the index is eventually consistent).
   */
  async closedNotEmitted(
    closedBefore: number,
    limit: number,
  ): Promise<Array<WindowBounds & { readonly closedAt: number }>> {
    const counter = emptyStats();
    const found: Array<WindowBounds & { closedAt: number }> = [];
    for await (const items of this.#indexPages(
      closedWindowsPartition(this.#t.pipeline),
      closedBefore,
      () => limit - found.length,
      () => found.length < limit,
      counter,
    )) {
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
    return found.filter((w) => status.get(windowId(w)) === WINDOW_STATUS.CLOSED);
  }

  /**
   * Pages of one of this pipeline's index partitions, entries up to `upTo`, this pipeline's own
   * only, at most {@link MAX_INDEX_PAGES}: another pipeline's role could list entries under this
   * index partition (dropped, being foreign, but paged through on every close without a cap).
   */
  #indexPages(
    partition: string,
    upTo: number,
    pageLimit: () => number,
    wantsMore: () => boolean,
    counter: WindowStoreStats,
  ): AsyncGenerator<RawItem[]> {
    let pages = 0;
    return dueIndexPages({
      client: this.#t.client,
      tableName: this.#t.tableName,
      pipeline: this.#t.pipeline,
      dueBuckets: 1,
      partition: () => partition,
      upTo,
      pageLimit,
      wantsMore: () => pages++ < MAX_INDEX_PAGES && wantsMore(),
      counters: [counter, this.#t.stats],
      ownPrefix: slicesPartition(this.#t.pipeline),
    });
  }
}
