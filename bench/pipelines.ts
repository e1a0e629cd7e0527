import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { PageView, pageViews } from '#pipelines/page-views';
import {
  type AnyWindowedPipelineDefinition,
  count,
  distinct,
  hopping,
  PIPELINE_KIND,
  pipeline,
  topK,
  tumbling,
} from '#runtime/index';

/** A trending input event as the bench generates it. */
export const TrendingEvent = z.looseObject({
  category: z.string(),
  userId: z.string(),
  productId: z.string(),
  ts: z.union([z.iso.datetime({ offset: true }), z.number()]),
});

/**
 * The bench's own trending core, used when functions/pipelines/trending.ts is absent or does
 * not accept the bench's events: per category, hopping 10 min / 1 min windows of event time,
 * the 10 most frequent products.
 */
export const benchTrending = pipeline('trending')
  .from('orders', { schema: TrendingEvent })
  .keyBy((event) => event.category)
  .window(hopping('10m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
  .aggregate({ top: topK(10, (event) => event.productId) })
  .emit('final')
  .to('trending-products');

/** page-views' core (same schema, filter, key and aggregates) on hopping 10 min / 1 min windows. */
export const pageViewsHopping = pipeline('page-views-hopping')
  .from('clicks', { schema: PageView })
  .filter((event) => event.type === 'page_view')
  .keyBy((event) => event.page)
  .window(hopping('10m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
  .aggregate({ views: count(), users: distinct((event) => event.userId) })
  .emit('final')
  .to('page-view-counts');

/**
 * High key cardinality: page views per user (10,000 users in the bench's workload) on tumbling
 * 1-minute windows — each batch touches most users, so each slice holds thousands of small keys.
 */
export const userActivity = pipeline('user-activity')
  .from('clicks', { schema: PageView })
  .filter((event) => event.type === 'page_view')
  .keyBy((event) => event.userId)
  .window(tumbling('1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
  .aggregate({ views: count(), pages: distinct((event) => event.page) })
  .emit('final')
  .to('user-activity');

export { pageViews };

/** Which trending core a run measured. */
export interface ResolvedTrending {
  readonly definition: AnyWindowedPipelineDefinition;
  /** `functions/pipelines/trending.ts` or `bench/pipelines.ts (…reason)`. */
  readonly source: string;
}

/**
 * The project's trending pipeline when functions/pipelines/trending.ts exists, exports a windowed
 * pipeline and accepts the bench's sample event; otherwise the bench's equivalent core.
 */
export function resolveTrending(sample: unknown): ResolvedTrending {
  const file = path.resolve(__dirname, '../functions/pipelines/trending.ts');
  if (!fs.existsSync(file)) return { definition: benchTrending, source: 'bench (no trending.ts)' };
  try {
    // biome-ignore lint/suspicious/noExplicitAny: module shape unknown until loaded
    const mod: Record<string, any> = require(file);
    for (const value of Object.values(mod)) {
      if (value?.kind === PIPELINE_KIND.WINDOWED && typeof value.schema?.safeParse === 'function') {
        if (value.schema.safeParse(sample).success) {
          return { definition: value, source: 'functions/pipelines/trending.ts' };
        }
        return { definition: benchTrending, source: 'bench (trending.ts schema differs)' };
      }
    }
  } catch (error) {
    return {
      definition: benchTrending,
      source: `bench (trending.ts failed to load: ${(error as Error).message.slice(0, 80)})`,
    };
  }
  return { definition: benchTrending, source: 'bench (trending.ts exports no windowed pipeline)' };
}
