import {
  AGGREGATE_KIND,
  DEFAULT_MAX_SKETCH_BUCKETS,
  DEFAULT_RELATIVE_ACCURACY,
  MIN_SKETCH_MAGNITUDE,
} from '../constants';
import { InvalidAggregateError } from '../errors';
import type { Aggregate } from '../types';
import { DDSketch, type SketchAcc } from './DDSketch';
import { requireFinite } from './requireFinite';

/** Options of {@link percentiles}. */
export interface PercentilesOptions {
  /**
   * Relative accuracy α of every reported quantile, in (0, 1).
   * @default 0.01
   */
  readonly relativeAccuracy?: number;
  /**
   * Buckets kept per sign; beyond that the smallest magnitudes collapse (losing their accuracy).
   * @default 2048
   */
  readonly maxBuckets?: number;
}

/** Output name of quantile q: 0.5 → `p50`, 0.99 → `p99`, 0.999 → `p99.9`. */
export const quantileName = (q: number): string => `p${Math.round(q * 100 * 1e6) / 1e6}`;

/**
 * Quantiles of a numeric field from a mergeable DDSketch.
 *
 * Error bound: each reported quantile q is within relative error α (default 1 %) of the exact
 * element of rank ⌊q·(n−1)⌋ of the sorted values, whatever the distribution and merge order;
 * magnitudes below 1e-9 count as 0; min and max are exact. Stored size: dense bucket counts,
 * one per factor γ ≈ 1.0202 of value range (e.g. 1 ms..1 h: ~760 buckets, ~2–4 KB JSON), at most
 * `maxBuckets` per sign. A non-finite value fails the record as BAD_VALUE.
 *
 * @param fn - the value to take quantiles of
 * @param quantiles - the quantiles to report, each in [0, 1]
 * @example
 * ```ts
 * .aggregate({ latency: percentiles((e) => e.ms, [0.5, 0.99]) }) // { p50: 12.1, p99: 250.3 }
 * ```
 */
export const percentiles = <TIn>(
  fn: (input: TIn) => number,
  quantiles: readonly number[],
  options: PercentilesOptions = {},
): Aggregate<TIn, SketchAcc, Record<string, number | null>, number, DDSketch> => {
  const relativeAccuracy = options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_SKETCH_BUCKETS;
  if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
    throw new InvalidAggregateError(
      'percentiles',
      `relativeAccuracy must be in (0, 1), got ${relativeAccuracy}`,
    );
  }
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1) {
    throw new InvalidAggregateError(
      'percentiles',
      `maxBuckets must be an integer ≥ 1, got ${maxBuckets}`,
    );
  }
  if (quantiles.length === 0 || quantiles.some((q) => !(q >= 0 && q <= 1))) {
    throw new InvalidAggregateError(
      'percentiles',
      `quantiles must be a non-empty list of numbers in [0, 1], got ${JSON.stringify(quantiles)}`,
    );
  }
  const names = quantiles.map(quantileName);
  const create = () => new DDSketch(relativeAccuracy, maxBuckets, MIN_SKETCH_MAGNITUDE);
  const reader = create();
  return {
    kind: AGGREGATE_KIND.PERCENTILES,
    additive: false,
    options: { quantiles: [...quantiles], relativeAccuracy, maxBuckets },
    value: (input) => requireFinite('percentiles', fn(input)),
    init: create,
    add: (work, value) => {
      work.add(value);
      return work;
    },
    seal: (work) => work.toAcc(),
    empty: () => create().toAcc(),
    merge: (a, b) => {
      const sketch = create();
      sketch.addAcc(a);
      sketch.addAcc(b);
      return sketch.toAcc();
    },
    result: (acc) => {
      const out: Record<string, number | null> = {};
      for (let i = 0; i < quantiles.length; i++) {
        out[names[i] as string] = reader.quantile(acc, quantiles[i] as number);
      }
      return out;
    },
  };
};
