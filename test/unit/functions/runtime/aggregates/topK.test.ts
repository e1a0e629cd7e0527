import fc from 'fast-check';
import { type TopKAcc, topK } from '#runtime/aggregates/topK';
import { InvalidAggregateError } from '#runtime/errors';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold, splitAt } from './laws';

const exactCounts = (xs: readonly string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return counts;
};

/** Zipf-like skew: value k with weight ~ 1/(k+1). */
const skewed = (n: number, distinctValues: number, seed: number): string[] => {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  return Array.from({ length: n }, () => `v${Math.floor(distinctValues ** random()) - 1}`);
};

describe('topK', () => {
  const top3 = topK(3, (v: string) => v, { capacity: 16 });

  it('is exact while at most `capacity` distinct values are seen, whatever the split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 15 }).map(String)),
        fc.array(fc.nat()),
        (xs, cuts) => {
          // GIVEN
          const counts = exactCounts(xs);
          const expected = [...counts]
            .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
            .slice(0, 3)
            .map(([value, count]) => ({ value, count }));

          // WHEN
          const merged = splitAt(xs, cuts)
            .map((chunk) => fold(top3, chunk) as TopKAcc)
            .reduce((a, b) => top3.merge(a, b), top3.empty());

          // THEN
          expect(top3.result(merged)).toEqual(expected);
          expectJsonRoundTrip(merged);
        },
      ),
    );
  });

  it('finds the exact top 10 with exact counts on skewed data (Zipf, 100k values, 1,000 distinct)', () => {
    // GIVEN
    const top10 = topK(10, (v: string) => v);
    const xs = skewed(100_000, 1_000, 7);
    const truth = [...exactCounts(xs)].sort((a, b) => b[1] - a[1]);
    const n = xs.length;

    // WHEN: 10 partials of 10k each, merged
    const merged = splitAt(
      xs,
      [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000],
    )
      .map((chunk) => fold(top10, chunk) as TopKAcc)
      .reduce((a, b) => top10.merge(a, b));
    const result = top10.result(merged);

    // THEN: the same 10 values in the same order, each count within the bound N/(capacity+1)
    expect(result.map((e) => e.value)).toEqual(truth.slice(0, 10).map(([v]) => v));
    const bound = n / (80 + 1);
    result.forEach((entry, i) => {
      const exact = (truth[i] as [string, number])[1];
      expect(entry.count).toBeLessThanOrEqual(exact);
      expect(exact - entry.count).toBeLessThanOrEqual(bound);
    });
  });

  it('never over-counts and under-counts by at most N/(capacity+1), with any split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }).map(String), { maxLength: 400 }),
        fc.array(fc.nat()),
        (xs, cuts) => {
          // GIVEN
          const counts = exactCounts(xs);

          // WHEN
          const merged = splitAt(xs, cuts)
            .map((chunk) => fold(top3, chunk) as TopKAcc)
            .reduce((a, b) => top3.merge(a, b), top3.empty());

          // THEN
          expect(merged.n).toBe(xs.length);
          expect(merged.counters.length).toBeLessThanOrEqual(16);
          for (const [value, count] of merged.counters) {
            const exact = counts.get(value) ?? 0;
            expect(count).toBeLessThanOrEqual(exact);
            expect(exact - count).toBeLessThanOrEqual(xs.length / 17);
          }
          for (const [value, exact] of counts) {
            if (exact > xs.length / 17)
              expect(merged.counters.some(([v]) => v === value)).toBe(true);
          }
        },
      ),
    );
  });

  it('merges commutatively and associatively while exact', () => {
    const values = fc.array(fc.integer({ min: 0, max: 4 }).map(String));
    expectMergeLaws(top3, values);
    expectSplitInvariance(top3, values);
  });

  it('stores counters count descending, then value ascending by UTF-16 code units', () => {
    const wide = topK(3, (v: string) => v, { capacity: 64 });
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3, unit: 'binary' }), { maxLength: 200 }),
        (xs) => {
          // WHEN
          const acc = fold(wide, xs) as TopKAcc;

          // THEN the order a plain comparator gives (ties on count broken by `<`)
          const expected = [...acc.counters].sort(
            (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
          );
          expect(acc.counters).toEqual(expected);
        },
      ),
    );
  });

  it('merges two summaries as summing their counters and cutting once at capacity + 1', () => {
    const small = topK(2, (v: string) => v, { capacity: 4 });
    // The Misra–Gries merge spelled out: sum, sort, subtract the (capacity+1)-th largest count.
    const oracle = (a: TopKAcc, b: TopKAcc): TopKAcc => {
      const counts = new Map<string, number>(a.counters.map(([v, c]) => [v, c]));
      for (const [v, c] of b.counters) counts.set(v, (counts.get(v) ?? 0) + c);
      const sorted = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
      const cut = sorted.length > 4 ? (sorted[4] as [string, number])[1] : 0;
      return {
        n: a.n + b.n,
        counters: sorted.filter(([, c]) => c > cut).map(([v, c]) => [v, c - cut]),
      };
    };
    const values = fc.array(fc.string({ maxLength: 2, unit: 'binary' }), { maxLength: 60 });
    fc.assert(
      fc.property(values, values, (xs, ys) => {
        // GIVEN two stored summaries that overflowed their capacity
        const a = fold(small, xs) as TopKAcc;
        const b = fold(small, ys) as TopKAcc;

        // WHEN merged, in stored order and (the fallback) out of it
        const merged = small.merge(a, b);
        const unsorted = small.merge(
          { n: a.n, counters: [...a.counters].reverse() },
          { n: b.n, counters: [...b.counters].reverse() },
        );

        // THEN both are the merge spelled out
        expect(merged).toEqual(oracle(a, b));
        expect(unsorted).toEqual(oracle(a, b));
      }),
    );
  });

  it('handles values named like Object.prototype members', () => {
    const acc = fold(top3, ['__proto__', 'constructor', '__proto__']) as TopKAcc;
    expect(top3.result(acc)).toEqual([
      { value: '__proto__', count: 2 },
      { value: 'constructor', count: 1 },
    ]);
  });

  it('fails on n < 1 or capacity < n', () => {
    expect(() => topK(0, (v: string) => v)).toThrow(InvalidAggregateError);
    expect(() => topK(5, (v: string) => v, { capacity: 4 })).toThrow(InvalidAggregateError);
  });
});
