import { LATE_ACCUMULATOR } from '#handlers/constants';
import type { PipelineStore } from '#handlers/types';
import {
  type Accumulators,
  type AnyWindowedPipelineDefinition,
  mergeAccumulators,
} from '#runtime/index';
import {
  type AccSet,
  type ApplyDeltasResult,
  type ClosedWindow,
  type CloseOutcome,
  compareSequences,
  type EmitOutcome,
  type FindDueWindowsOptions,
  MAX_TRANSACTION_ITEMS,
  type PipelineWatermark,
  padSequence,
  type ReadWatermarkOptions,
  type RejectedDelta,
  type SliceDelta,
  type WatermarkUpdate,
  type WindowBounds,
  type WindowContents,
  type WindowRef,
  type WindowStoreStats,
} from '#state/index';
import { DEFAULT_RETENTION_MS, pipelineWatermark } from '#watermark/index';

interface Slice {
  readonly key: string;
  readonly sliceStart: number;
  readonly sliceEnd: number;
  acc: AccSet | undefined;
  readonly fences: Map<string, string>;
  sealed: boolean;
  inDueIndex: boolean;
  /** The windows the slice belongs to (oldest first), once asked for. */
  windows: readonly WindowBounds[] | undefined;
  /** Their ids in `#status` (built once with `windows`). */
  windowIds: readonly string[] | undefined;
  /** How many of `windows`, from the oldest, are known to be CLOSED or EMITTED (never undone). */
  closedPrefix: number;
}

/**
 * Write requests `WindowStore` makes for `n` independent writes of one call with `groupWrites`
 * (its default): one `TransactWriteItems` per 100, a group of one sent alone. A single writer
 * never loses a race, so no group falls back to one write per item.
 */
const groupedRequests = (n: number): number => (n <= 1 ? n : Math.ceil(n / MAX_TRANSACTION_ITEMS));

const lateOf = (acc: AccSet | undefined): number => {
  const late = acc?.[LATE_ACCUMULATOR];
  return typeof late === 'number' ? late : 0;
};

/**
 * The window store of one pipeline held in memory, with the same protocol as `WindowStore`
 * (per-lane fences, sealed slices, due index, OPEN → CLOSED → EMITTED) and a request count that
 * models the DynamoDB one (grouped writes, `WindowStore`'s default): one request per 100 touched
 * (key, slice) items of a batch, per 100 closes, emit marks or due-index removals of a round, and
 * per 100 slice seals of a round (one per slice when a single window closes), and one per shard
 * watermark update and watermark commit. Used by the core
 * throughput (no I/O) and scaling benchmarks; the write-cost benchmark checks the model against
 * DynamoDB Local on the reference workload.
 */
export class InMemoryWindowStore implements PipelineStore {
  readonly pipeline: string;
  readonly stats: WindowStoreStats = {
    writeRequests: 0,
    readRequests: 0,
    conflicts: 0,
    consumedCapacityUnits: 0,
  };
  /** As `WindowStore`'s default: records further behind the committed watermark are EXPIRED. */
  readonly retentionMs = DEFAULT_RETENTION_MS;
  /** Writes that carried slice state (applyDeltas), a subset of `stats.writeRequests`. */
  stateWrites = 0;
  /**
   * Items written (each is one capacity-billed write, twice in a transaction), whatever the number
   * of requests that carried them: what the bill grows with.
   */
  itemWrites = 0;

  readonly #merge: (a: AccSet, b: AccSet) => AccSet;
  readonly #slices = new Map<string, Slice>();
  /** sliceEnd → ids of slices still in the due index. */
  readonly #due = new Map<number, Set<string>>();
  readonly #status = new Map<string, 'CLOSED' | 'EMITTED'>();
  readonly #shards = new Map<string, { maxEventTime: number | undefined; processedAt: number }>();
  /** Each shard's stored position (padded sequence number), as the tail probe reads it. */
  readonly #positions = new Map<string, string>();
  #committed: number | undefined;

  constructor(definition: AnyWindowedPipelineDefinition) {
    this.pipeline = definition.name;
    this.#merge = (a, b) => ({
      ...mergeAccumulators(definition, a as Accumulators, b as Accumulators),
      [LATE_ACCUMULATOR]: lateOf(a) + lateOf(b),
    });
  }

  /** One request writing one item (shard watermark and position, watermark commit). */
  #singleWrite(): void {
    this.stats.writeRequests++;
    this.itemWrites++;
  }

  async applyDeltas(deltas: readonly SliceDelta[]): Promise<ApplyDeltasResult> {
    const rejected: RejectedDelta[] = [];
    const touched = new Set<string>();
    let applied = 0;
    let sealed = 0;
    for (const delta of deltas) {
      const id = `${delta.key}\u0000${delta.sliceStart}`;
      let slice = this.#slices.get(id);
      if (slice === undefined) {
        slice = {
          key: delta.key,
          sliceStart: delta.sliceStart,
          sliceEnd: delta.sliceEnd,
          acc: undefined,
          fences: new Map(),
          sealed: false,
          inDueIndex: false,
          windows: undefined,
          windowIds: undefined,
          closedPrefix: 0,
        };
        this.#slices.set(id, slice);
      }
      touched.add(id);
      const fence = slice.fences.get(delta.lane);
      if (fence !== undefined && compareSequences(delta.lastSeq, fence) <= 0) continue;
      if (slice.sealed) {
        sealed++;
        rejected.push({ ...delta, afterSeq: fence, cause: 'sealed' });
        continue;
      }
      const acc =
        fence !== undefined && compareSequences(delta.firstSeq, fence) <= 0
          ? delta.recompute(fence)
          : delta.acc;
      if (acc !== undefined)
        slice.acc = slice.acc === undefined ? acc : this.#merge(slice.acc, acc);
      slice.fences.set(delta.lane, delta.lastSeq);
      if (!slice.inDueIndex) {
        slice.inDueIndex = true;
        let ids = this.#due.get(slice.sliceEnd);
        if (ids === undefined) {
          ids = new Set();
          this.#due.set(slice.sliceEnd, ids);
        }
        ids.add(id);
      }
      applied++;
    }
    const writeRequests = groupedRequests(touched.size);
    this.stats.writeRequests += writeRequests;
    this.stateWrites += writeRequests;
    this.itemWrites += touched.size;
    return {
      writeRequests,
      readRequests: 0,
      conflicts: 0,
      consumedCapacityUnits: 0,
      items: touched.size,
      applied,
      skipped: touched.size - applied - sealed,
      sealed,
      rejected,
    };
  }

  async updateShardWatermark(
    shardId: string,
    maxEventTime: number | undefined,
    processedAt: number,
    position?: { readonly streamArn: string; readonly sequenceNumber: string },
  ): Promise<WatermarkUpdate> {
    // As WindowStore: one conditional write when event time and position both move forward;
    // when it fails, the stored item it returns says which of the writes below are still needed
    // (without a position, or without event time, they are all tried).
    const shard = this.#shards.get(shardId);
    const stored = this.#positions.get(shardId);
    const padded = position === undefined ? undefined : padSequence(position.sequenceNumber);
    const timeAhead =
      maxEventTime !== undefined &&
      (shard?.maxEventTime === undefined || shard.maxEventTime < maxEventTime);
    const positionAhead = padded !== undefined && (stored === undefined || stored < padded);
    const moveTo = (): void => {
      if (padded !== undefined && positionAhead) this.#positions.set(shardId, padded);
    };
    const image = maxEventTime !== undefined && padded !== undefined;
    let update: WatermarkUpdate;
    if (image) {
      this.#singleWrite();
      if (timeAhead && positionAhead) {
        this.#shards.set(shardId, { maxEventTime, processedAt });
        moveTo();
        return 'advanced';
      }
    }
    if (maxEventTime !== undefined && (!image || timeAhead)) this.#singleWrite();
    if (maxEventTime !== undefined && timeAhead) {
      this.#shards.set(shardId, { maxEventTime, processedAt });
      update = 'advanced';
    } else {
      this.#singleWrite();
      if (shard === undefined) {
        // A batch of only filtered records: a row with a position and no event clock.
        this.#shards.set(shardId, { maxEventTime: undefined, processedAt });
        update = 'refreshed';
      } else if (shard.processedAt >= processedAt) update = 'unchanged';
      else {
        shard.processedAt = processedAt;
        update = 'refreshed';
      }
    }
    if (padded !== undefined && (!image || positionAhead)) {
      this.#singleWrite();
      moveTo();
    }
    return update;
  }

  async readWatermark(options: ReadWatermarkOptions): Promise<PipelineWatermark> {
    // The same rules as WindowStore (one module); every silent shard counts as caught up.
    this.stats.readRequests++;
    const rows = [...this.#shards].map(([shardId, s]) => ({
      shardId,
      eventTime: s.maxEventTime,
      processedAt: s.processedAt,
      retired: false,
    }));
    const { watermark, mode, idle } = pipelineWatermark({
      shards: rows,
      behind: new Set(),
      pending: 0,
      committed: this.#committed,
      now: options.now,
      maxOutOfOrderness: options.maxOutOfOrderness,
      idleTimeout: options.idleTimeout,
    });
    const shards = rows.map((row) => ({
      shardId: row.shardId,
      maxEventTime: row.eventTime ?? Number.NEGATIVE_INFINITY,
      processedAt: row.processedAt,
      retired: false,
      idle: idle.has(row.shardId),
    }));
    return { watermark, mode, committed: this.#committed, shards };
  }

  async commitWatermark(watermark: number): Promise<boolean> {
    this.#singleWrite();
    if (this.#committed !== undefined && this.#committed >= watermark) return false;
    this.#committed = watermark;
    return true;
  }

  async findDueWindows(watermark: number, options: FindDueWindowsOptions): Promise<WindowRef[]> {
    this.stats.readRequests++;
    const limit = options.limit ?? 100;
    const found = new Map<string, WindowRef>();
    for (const [sliceEnd, ids] of this.#due) {
      if (sliceEnd > watermark) continue;
      for (const id of ids) {
        const slice = this.#slices.get(id) as Slice;
        if (slice.windows === undefined || slice.windowIds === undefined) {
          const key = slice.key;
          slice.windows = options.windowsOfSlice(slice.sliceStart, slice.sliceEnd);
          slice.windowIds = slice.windows.map((w) => this.#windowId(key, w));
        }
        // Windows are oldest first and a status never goes back to OPEN: skip the closed prefix.
        const windows = slice.windows;
        const windowIds = slice.windowIds;
        while (
          slice.closedPrefix < windows.length &&
          this.#status.has(windowIds[slice.closedPrefix] as string)
        )
          slice.closedPrefix++;
        for (let i = slice.closedPrefix; i < windows.length; i++) {
          const w = windows[i] as WindowBounds;
          if (w.end > watermark) break;
          const wid = windowIds[i] as string;
          if (!this.#status.has(wid))
            found.set(wid, { key: slice.key, start: w.start, end: w.end });
        }
      }
    }
    return [...found.values()]
      .sort((a, b) => a.end - b.end || a.start - b.start || (a.key < b.key ? -1 : 1))
      .slice(0, limit);
  }

  #windowId(key: string, window: WindowBounds): string {
    return `${key}\u0000${window.start}\u0000${window.end}`;
  }

  async closeWindows(windows: readonly WindowRef[]): Promise<CloseOutcome[]> {
    this.stats.writeRequests += groupedRequests(windows.length);
    this.itemWrites += windows.length;
    return windows.map((window) => {
      const wid = this.#windowId(window.key, window);
      if (this.#status.has(wid)) return 'already-closed';
      this.#status.set(wid, 'CLOSED');
      return 'closed';
    });
  }

  async sealWindow(window: WindowRef, sliceMs: number): Promise<WindowContents | undefined> {
    this.stats.readRequests++;
    const toSeal = this.#unsealed(window, sliceMs);
    this.stats.writeRequests += toSeal.length;
    this.itemWrites += toSeal.length;
    for (const slice of toSeal) slice.sealed = true;
    return this.#contentsOf(window, sliceMs);
  }

  async sealSlices(slices: readonly WindowRef[], sliceMs: number): Promise<void> {
    for (const slice of slices) await this.sealWindow(slice, sliceMs);
  }

  async readWindows(windows: readonly WindowRef[]): Promise<Array<WindowContents | undefined>> {
    const out: Array<WindowContents | undefined> = [];
    for (const w of windows) out.push(await this.readWindow(w.key, w.start, w.end));
    return out;
  }

  async sealWindows(
    windows: readonly WindowRef[],
    sliceMs: number,
  ): Promise<Array<WindowContents | undefined>> {
    if (windows.length < 2) return Promise.all(windows.map((w) => this.sealWindow(w, sliceMs)));
    // As WindowStore: one Query per window, then every distinct unsealed slice in grouped writes.
    this.stats.readRequests += windows.length;
    const toSeal = new Set<Slice>();
    for (const window of windows)
      for (const slice of this.#unsealed(window, sliceMs)) toSeal.add(slice);
    this.stats.writeRequests += groupedRequests(toSeal.size);
    this.itemWrites += toSeal.size;
    for (const slice of toSeal) slice.sealed = true;
    return windows.map((window) => this.#contentsOf(window, sliceMs));
  }

  /** The window's slices not sealed yet (created, empty, where absent, as a seal creates them). */
  #unsealed(window: WindowRef, sliceMs: number): Slice[] {
    const unsealed: Slice[] = [];
    for (let start = window.start; start < window.end; start += sliceMs) {
      const id = `${window.key}\u0000${start}`;
      let slice = this.#slices.get(id);
      if (slice === undefined) {
        slice = {
          key: window.key,
          sliceStart: start,
          sliceEnd: start + sliceMs,
          acc: undefined,
          fences: new Map(),
          sealed: false,
          inDueIndex: false,
          windows: undefined,
          windowIds: undefined,
          closedPrefix: 0,
        };
        this.#slices.set(id, slice);
      }
      if (!slice.sealed) unsealed.push(slice);
    }
    return unsealed;
  }

  #contentsOf(window: WindowRef, sliceMs: number): WindowContents | undefined {
    let acc: AccSet | undefined;
    const slices: WindowBounds[] = [];
    for (let start = window.start; start < window.end; start += sliceMs) {
      const slice = this.#slices.get(`${window.key}\u0000${start}`);
      if (slice?.acc === undefined) continue;
      acc = acc === undefined ? slice.acc : this.#merge(acc, slice.acc);
      slices.push({ start: slice.sliceStart, end: slice.sliceEnd });
    }
    return acc === undefined ? undefined : { acc, slices };
  }

  async readWindow(key: string, start: number, end: number): Promise<WindowContents | undefined> {
    this.stats.readRequests++;
    let acc: AccSet | undefined;
    const slices: WindowBounds[] = [];
    for (const slice of this.#slices.values()) {
      if (slice.key !== key || slice.sliceStart < start || slice.sliceStart >= end) continue;
      if (slice.acc === undefined) continue;
      acc = acc === undefined ? slice.acc : this.#merge(acc, slice.acc);
      slices.push({ start: slice.sliceStart, end: slice.sliceEnd });
    }
    return acc === undefined ? undefined : { acc, slices };
  }

  async markWindowsEmitted(windows: readonly WindowRef[]): Promise<EmitOutcome[]> {
    this.stats.writeRequests += groupedRequests(windows.length);
    this.itemWrites += windows.length;
    return windows.map((window) => {
      const wid = this.#windowId(window.key, window);
      if (this.#status.get(wid) === 'EMITTED') return 'already-emitted';
      this.#status.set(wid, 'EMITTED');
      return 'emitted';
    });
  }

  async findClosedNotEmitted(): Promise<ClosedWindow[]> {
    this.stats.readRequests++;
    return [];
  }

  async leaveDueIndexAll(
    slices: ReadonlyArray<{ readonly key: string; readonly sliceStart: number }>,
  ): Promise<void> {
    this.stats.writeRequests += groupedRequests(slices.length);
    this.itemWrites += slices.length;
    for (const { key, sliceStart } of slices) {
      const id = `${key}\u0000${sliceStart}`;
      const slice = this.#slices.get(id);
      if (slice === undefined || !slice.inDueIndex) continue;
      slice.inDueIndex = false;
      const ids = this.#due.get(slice.sliceEnd);
      ids?.delete(id);
      if (ids?.size === 0) this.#due.delete(slice.sliceEnd);
      // Emitted state is not needed any more: drop it, as the TTL would.
      this.#slices.delete(id);
    }
  }
}
