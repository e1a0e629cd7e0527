import { AGGREGATE_KIND } from '../constants';
import type { Aggregate } from '../types';

/**
 * Counts elements, or only those matching `where`. Exact. Accumulator: a number (additive:
 * stored with DynamoDB `ADD`).
 *
 * @param where - counts only elements for which it returns true
 * @default where - every element counts
 * @example
 * ```ts
 * .aggregate({ views: count() }) // values.views: number
 * .aggregate({ clicks: count((e) => e.type === 'click') })
 * ```
 */
export const count = <TIn = unknown>(
  where?: (input: TIn) => boolean,
): Aggregate<TIn, number, number, 0 | 1, number> => ({
  kind: AGGREGATE_KIND.COUNT,
  additive: true,
  options: where === undefined ? {} : { filtered: true },
  value: where === undefined ? () => 1 : (input) => (where(input) ? 1 : 0),
  init: () => 0,
  add: (work, value) => work + value,
  seal: (work) => work,
  empty: () => 0,
  merge: (a, b) => a + b,
  result: (acc) => acc,
});
