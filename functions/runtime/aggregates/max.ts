import { AGGREGATE_KIND } from '../constants';
import type { Aggregate } from '../types';
import { requireFinite } from './requireFinite';

// Math functions bound once: hot-path calls skip the global lookup (slow under Jest's sandbox).
const { max: mathMax } = Math;

/**
 * Maximum of a numeric field; `null` when no element. Exact. Accumulator: `number | null`.
 * A non-finite value fails the record as BAD_VALUE.
 *
 * @param fn - the value to take the maximum of
 * @example
 * ```ts
 * .aggregate({ slowest: max((e) => e.latencyMs) })
 * ```
 */
export const max = <TIn>(
  fn: (input: TIn) => number,
): Aggregate<TIn, number | null, number | null, number, number | null> => ({
  kind: AGGREGATE_KIND.MAX,
  additive: false,
  options: {},
  value: (input) => requireFinite('max', fn(input)),
  init: () => null,
  add: (work, value) => (work === null ? value : mathMax(work, value)),
  seal: (work) => work,
  empty: () => null,
  merge: (a, b) => (a === null ? b : b === null ? a : mathMax(a, b)),
  result: (acc) => acc,
});
