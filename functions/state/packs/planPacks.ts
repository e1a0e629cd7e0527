import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import type { AccSet, SliceDelta } from '../types';
import { encodePack, type PackEntry } from './packCodec';

/** The records of one lane a pack plan covers: sequence numbers in (`after`, `upto`]. */
export interface SequenceRange {
  /** Exclusive lower bound (the lane's cursor); `undefined`: from the lane's start. */
  readonly after: string | undefined;
  /** Inclusive upper bound; `undefined`: no bound. */
  readonly upto: string | undefined;
}

/** What one lane adds to one slice within a range: its pack, split into parts by size. */
export interface SlicePack {
  readonly sliceStart: number;
  readonly sliceEnd: number;
  /** Encoded parts (each at most `maxPartBytes`), in key order. */
  readonly parts: readonly Uint8Array[];
  /** The deltas whose records in the range the pack holds. */
  readonly deltas: readonly SliceDelta[];
}

/** A lane's packs for one range of its records. */
export interface PackPlan {
  /** One pack per slice with records in the range, by slice start. */
  readonly slices: readonly SlicePack[];
  /** Deltas whose one key's accumulators alone exceed `maxPartBytes` (STATE_TOO_LARGE). */
  readonly tooLarge: readonly SliceDelta[];
  /** Encoded bytes of every part. */
  readonly bytes: number;
}

/**
 * Plans what a lane's records in `range` add to each slice: one pack per slice holding every
 * key's accumulators of those records, split into parts of at most `maxPartBytes` encoded. Pure:
 * the store decides what to write and under which conditions.
 *
 * A delta wholly inside the range contributes its accumulators as they are; one that straddles a
 * bound is re-folded from its records in the range (`recompute`). Deltas without a record in the
 * range contribute nothing.
 *
 * @param deltas - one lane's deltas of one batch
 * @example
 * const plan = planPacks(deltas, { after: cursor, upto: undefined }, 350 * 1024);
 */
export function planPacks(
  deltas: readonly SliceDelta[],
  range: SequenceRange,
  maxPartBytes: number,
): PackPlan {
  const bySlice = new Map<
    number,
    { sliceEnd: number; entries: Array<[string, AccSet]>; deltas: SliceDelta[] }
  >();
  for (const delta of deltas) {
    const acc = accInRange(delta, range);
    if (acc === undefined) continue;
    const slice = bySlice.get(delta.sliceStart) ?? {
      sliceEnd: delta.sliceEnd,
      entries: [],
      deltas: [],
    };
    slice.entries.push([delta.key, acc]);
    slice.deltas.push(delta);
    bySlice.set(delta.sliceStart, slice);
  }
  const slices: SlicePack[] = [];
  const tooLarge: SliceDelta[] = [];
  let bytes = 0;
  for (const sliceStart of [...bySlice.keys()].sort((a, b) => a - b)) {
    const slice = bySlice.get(sliceStart) as NonNullable<ReturnType<typeof bySlice.get>>;
    const order = slice.entries.map((_, i) => i).sort((a, b) => compareKeys(slice, a, b));
    const { parts, oversized } = splitParts(
      order.map((i) => slice.entries[i] as PackEntry),
      maxPartBytes,
    );
    const refused = new Set(oversized);
    for (const i of order) {
      if (refused.has((slice.entries[i] as PackEntry)[0]))
        tooLarge.push(slice.deltas[i] as SliceDelta);
    }
    if (parts.length === 0) continue;
    for (const part of parts) bytes += part.byteLength;
    slices.push({
      sliceStart,
      sliceEnd: slice.sliceEnd,
      parts,
      deltas: slice.deltas.filter((d) => !refused.has(d.key)),
    });
  }
  return { slices, tooLarge, bytes };
}

/** The delta's accumulators of its records in `range`, or `undefined` when it has none there. */
export function accInRange(delta: SliceDelta, range: SequenceRange): AccSet | undefined {
  const { after, upto } = range;
  if (after !== undefined && compareSequenceNumbers(delta.lastSeq, after) <= 0) return undefined;
  if (upto !== undefined && compareSequenceNumbers(delta.firstSeq, upto) > 0) return undefined;
  const fromStart = after === undefined || compareSequenceNumbers(delta.firstSeq, after) > 0;
  const toEnd = upto === undefined || compareSequenceNumbers(delta.lastSeq, upto) <= 0;
  return fromStart && toEnd ? delta.acc : delta.recompute(after, upto);
}

function compareKeys(
  slice: { entries: ReadonlyArray<readonly [string, AccSet]> },
  a: number,
  b: number,
): number {
  // Keys are distinct within a slice (one delta per key, slice and lane).
  return (slice.entries[a] as PackEntry)[0] < (slice.entries[b] as PackEntry)[0] ? -1 : 1;
}

/**
 * Encodes entries into as few parts as fit `maxPartBytes`: all in one when they fit, else halves,
 * recursively (never called with none). An entry that does not fit alone is left out (`oversized`,
 * by key).
 */
function splitParts(
  entries: readonly PackEntry[],
  maxPartBytes: number,
): { parts: Uint8Array[]; oversized: string[] } {
  const body = encodePack(entries);
  if (body.byteLength <= maxPartBytes) return { parts: [body], oversized: [] };
  if (entries.length === 1) return { parts: [], oversized: [(entries[0] as PackEntry)[0]] };
  const middle = Math.ceil(entries.length / 2);
  const left = splitParts(entries.slice(0, middle), maxPartBytes);
  const right = splitParts(entries.slice(middle), maxPartBytes);
  return {
    parts: [...left.parts, ...right.parts],
    oversized: [...left.oversized, ...right.oversized],
  };
}
