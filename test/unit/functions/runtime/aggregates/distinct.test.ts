import fc from 'fast-check';
import { type DistinctAcc, distinct } from '#runtime/aggregates/distinct';
import { AggregateValueError, InvalidAggregateError } from '#runtime/errors';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold } from './laws';

const byValue = distinct((v: string) => v);

/** Relative error of the distinct count of `n` unique values `${seed}-${i}`. */
const relativeError = (n: number, seed: string): number => {
  let work = byValue.init();
  for (let i = 0; i < n; i++) work = byValue.add(work, byValue.value(`${seed}-user-${i}`));
  return byValue.result(byValue.seal(work)) / n - 1;
};

describe('distinct', () => {
  it('is exact up to the threshold, like a naive Set', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 }), (xs) => {
        // GIVEN
        const expected = new Set(xs).size;
        fc.pre(expected <= 64);

        // WHEN
        const acc = fold(byValue, xs) as DistinctAcc;

        // THEN
        expect(acc.kind).toBe('exact');
        expect(byValue.result(acc)).toBe(expected);
        expectJsonRoundTrip(acc);
      }),
    );
  });

  it('treats 1 and "1" as the same value', () => {
    // GIVEN
    const aggregate = distinct((v: string | number) => v);

    // WHEN / THEN
    expect(aggregate.result(fold(aggregate, [1, '1', 2]) as DistinctAcc)).toBe(2);
  });

  it('switches to HyperLogLog above the threshold, stored as 4,096 base64 characters', () => {
    // GIVEN
    const values = Array.from({ length: 65 }, (_, i) => `v${i}`);

    // WHEN
    const acc = fold(byValue, values) as DistinctAcc;

    // THEN
    expect(acc.kind).toBe('hll');
    expect(JSON.stringify(acc).length).toBeLessThan(4_150);
    if (acc.kind === 'hll') expect(acc.registers).toHaveLength(4_096);
    expect(Math.abs(byValue.result(acc) - 65)).toBeLessThanOrEqual(3);
    expectJsonRoundTrip(acc);
  });

  it('merges associatively, commutatively and split-invariantly, exact and HyperLogLog alike', () => {
    const values = fc.array(fc.integer({ min: 0, max: 300 }).map(String), { maxLength: 150 });
    expectMergeLaws(byValue, values, 100);
    expectSplitInvariance(byValue, values, 100);
  });

  it('has ≤ 2 % standard error at 10k and 100k distinct values (precision 12)', () => {
    // GIVEN 24 independent value sets per size
    for (const n of [10_000, 100_000]) {
      // WHEN
      const errors = Array.from({ length: 24 }, (_, seed) => relativeError(n, `s${seed}`));

      // THEN
      const rms = Math.sqrt(errors.reduce((acc, e) => acc + e * e, 0) / errors.length);
      expect(rms).toBeLessThanOrEqual(0.02);
      for (const e of errors) expect(Math.abs(e)).toBeLessThan(0.06); // > 3.5 σ never
    }
  });

  it('counts a fixed 10k and 100k data set within 2 %', () => {
    expect(Math.abs(relativeError(10_000, 'fixed'))).toBeLessThanOrEqual(0.02);
    expect(Math.abs(relativeError(100_000, 'fixed'))).toBeLessThanOrEqual(0.02);
  });

  it('counts duplicates once across merges of HyperLogLog partials', () => {
    // GIVEN 5 partials of the same 5,000 values
    const values = Array.from({ length: 5_000 }, (_, i) => `dup-${i}`);
    const partials = Array.from({ length: 5 }, () => fold(byValue, values) as DistinctAcc);

    // WHEN
    const merged = partials.reduce((a, b) => byValue.merge(a, b));

    // THEN
    expect(merged).toEqual(partials[0]);
    expect(Math.abs(byValue.result(merged) / 5_000 - 1)).toBeLessThan(0.05);
  });

  it('merges and counts a sketch read back from storage exactly like the one it built', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 65, max: 3_000 }),
        fc.integer({ min: 0, max: 3_000 }),
        (n, m) => {
          // GIVEN sketches built here (their registers cached) and their JSON copies (decoded)
          const a = fold(
            byValue,
            Array.from({ length: n }, (_, i) => `a-${i}`),
          ) as DistinctAcc;
          const b = fold(
            byValue,
            Array.from({ length: m }, (_, i) => `b-${i}`),
          ) as DistinctAcc;
          const stored = (acc: DistinctAcc): DistinctAcc => JSON.parse(JSON.stringify(acc));

          // WHEN
          const merged = byValue.merge(a, b);
          const mergedFromStorage = byValue.merge(stored(a), stored(b));

          // THEN the stored form and the count are the same either way, and the inputs are unchanged
          expect(mergedFromStorage).toEqual(merged);
          expect(byValue.result(stored(merged))).toBe(byValue.result(merged));
          expect(byValue.merge(stored(a), stored(b))).toEqual(byValue.merge(a, b));
          expect(stored(a)).toEqual(
            fold(
              byValue,
              Array.from({ length: n }, (_, i) => `a-${i}`),
            ),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('fails on a value that is neither a string nor a finite number', () => {
    const aggregate = distinct((v: unknown) => v as string);
    expect(() => aggregate.value({})).toThrow(AggregateValueError);
    expect(() => aggregate.value(Number.NaN)).toThrow(AggregateValueError);
  });

  it('fails on a precision outside 4..16', () => {
    expect(() => distinct((v: string) => v, { precision: 3 })).toThrow(InvalidAggregateError);
    expect(() => distinct((v: string) => v, { precision: 17 })).toThrow(InvalidAggregateError);
  });
});
