import { AGGREGATE_KIND } from '../constants';
import type { Aggregate } from '../types';

/**
 * Counts elements. Exact. Accumulator: a number (additive: stored with DynamoDB `ADD`).
 *
 * @example
 * ```ts
 * .aggregate({ views: count() }) // values.views: number
 * ```
 */
export const count = <TIn = unknown>(): Aggregate<TIn, number, number, 1, number> => ({
  kind: AGGREGATE_KIND.COUNT,
  additive: true,
  options: {},
  value: () => 1,
  init: () => 0,
  add: (work, value) => work + value,
  seal: (work) => work,
  empty: () => 0,
  merge: (a, b) => a + b,
  result: (acc) => acc,
});
