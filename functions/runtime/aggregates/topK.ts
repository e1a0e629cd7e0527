import { AGGREGATE_KIND } from '../constants';
import { AggregateValueError, InvalidAggregateError } from '../errors';
import type { Aggregate } from '../types';

/** Stored accumulator of {@link topK}: a Misra–Gries summary. */
export interface TopKAcc {
  /** Number of values folded in (N). */
  readonly n: number;
  /** At most `capacity` `[value, count]` pairs, count descending then value ascending. */
  readonly counters: readonly (readonly [string, number])[];
}

/** Working accumulator of {@link topK}. */
export interface TopKWork {
  n: number;
  counts: Map<string, number>;
}

/** One entry of a {@link topK} result. */
export interface TopKEntry {
  readonly value: string;
  /** Lower bound of the true count; exact while the summary never overflowed. */
  readonly count: number;
}

/** Options of {@link topK}. */
export interface TopKOptions {
  /**
   * Counters kept in the summary (≥ n). More counters, smaller error.
   * @default max(64, 8·n)
   */
  readonly capacity?: number;
}

/** Keeps at most `capacity` counters: subtracts the (capacity+1)-th largest count from all (Misra–Gries). */
const reduce = (counts: Map<string, number>, capacity: number): void => {
  if (counts.size <= capacity) return;
  // Typed-array sort: numeric and ascending without a comparator call per comparison.
  const sorted = Float64Array.from(counts.values()).sort();
  const cut = sorted[sorted.length - 1 - capacity] as number;
  for (const [value, c] of counts) {
    if (c <= cut) counts.delete(value);
    else counts.set(value, c - cut);
  }
};

/**
 * The counters as `[value, count]` pairs, count descending then value ascending (UTF-16 code
 * units, as `<` compares strings). Values are bucketed by count (counts are integers, and few
 * distinct ones), so only the values of equal count are compared, by the comparator-less sort.
 */
const sortedCounters = (counts: ReadonlyMap<string, number>): [string, number][] => {
  const byCount = new Map<number, string[]>();
  for (const [value, c] of counts) {
    const bucket = byCount.get(c);
    if (bucket === undefined) byCount.set(c, [value]);
    else bucket.push(value);
  }
  const descending = Float64Array.from(byCount.keys()).sort().reverse();
  const out: [string, number][] = [];
  for (const c of descending) {
    const values = (byCount.get(c) as string[]).sort();
    for (const value of values) out.push([value, c]);
  }
  return out;
};

type Counter = readonly [string, number];

/** Count descending, then value ascending (UTF-16 code units, as `<` compares strings). */
const before = (x: Counter, y: Counter): boolean => x[1] > y[1] || (x[1] === y[1] && x[0] < y[0]);

/** Whether counters are in stored order (count descending, then value ascending, unique). */
const isSorted = (counters: readonly Counter[]): boolean => {
  for (let i = 1; i < counters.length; i++) {
    if (!before(counters[i - 1] as Counter, counters[i] as Counter)) return false;
  }
  return true;
};

/**
 * The merge of two stored summaries, without re-sorting them: a value in one summary only keeps
 * its place in that summary's order, so only the values in both (their counts summed) are
 * sorted; the three sorted lists are then merged until `capacity + 1` counters are known — enough
 * for the Misra–Gries cut (the (capacity+1)-th largest count, subtracted from all; counters at or
 * below it dropped), which keeps the order. Same result as summing into one map, reducing and
 * sorting; `undefined` when an input is not in stored order (the caller does exactly that).
 */
const mergeSorted = (
  a: readonly Counter[],
  b: readonly Counter[],
  capacity: number,
): [string, number][] | undefined => {
  if (!isSorted(a) || !isSorted(b)) return undefined;
  const inB = new Map<string, number>();
  for (let j = 0; j < b.length; j++) inB.set((b[j] as Counter)[0], j);
  const summed = new Uint8Array(b.length);
  const onlyA: Counter[] = [];
  const both: Counter[] = [];
  for (let i = 0; i < a.length; i++) {
    const counter = a[i] as Counter;
    const j = inB.get(counter[0]);
    if (j === undefined) onlyA.push(counter);
    else {
      both.push([counter[0], counter[1] + (b[j] as Counter)[1]]);
      summed[j] = 1;
    }
  }
  both.sort((x, y) => (before(x, y) ? -1 : 1));
  const lists = [onlyA, both, b];
  const next = [0, 0, 0];
  const skipSummed = (): void => {
    while ((next[2] as number) < b.length && summed[next[2] as number] === 1)
      next[2] = (next[2] as number) + 1;
  };
  skipSummed();
  const head: Counter[] = [];
  while (head.length <= capacity) {
    let best = -1;
    for (let l = 0; l < 3; l++) {
      const list = lists[l] as Counter[];
      const at = next[l] as number;
      if (at >= list.length) continue;
      if (
        best === -1 ||
        before(list[at] as Counter, (lists[best] as Counter[])[next[best] as number] as Counter)
      )
        best = l;
    }
    if (best === -1) break;
    head.push((lists[best] as Counter[])[next[best] as number] as Counter);
    next[best] = (next[best] as number) + 1;
    if (best === 2) skipSummed();
  }
  const cut = head.length > capacity ? (head[capacity] as Counter)[1] : 0;
  const out: [string, number][] = [];
  for (let k = 0; k < head.length && k < capacity; k++) {
    const [value, c] = head[k] as Counter;
    if (c <= cut) break;
    out.push([value, c - cut]);
  }
  return out;
};

/**
 * The n most frequent values of a field with their counts, as a mergeable Misra–Gries summary
 * with `capacity` counters (Agarwal et al., "Mergeable Summaries", 2012).
 *
 * Error bound: exact while at most `capacity` distinct values were seen (per accumulator and
 * across merges). Otherwise each reported count is a lower bound that undercounts by at most
 * (N − Σcounters)/(capacity + 1) ≤ N/(capacity + 1), N = values folded in, and every value more
 * frequent than N/(capacity + 1) is in the summary. Stored size: ≤ capacity `[value, count]` pairs.
 *
 * @param n - how many values to report
 * @param fn - the value to count
 * @example
 * ```ts
 * .aggregate({ topPages: topK(10, (e) => e.page) }) // [{ value: '/home', count: 42 }, …]
 * ```
 */
export const topK = <TIn>(
  n: number,
  fn: (input: TIn) => string | number,
  options: TopKOptions = {},
): Aggregate<TIn, TopKAcc, TopKEntry[], string, TopKWork> => {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidAggregateError('topK', `n must be an integer ≥ 1, got ${n}`);
  }
  const capacity = options.capacity ?? Math.max(64, 8 * n);
  if (!Number.isInteger(capacity) || capacity < n) {
    throw new InvalidAggregateError(
      'topK',
      `capacity must be an integer ≥ n (${n}), got ${capacity}`,
    );
  }
  const toAcc = (total: number, counts: Map<string, number>): TopKAcc => {
    reduce(counts, capacity);
    return { n: total, counters: sortedCounters(counts) };
  };
  return {
    kind: AGGREGATE_KIND.TOP_K,
    additive: false,
    options: { n, capacity },
    value: (input) => {
      const v = fn(input);
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      throw new AggregateValueError('topK', v, 'a string or a finite number');
    },
    init: () => ({ n: 0, counts: new Map() }),
    add: (work, value) => {
      work.n += 1;
      work.counts.set(value, (work.counts.get(value) ?? 0) + 1);
      // Amortized: let the map grow to twice the capacity, then reduce once.
      if (work.counts.size > 2 * capacity) reduce(work.counts, capacity);
      return work;
    },
    seal: (work) => toAcc(work.n, work.counts),
    empty: () => ({ n: 0, counters: [] }),
    merge: (a, b) => {
      const merged = mergeSorted(a.counters, b.counters, capacity);
      if (merged !== undefined) return { n: a.n + b.n, counters: merged };
      const counts = new Map<string, number>();
      for (const [value, c] of a.counters) counts.set(value, c);
      for (const [value, c] of b.counters) counts.set(value, (counts.get(value) ?? 0) + c);
      return toAcc(a.n + b.n, counts);
    },
    result: (acc) => acc.counters.slice(0, n).map(([value, c]) => ({ value, count: c })),
  };
};
