import { AGGREGATE_KIND } from '../constants';
import type { Aggregate } from '../types';
import { requireFinite } from './requireFinite';

/** Stored accumulator of {@link avg}: both fields add up on merge. */
export interface AvgAcc {
  readonly sum: number;
  readonly count: number;
}

interface AvgWork {
  sum: number;
  count: number;
}

/**
 * Arithmetic mean of a numeric field; `null` when no element. Exact up to float rounding.
 * Accumulator: `{ sum, count }` (each field could use DynamoDB `ADD` on a nested path).
 * A non-finite value fails the record as BAD_VALUE.
 *
 * @param fn - the value to average
 * @example
 * ```ts
 * .aggregate({ meanLatency: avg((e) => e.latencyMs) })
 * ```
 */
export const avg = <TIn>(
  fn: (input: TIn) => number,
): Aggregate<TIn, AvgAcc, number | null, number, AvgWork> => ({
  kind: AGGREGATE_KIND.AVG,
  additive: false,
  options: {},
  value: (input) => requireFinite('avg', fn(input)),
  init: () => ({ sum: 0, count: 0 }),
  add: (work, value) => {
    work.sum += value;
    work.count += 1;
    return work;
  },
  seal: (work) => ({ sum: work.sum, count: work.count }),
  empty: () => ({ sum: 0, count: 0 }),
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
  result: (acc) => (acc.count === 0 ? null : acc.sum / acc.count),
});
