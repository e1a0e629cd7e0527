import * as z from 'zod/mini';
import { hopping, pipeline, topK } from '#runtime/index';

/**
 * An input event of the `trending` pipeline (stream `product-views`, partition key `userId`): a
 * user viewed a product of a category; `ts` is an ISO-8601 date-time with zone or epoch ms.
 */
export const ProductView = z.looseObject({
  productId: z.string().check(z.minLength(1)),
  category: z.string().check(z.minLength(1)),
  userId: z.string(),
  ts: z.union([z.iso.datetime({ offset: true }), z.number()]),
});

/** A `trending` input event. */
export type ProductView = z.infer<typeof ProductView>;

/** Products reported per (category, window). */
export const TRENDING_TOP_N = 10;
/** Misra–Gries counters per (category, window): counts are exact up to this many distinct products. */
export const TRENDING_CAPACITY = 256;

/**
 * `trending` — recommendations: per category and hopping window of 10 minutes every minute on
 * `ts` (allowed lateness 30 s), the 10 most viewed products `{ top: [{ productId, views }] }`,
 * views descending then productId ascending. Exact while a (category, window) sees at most 256
 * distinct products; beyond that each count is low by at most N/257. Final results go to
 * `trending-products`.
 */
export const trending = pipeline('trending')
  .from('product-views', { schema: ProductView })
  .keyBy((event) => event.category)
  .window(hopping('10m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
  .aggregate({
    top: topK(TRENDING_TOP_N, (event) => event.productId, { capacity: TRENDING_CAPACITY }),
  })
  .select((values) => ({
    top: values.top.map((entry) => ({ productId: entry.value, views: entry.count })),
  }))
  .emit('final')
  .to('trending-products');
