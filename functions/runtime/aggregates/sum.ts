import { AGGREGATE_KIND } from '../constants';
import type { Aggregate } from '../types';
import { requireFinite } from './requireFinite';

/**
 * Sums a numeric field. Exact for integers up to 2^53; float sums carry the usual rounding, which
 * depends on the merge order. Accumulator: a number (additive: stored with DynamoDB `ADD`).
 * A non-finite value fails the record as BAD_VALUE.
 *
 * @param fn - the value to sum
 * @example
 * ```ts
 * .aggregate({ revenue: sum((e) => e.amount) })
 * ```
 */
export const sum = <TIn>(
  fn: (input: TIn) => number,
): Aggregate<TIn, number, number, number, number> => ({
  kind: AGGREGATE_KIND.SUM,
  additive: true,
  options: {},
  value: (input) => requireFinite('sum', fn(input)),
  init: () => 0,
  add: (work, value) => work + value,
  seal: (work) => work,
  empty: () => 0,
  merge: (a, b) => a + b,
  result: (acc) => acc,
});
