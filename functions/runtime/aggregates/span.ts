import { AGGREGATE_KIND } from '../constants';
import type { Aggregate } from '../types';
import { requireFinite } from './requireFinite';

const { min: mathMin, max: mathMax } = Math;

/** Stored accumulator of {@link span}: the smallest and largest value seen, `null` when none. */
export type SpanAcc = { readonly min: number; readonly max: number } | null;

/**
 * Span of a numeric field: largest minus smallest value (e.g. a session's duration from event
 * times); `0` for one element, `null` for none. Exact. Accumulator: `{ min, max } | null`, merged
 * by min/max, so any split of the input merges to the same span. A non-finite value fails the
 * record as BAD_VALUE.
 *
 * @param fn - the value to take the span of (epoch ms for durations)
 * @example
 * ```ts
 * .aggregate({ durationMs: span((e) => toEventTime(e.ts) ?? 0) })
 * ```
 */
export const span = <TIn>(
  fn: (input: TIn) => number,
): Aggregate<TIn, SpanAcc, number | null, number, SpanAcc> => ({
  kind: AGGREGATE_KIND.SPAN,
  additive: false,
  options: {},
  value: (input) => requireFinite('span', fn(input)),
  init: () => null,
  add: (work, value) =>
    work === null
      ? { min: value, max: value }
      : { min: mathMin(work.min, value), max: mathMax(work.max, value) },
  seal: (work) => work,
  empty: () => null,
  merge: (a, b) =>
    a === null ? b : b === null ? a : { min: mathMin(a.min, b.min), max: mathMax(a.max, b.max) },
  result: (acc) => (acc === null ? null : acc.max - acc.min),
});
