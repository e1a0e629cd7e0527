import type { AggregatesOf } from './mergeAccumulators';
import type { Accumulators, AnyAggregate } from './types';

/**
 * Folds elements into stored accumulators, aggregate by aggregate (`value` → `add` → `seal`).
 * Throws what an extractor throws; the batch path ({@link preAggregate}) checks every element
 * before folding it, so this is for rebuilding and testing.
 *
 * @example
 * ```ts
 * const accs = foldAccumulators(pageViews, events);
 * ```
 */
export const foldAccumulators = (
  definition: AggregatesOf,
  elements: Iterable<unknown>,
): Accumulators => {
  const aggregates = definition.aggregateNames.map(
    (name) => definition.aggregates[name] as AnyAggregate,
  );
  const works = aggregates.map((aggregate) => aggregate.init());
  for (const element of elements) {
    for (let a = 0; a < aggregates.length; a++) {
      const aggregate = aggregates[a] as AnyAggregate;
      works[a] = aggregate.add(works[a], aggregate.value(element));
    }
  }
  const accs: Record<string, unknown> = {};
  definition.aggregateNames.forEach((name, a) => {
    accs[name] = (aggregates[a] as AnyAggregate).seal(works[a]);
  });
  return accs;
};
