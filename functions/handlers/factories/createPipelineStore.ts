import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type Accumulators,
  type AnyWindowedPipelineDefinition,
  mergeAccumulators,
  WINDOW_KIND,
} from '#runtime/index';
import { type AccSet, WindowStore, type WindowStoreOptions } from '#state/index';
import { LATE_ACCUMULATOR } from '../constants';

/**
 * Builds the `WindowStore` of a windowed (tumbling or hopping) pipeline: its merge (the
 * pipeline's aggregates plus the {@link LATE_ACCUMULATOR} counter), its additive aggregates,
 * allowed lateness and window size (for TTL).
 *
 * @param definition - the pipeline
 * @param options - client, table, and any `WindowStoreOptions` to override (tests use small
 *   `dueBuckets`)
 * @example
 * const store = createPipelineStore(pageViews, { client: new DynamoDBClient({}), tableName });
 */
export function createPipelineStore(
  definition: AnyWindowedPipelineDefinition,
  options: { readonly client: Pick<DynamoDBClient, 'send'>; readonly tableName: string } & Partial<
    Omit<WindowStoreOptions, 'client' | 'tableName' | 'pipeline' | 'merge' | 'additive'>
  >,
): WindowStore {
  const assigner = definition.assigner;
  const additive = new Set<string>([LATE_ACCUMULATOR]);
  for (const name of definition.aggregateNames) {
    if (definition.aggregates[name]?.additive === true) additive.add(name);
  }
  const merge = (a: AccSet, b: AccSet): AccSet => ({
    ...mergeAccumulators(definition, a as Accumulators, b as Accumulators),
    [LATE_ACCUMULATOR]: lateOf(a) + lateOf(b),
  });
  return new WindowStore({
    pipeline: definition.name,
    merge,
    additive,
    maxOutOfOrdernessMs: definition.maxOutOfOrdernessMs,
    windowSizeMs: assigner.kind === WINDOW_KIND.SESSION ? undefined : assigner.sizeMs,
    ...options,
  });
}

/** The late count held in an accumulator set (0 when absent). */
export function lateOf(acc: Readonly<Record<string, unknown>> | undefined): number {
  const late = acc?.[LATE_ACCUMULATOR];
  return typeof late === 'number' ? late : 0;
}
