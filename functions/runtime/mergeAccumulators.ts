import type { Accumulators, AnyAggregate } from './types';

/** The aggregates part of a windowed pipeline definition. */
export interface AggregatesOf {
  readonly aggregates: Readonly<Record<string, AnyAggregate>>;
  readonly aggregateNames: readonly string[];
}

/**
 * Merges two sets of stored accumulators of the same pipeline, aggregate by aggregate. A missing
 * accumulator counts as empty. Pure.
 *
 * @example
 * ```ts
 * const windowAccs = slices.map((s) => s.accs).reduce((a, b) => mergeAccumulators(pageViews, a, b));
 * ```
 */
export const mergeAccumulators = (
  definition: AggregatesOf,
  a: Accumulators,
  b: Accumulators,
): Accumulators => {
  const merged: Record<string, unknown> = {};
  for (const name of definition.aggregateNames) {
    const aggregate = definition.aggregates[name] as AnyAggregate;
    const left = a[name];
    const right = b[name];
    merged[name] =
      left === undefined
        ? (right ?? aggregate.empty())
        : right === undefined
          ? left
          : aggregate.merge(left, right);
  }
  return merged;
};

/** The stored accumulators of no input (identity of {@link mergeAccumulators}). */
export const emptyAccumulators = (definition: AggregatesOf): Accumulators => {
  const empty: Record<string, unknown> = {};
  for (const name of definition.aggregateNames) {
    empty[name] = (definition.aggregates[name] as AnyAggregate).empty();
  }
  return empty;
};
