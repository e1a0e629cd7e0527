import { type AccSet, compareSequences, type SliceDelta } from '#state/index';

/** A source record as the tests model it. */
export interface TestRecord {
  readonly lane: string;
  readonly seq: string;
  readonly key: string;
  readonly ts: number;
  readonly value: number;
  readonly id: string;
}

/** Slice length of the test pipeline (tumbling 1 minute). */
export const SLICE_MS = 60_000;

/** Names of the test aggregate's additive accumulators. */
export const ADDITIVE = new Set(['count', 'sum']);

/** `maxIds`: a non-additive accumulator (max value + every contributing id, duplicates kept). */
interface MaxIds {
  readonly max: number;
  readonly ids: string[];
}

/** Merges accumulator sets of the tiny test aggregate (count, sum, optional maxIds). */
export function mergeAccs(a: AccSet, b: AccSet): AccSet {
  const out: AccSet = {
    count: (a.count as number) + (b.count as number),
    sum: (a.sum as number) + (b.sum as number),
  };
  if (a.maxIds !== undefined || b.maxIds !== undefined) {
    const x = (a.maxIds ?? { max: Number.NEGATIVE_INFINITY, ids: [] }) as MaxIds;
    const y = (b.maxIds ?? { max: Number.NEGATIVE_INFINITY, ids: [] }) as MaxIds;
    out.maxIds = { max: Math.max(x.max, y.max), ids: [...x.ids, ...y.ids].sort() };
  }
  return out;
}

/** Aggregates records (count, sum, and maxIds when `withIds`). */
export function aggregate(records: readonly TestRecord[], withIds: boolean): AccSet {
  const acc: AccSet = { count: records.length, sum: records.reduce((s, r) => s + r.value, 0) };
  if (withIds) {
    acc.maxIds = {
      max: Math.max(...records.map((r) => r.value)),
      ids: records.map((r) => r.id).sort(),
    };
  }
  return acc;
}

/** Start of the slice a record falls into. */
export const sliceOf = (ts: number): number => Math.floor(ts / SLICE_MS) * SLICE_MS;

/**
 * Pre-aggregates one batch into one delta per (key, slice, lane), as the runtime would: its
 * records' sequence numbers, and `recompute` of the records in (`after`, `upto`].
 */
export function deltasOf(batch: readonly TestRecord[], withIds = true): SliceDelta[] {
  const groups = new Map<string, TestRecord[]>();
  for (const r of batch) {
    const id = `${r.key}|${sliceOf(r.ts)}|${r.lane}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return [...groups.values()].map((records) => {
    const first = records[0] as TestRecord;
    const seqs = records.map((r) => r.seq).sort(compareSequences);
    return {
      key: first.key,
      sliceStart: sliceOf(first.ts),
      sliceEnd: sliceOf(first.ts) + SLICE_MS,
      lane: first.lane,
      firstSeq: seqs[0] as string,
      lastSeq: seqs[seqs.length - 1] as string,
      acc: aggregate(records, withIds),
      sequences: () => records.map((r) => r.seq),
      recompute: (after: string | undefined, upto?: string) => {
        const rest = records.filter(
          (r) =>
            (after === undefined || BigInt(r.seq) > BigInt(after)) &&
            (upto === undefined || BigInt(r.seq) <= BigInt(upto)),
        );
        return rest.length === 0 ? undefined : aggregate(rest, withIds);
      },
    };
  });
}

/** Expected accumulators per `key|sliceStart` over the unique records. */
export function oracle(records: readonly TestRecord[], withIds: boolean): Map<string, AccSet> {
  const groups = new Map<string, TestRecord[]>();
  for (const r of records) {
    const id = `${r.key}|${sliceOf(r.ts)}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return new Map([...groups].map(([id, rs]) => [id, aggregate(rs, withIds)]));
}

/** A 56-digit sequence number (beyond Number and beyond 2^128) at position `n` of a lane. */
export function seqAt(lane: number, n: number): string {
  return (10n ** 55n * BigInt(lane + 1) + BigInt(n) * 1_000_003n).toString();
}
