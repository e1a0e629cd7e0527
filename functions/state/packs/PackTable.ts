import { type RawItem, str } from '../attributes';
import { TABLE_KEYS } from '../constants';
import { expiresAt, lanePartition, sliceSortKey, slicesPartition, windowSortKey } from '../keys';
import type { DynamoDBSender, WindowBounds, WindowStoreStats } from '../types';

/** Attribute names of the lane packs layout's items (besides `ATTR`'s). */
export const PACK_ATTR = {
  /** Lane row: the highest sequence number the lane's packs account for. */
  cursor: 'cursor',
  /** Pack: its body (deflated JSON). */
  body: 'b',
  /** Slice row: when its first pack was committed. */
  opened: 'opened',
  /** Slice row: how many pack parts were committed to the slice. */
  parts: 'parts',
} as const;

/** The `kind` of each item of the layout, for humans reading the table. */
export const PACK_KIND = { LANE: 'lane', SLICE: 'slice', WINDOW: 'window' } as const;

/** Settings of one pipeline's lane packs. */
export interface PackTableOptions {
  /** The client, already wrapped by the store (conflict retries). */
  readonly client: DynamoDBSender;
  readonly tableName: string;
  readonly pipeline: string;
  /** The store's cumulative counters: every request counts there. */
  readonly stats: WindowStoreStats;
  readonly clock: () => number;
  readonly sliceMs: number;
  /** Longest window a slice belongs to. */
  readonly windowSizeMs: number;
  readonly maxOutOfOrdernessMs: number;
  readonly retentionMs: number;
  /** Attempts of anything retried on conflicts. */
  readonly maxAttempts: number;
}

/**
 * One pipeline's lane packs in the state table: its settings, where its items are, and how long
 * they live. Shared by the lane writer, the slice rows and the pack reader.
 */
export interface PackTable extends PackTableOptions {
  /** Slice starts of a window. */
  slicesOf(window: WindowBounds): number[];
  /** TTL of a slice's items: its last window's end + out-of-orderness + retention. */
  expiresAt(sliceEnd: number, now: number): number;
  laneKey(lane: string): RawItem;
  sliceKey(sliceStart: number): RawItem;
  windowKey(window: WindowBounds): RawItem;
}

/** The {@link PackTable} of these settings. */
export function packTable(options: PackTableOptions): PackTable {
  const { pipeline, sliceMs } = options;
  const key = (partition: string, sort: string): RawItem => ({
    [TABLE_KEYS.partitionKey]: str(partition),
    [TABLE_KEYS.sortKey]: str(sort),
  });
  return {
    ...options,
    slicesOf(window) {
      const starts: number[] = [];
      for (let s = window.start; s < window.end; s += sliceMs) starts.push(s);
      return starts;
    },
    expiresAt(sliceEnd, now) {
      const lastWindowEnd = sliceEnd - sliceMs + options.windowSizeMs;
      return expiresAt(lastWindowEnd + options.maxOutOfOrdernessMs, options.retentionMs, now);
    },
    laneKey: (lane) => key(lanePartition(pipeline), lane),
    sliceKey: (sliceStart) => key(slicesPartition(pipeline), sliceSortKey(sliceStart)),
    windowKey: (window) => key(slicesPartition(pipeline), windowSortKey(window.start, window.end)),
  };
}

/** How a window is identified in memory. */
export const windowId = (w: WindowBounds): string => `${w.start}\u0000${w.end}`;
