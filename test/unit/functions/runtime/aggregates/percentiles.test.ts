import fc from 'fast-check';
import type { SketchAcc } from '#runtime/aggregates/DDSketch';
import { percentiles, quantileName } from '#runtime/aggregates/percentiles';
import { AggregateValueError, InvalidAggregateError } from '#runtime/errors';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold } from './laws';

const QUANTILES = [0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1];
const latency = percentiles((x: number) => x, QUANTILES);

/** The exact element of rank ⌊q·(n−1)⌋. */
const oracle = (xs: readonly number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
};

const expectWithinRelative = (
  estimate: number | null | undefined,
  exact: number,
  alpha: number,
): void => {
  expect(estimate).not.toBeNull();
  const error = Math.abs((estimate as number) - exact);
  expect(error).toBeLessThanOrEqual(alpha * Math.abs(exact) + 1e-9);
};

const values = fc.array(
  fc.oneof(
    fc.double({ min: -1e9, max: 1e9, noNaN: true }),
    fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
    fc.integer({ min: 0, max: 100 }),
  ),
  { minLength: 1, maxLength: 300 },
);

describe('percentiles', () => {
  it('reports every quantile within 1 % relative error of the exact one, on random data', () => {
    fc.assert(
      fc.property(values, (xs) => {
        // GIVEN / WHEN
        const result = latency.result(fold(latency, xs) as SketchAcc);

        // THEN
        for (const q of QUANTILES)
          expectWithinRelative(result[quantileName(q)], oracle(xs, q), 0.01);
      }),
      { numRuns: 300 },
    );
  });

  it('stays within 1 % on 100k log-normal latencies split into merged partials', () => {
    // GIVEN
    let state = 42;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state + 0.5) / 4294967296;
    };
    const xs = Array.from({ length: 100_000 }, () => {
      const gaussian = Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
      return Math.exp(4 + 1.5 * gaussian);
    });

    // WHEN
    const partials = [0, 1, 2, 3].map(
      (i) => fold(latency, xs.slice(i * 25_000, (i + 1) * 25_000)) as SketchAcc,
    );
    const merged = partials.reduce((a, b) => latency.merge(a, b));
    const result = latency.result(merged);

    // THEN
    for (const q of QUANTILES) expectWithinRelative(result[quantileName(q)], oracle(xs, q), 0.01);
    expectJsonRoundTrip(merged);
    expect(JSON.stringify(merged).length).toBeLessThan(8_000);
  });

  it('merges exactly: associative, commutative, split-invariant', () => {
    expectMergeLaws(latency, values, 100);
    expectSplitInvariance(latency, values, 100);
  });

  it('reports null for an empty window', () => {
    expect(latency.result(latency.empty())).toEqual(
      Object.fromEntries(QUANTILES.map((q) => [quantileName(q), null])),
    );
  });

  it('names quantiles p50, p99, p99.9', () => {
    expect([0.5, 0.99, 0.999, 0.25, 1].map(quantileName)).toEqual([
      'p50',
      'p99',
      'p99.9',
      'p25',
      'p100',
    ]);
  });

  it('fails on a non-finite value', () => {
    expect(() => latency.value(Number.POSITIVE_INFINITY)).toThrow(AggregateValueError);
  });

  it('fails on quantiles outside [0, 1] or a bad accuracy', () => {
    expect(() => percentiles((x: number) => x, [1.5])).toThrow(InvalidAggregateError);
    expect(() => percentiles((x: number) => x, [])).toThrow(InvalidAggregateError);
    expect(() => percentiles((x: number) => x, [0.5], { relativeAccuracy: 0 })).toThrow(
      InvalidAggregateError,
    );
  });
});
