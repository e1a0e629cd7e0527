import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type Accumulators,
  type AnyWindowedPipelineDefinition,
  mergeAccumulators,
  WINDOW_KIND,
} from '#runtime/index';
import { type AccSet, SessionStore, type SessionStoreOptions } from '#state/index';

/**
 * Builds the `SessionStore` of a session-window pipeline: its gap, the merge of its aggregates,
 * and its allowed lateness (for TTL). Watermarks stay in the pipeline's `WindowStore`.
 *
 * @param definition - a pipeline with `.window(session(gap), …)`
 * @param options - client, table, and any `SessionStoreOptions` to override (tests use small
 *   `dueBuckets`)
 * @throws {Error} the pipeline does not use session windows
 * @example
 * const sessions = createSessionStore(userSessions, { client: new DynamoDBClient({}), tableName });
 */
export function createSessionStore(
  definition: AnyWindowedPipelineDefinition,
  options: { readonly client: Pick<DynamoDBClient, 'send'>; readonly tableName: string } & Partial<
    Omit<SessionStoreOptions, 'client' | 'tableName' | 'pipeline' | 'merge' | 'gapMs'>
  >,
): SessionStore {
  const assigner = definition.assigner;
  if (assigner.kind !== WINDOW_KIND.SESSION) {
    throw new Error(`pipeline ${definition.name}: createSessionStore needs session windows`);
  }
  return new SessionStore({
    pipeline: definition.name,
    gapMs: assigner.gapMs,
    merge: (a: AccSet, b: AccSet): AccSet =>
      mergeAccumulators(definition, a as Accumulators, b as Accumulators),
    maxOutOfOrdernessMs: definition.maxOutOfOrdernessMs,
    ...options,
  });
}
