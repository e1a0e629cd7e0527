import { WINDOW_STORE_DEFAULTS } from './constants';
import { InvalidWindowStoreInputError } from './errors';
import { assertPipelineName } from './keys';
import { LaneWriter } from './packs/LaneWriter';
import { PackReader } from './packs/PackReader';
import { type PackTable, packTable, windowId } from './packs/PackTable';
import { SliceRows } from './packs/SliceRows';
import { emptyStats } from './requestStats';
import { retryTransactionConflicts } from './retryTransactionConflicts';
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

  readonly #sliceMs: number;
  readonly #table: PackTable;
  readonly #merge: MergeAccSets;
  readonly #writer: LaneWriter;
  readonly #rows: SliceRows;
  readonly #reader: PackReader;
  readonly #watermarks: WatermarkStore;

  constructor(options: PackStoreOptions) {
    assertPipelineName(options.pipeline);
    this.pipeline = options.pipeline;
    const sliceMs = options.sliceMs;
    const windowSizeMs = options.windowSizeMs ?? sliceMs;
    this.retentionMs = options.retentionMs ?? WINDOW_STORE_DEFAULTS.retentionMs;
    const maxPartBytes = options.maxItemBytes ?? WINDOW_STORE_DEFAULTS.maxItemBytes;
    const maxAttempts = options.maxAttempts ?? WINDOW_STORE_DEFAULTS.maxAttempts;
    const sliceCacheSize = options.sliceCacheSize ?? 64;
    for (const [name, value, min] of [
      ['sliceMs', sliceMs, 1],
      ['windowSizeMs', windowSizeMs, sliceMs],
      ['maxAttempts', maxAttempts, 1],
      ['maxItemBytes', maxPartBytes, 1024],
      ['sliceCacheSize', sliceCacheSize, 0],
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
    const client = retryTransactionConflicts(options.client, maxAttempts, this.stats);
    const table = packTable({
      client,
      tableName: options.tableName,
      pipeline: this.pipeline,
      stats: this.stats,
      clock: options.clock ?? Date.now,
      sliceMs,
      windowSizeMs,
      maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 0,
      retentionMs: this.retentionMs,
      maxAttempts,
    });
    this.#sliceMs = sliceMs;
    this.#table = table;
    this.#merge = options.merge;
    this.#rows = new SliceRows(table);
    this.#writer = new LaneWriter(table, this.#rows, maxPartBytes);
    this.#reader = new PackReader(table, options.merge, this.#rows, sliceCacheSize);
    this.#watermarks = new WatermarkStore({
      client,
      tableName: options.tableName,
      pipeline: this.pipeline,
      retentionMs: this.retentionMs,
      stats: this.stats,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Batches
  // ---------------------------------------------------------------------------------------------

  /**
   * Absorbs one batch: per lane, the records above the lane's cursor go into one pack per slice,
   * committed with the cursor's move in one transaction (several when the packs exceed a
   * transaction's 100 items or its bytes: each covers a contiguous run of the lane's records).
   * Records of a sealed slice (closed, or behind the committed watermark) are refused, and so is a
   * record whose own elements are too large for an item or a transaction: reported to
   * `onRejected` before the cursor moves past them, and returned.
   *
   * @throws {WindowStateConflictError} a lane's transaction kept meeting other transactions.
   */
  applyDeltas(
    deltas: readonly SliceDelta[],
    options: ApplyDeltasOptions = {},
  ): Promise<ApplyDeltasResult> {
    return this.#writer.applyDeltas(deltas, options);
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
          contents = await this.#reader.read(sliceStart, counter);
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
    await this.#rows.seal([...starts], emptyStats());
  }

  /** Seals the window's slices (they take no more packs) and returns the key's contents. */
  async sealWindow(window: WindowRef, sliceMs: number): Promise<WindowContents | undefined> {
    return (await this.sealWindows([window], sliceMs))[0];
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
    await this.#rows.seal(slices, counter);
    const merged = new Map<string, { acc: AccSet; slices: WindowBounds[] }>();
    for (const sliceStart of slices) {
      for (const [key, acc] of await this.#reader.read(sliceStart, counter)) {
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

  // ---------------------------------------------------------------------------------------------
  // Closing and emission: window rows, expanded to one ref per key for the handlers
  // ---------------------------------------------------------------------------------------------

  /**
   * Windows due under `watermark` (end ≤ watermark) that are not CLOSED: at most `limit`
   * windows, each returned once per key its packs hold (every key of a window, whatever
   * `limit`). Their slices are sealed here — every one ends at or before the watermark, so
   * nothing more may join them — and read once.
   */
  async findDueWindows(watermark: number, options: FindDueWindowsOptions): Promise<WindowRef[]> {
    const counter = emptyStats();
    return this.#perKey(await this.#rows.dueWindows(watermark, options), counter);
  }

  /**
   * Closes each distinct window of `windows` (OPEN → CLOSED, one conditional write): exactly one
   * caller wins a window, and gets `closed` for every key of it.
   */
  async closeWindows(windows: readonly WindowRef[], closedAt: number): Promise<CloseOutcome[]> {
    return this.#perWindow(windows, (distinct) => this.#rows.close(distinct, closedAt));
  }

  /** {@link closeWindows} of one window. */
  async closeWindow(window: WindowRef, closedAt: number): Promise<CloseOutcome> {
    return (await this.closeWindows([window], closedAt))[0] as CloseOutcome;
  }

  /** Marks each distinct window EMITTED (it leaves the repair index). */
  async markWindowsEmitted(
    windows: readonly WindowRef[],
    emittedAt: number,
  ): Promise<EmitOutcome[]> {
    return this.#perWindow(windows, (distinct) => this.#rows.markEmitted(distinct, emittedAt));
  }

  /** {@link markWindowsEmitted} of one window. */
  async markEmitted(window: WindowRef, emittedAt: number): Promise<EmitOutcome> {
    return (await this.markWindowsEmitted([window], emittedAt))[0] as EmitOutcome;
  }

  /**
   * Windows CLOSED at or before `closedBefore` and never marked EMITTED (a closer died in
   * between), at most `limit` windows, once per key their sealed packs hold.
   */
  async findClosedNotEmitted(closedBefore: number, limit = 100): Promise<ClosedWindow[]> {
    const counter = emptyStats();
    const refs: ClosedWindow[] = [];
    for (const w of await this.#rows.closedNotEmitted(closedBefore, limit)) {
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
      await this.#rows.leaveDueIndex(sliceStart, counter);
  }

  /** Every key of each window, its slices sealed and read. */
  async #perKey(windows: readonly WindowBounds[], counter: WindowStoreStats): Promise<WindowRef[]> {
    const refs: WindowRef[] = [];
    for (const w of windows) {
      const contents = await this.#sealedWindow(w, counter);
      for (const key of [...contents.keys()].sort()) refs.push({ key, start: w.start, end: w.end });
    }
    return refs;
  }

  /** Applies a window-level operation once per distinct window; the outcome of each ref's window. */
  async #perWindow<T>(
    refs: readonly WindowRef[],
    apply: (distinct: readonly WindowBounds[]) => Promise<T[]>,
  ): Promise<T[]> {
    const distinct = new Map<string, WindowBounds>();
    for (const ref of refs) distinct.set(windowId(ref), { start: ref.start, end: ref.end });
    const windows = [...distinct.values()];
    const outcomes = await apply(windows);
    const byId = new Map(windows.map((w, i) => [windowId(w), outcomes[i] as T]));
    return refs.map((ref) => byId.get(windowId(ref)) as T);
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

  /** Slice starts of a window. */
  #slicesOf(window: WindowBounds): number[] {
    return this.#table.slicesOf(window);
  }
}
