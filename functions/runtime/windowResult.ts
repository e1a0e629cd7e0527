import { createHash } from 'node:crypto';
import { RESULT_ID_LENGTH } from './constants';
import type { AggregatesOf } from './mergeAccumulators';
import type { Accumulators, AnyAggregate, ResultProjection, Window, WindowResult } from './types';

/** Options of {@link windowResult}. */
export interface WindowResultOptions {
  /** True for the result of a closed window, false for an `emit('update')` preview. */
  readonly final: boolean;
  /**
   * Number of records that arrived late (within allowed lateness) for this window.
   * @default 0
   */
  readonly late?: number;
  /** Emission time, epoch ms (take it from the handler's clock). */
  readonly emittedAt: number;
}

/**
 * The stable id of a result: sha256 hex (first 32 characters) of
 * `pipeline|key|windowStartMs|windowEndMs|final`. Unambiguous although a key may contain `|`:
 * pipeline names cannot, and the last three fields are numbers and a boolean.
 */
export const resultId = (pipeline: string, key: string, window: Window, final: boolean): string =>
  createHash('sha256')
    .update(`${pipeline}|${key}|${window.start}|${window.end}|${final}`)
    .digest('hex')
    .slice(0, RESULT_ID_LENGTH);

/**
 * Builds the output record of a (key, window) from its merged accumulators: the DESIGN.md
 * contract `{ id, pipeline, key, window: { start, end }, values, final, late, emittedAt }`.
 * `values` are the aggregates' results, passed through the definition's `select` projection
 * when it has one.
 *
 * @param definition - the pipeline (its name and aggregates)
 * @param key - the aggregation key
 * @param window - the window `[start, end)` in epoch ms
 * @param accs - stored accumulators merged over the window's slices (or the session)
 * @example
 * ```ts
 * const accs = slices.map((s) => s.accs).reduce((a, b) => mergeAccumulators(pageViews, a, b));
 * const record = windowResult(pageViews, '/home', { start, end }, accs, { final: true, emittedAt: clock.now() });
 * ```
 */
export const windowResult = (
  definition: AggregatesOf & {
    readonly name: string;
    // biome-ignore lint/suspicious/noExplicitAny: a projection of any pipeline's values
    readonly select?: ResultProjection<any, unknown> | undefined;
  },
  key: string,
  window: Window,
  accs: Accumulators,
  options: WindowResultOptions,
): WindowResult => {
  const values: Record<string, unknown> = {};
  for (const name of definition.aggregateNames) {
    const aggregate = definition.aggregates[name] as AnyAggregate;
    const acc = accs[name];
    values[name] = aggregate.result(acc === undefined ? aggregate.empty() : acc);
  }
  const projected =
    definition.select === undefined
      ? values
      : (definition.select(values, { key, start: window.start, end: window.end }) as Record<
          string,
          unknown
        >);
  return {
    id: resultId(definition.name, key, window, options.final),
    pipeline: definition.name,
    key,
    window: {
      start: new Date(window.start).toISOString(),
      end: new Date(window.end).toISOString(),
    },
    values: projected,
    final: options.final,
    late: options.late ?? 0,
    emittedAt: new Date(options.emittedAt).toISOString(),
  };
};
