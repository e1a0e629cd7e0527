import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type Accumulators,
  type AnyWindowedPipelineDefinition,
  mergeAccumulators,
  WINDOW_KIND,
} from '#runtime/index';
import {
  type AccSet,
  PackStore,
  type PackStoreOptions,
  WindowStore,
  type WindowStoreOptions,
} from '#state/index';
import { LATE_ACCUMULATOR } from '../constants';

/** How a sliced pipeline's state is laid out in the table. */
export type StateLayout = 'packs' | 'items';

/** Options of {@link createPipelineStore}: where, and the layout. */
export type PipelineStoreOptions = {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tableName: string;
  /**
   * `packs` (default): one pack per batch, lane and slice, merged at close (`PackStore`).
   * `items`: one item per (key, slice), read-merge-written per batch (`WindowStore`, the earlier
   * layout, kept for comparison in the bench and its own suites).
   */
  readonly layout?: StateLayout;
} & Partial<Omit<WindowStoreOptions, 'client' | 'tableName' | 'pipeline' | 'merge' | 'additive'>> &
  Partial<Pick<PackStoreOptions, 'sliceCacheSize'>>;

/**
 * Builds the store of a windowed (tumbling or hopping) pipeline: its merge (the pipeline's
 * aggregates plus the {@link LATE_ACCUMULATOR} counter), allowed lateness and window size (for
 * TTL) — a `PackStore` (lane packs), or with `layout: 'items'` a `WindowStore`.
 *
 * @param definition - the pipeline
 * @param options - client, table, layout, and store options to override (tests use small
 *   `dueBuckets`)
 * @example
 * const store = createPipelineStore(pageViews, { client: new DynamoDBClient({}), tableName });
 */
export function createPipelineStore(
  definition: AnyWindowedPipelineDefinition,
  options: PipelineStoreOptions & { readonly layout: 'items' },
): WindowStore;
export function createPipelineStore(
  definition: AnyWindowedPipelineDefinition,
  options: PipelineStoreOptions,
): PackStore | WindowStore;
export function createPipelineStore(
  definition: AnyWindowedPipelineDefinition,
  options: PipelineStoreOptions,
): PackStore | WindowStore {
  const assigner = definition.assigner;
  const additive = new Set<string>([LATE_ACCUMULATOR]);
  for (const name of definition.aggregateNames) {
    if (definition.aggregates[name]?.additive === true) additive.add(name);
  }
  const merge = (a: AccSet, b: AccSet): AccSet => ({
    ...mergeAccumulators(definition, a as Accumulators, b as Accumulators),
    [LATE_ACCUMULATOR]: lateOf(a) + lateOf(b),
  });
  const { layout = 'packs', sliceCacheSize, ...rest } = options;
  if (layout === 'items' || assigner.kind === WINDOW_KIND.SESSION) {
    return new WindowStore({
      pipeline: definition.name,
      merge,
      additive,
      maxOutOfOrdernessMs: definition.maxOutOfOrdernessMs,
      windowSizeMs: assigner.kind === WINDOW_KIND.SESSION ? undefined : assigner.sizeMs,
      ...rest,
    });
  }
  return new PackStore({
    pipeline: definition.name,
    merge,
    sliceMs: assigner.sliceMs,
    windowSizeMs: assigner.sizeMs,
    maxOutOfOrdernessMs: definition.maxOutOfOrdernessMs,
    client: rest.client,
    tableName: rest.tableName,
    ...(rest.retentionMs === undefined ? {} : { retentionMs: rest.retentionMs }),
    ...(rest.clock === undefined ? {} : { clock: rest.clock }),
    ...(rest.maxItemBytes === undefined ? {} : { maxItemBytes: rest.maxItemBytes }),
    ...(rest.maxAttempts === undefined ? {} : { maxAttempts: rest.maxAttempts }),
    ...(sliceCacheSize === undefined ? {} : { sliceCacheSize }),
  });
}

/** The late count held in an accumulator set (0 when absent). */
export function lateOf(acc: Readonly<Record<string, unknown>> | undefined): number {
  const late = acc?.[LATE_ACCUMULATOR];
  return typeof late === 'number' ? late : 0;
}
