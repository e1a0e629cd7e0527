import * as z from 'zod/mini';
import { count, distinct, pipeline, tumbling } from '#runtime/index';

/**
 * An input event of the `page-views` pipeline (stream `clicks`, partition key `userId`): a page
 * view or a click; `ts` is an ISO-8601 date-time with zone or epoch ms.
 */
export const PageView = z.looseObject({
  type: z.enum(['page_view', 'click']),
  page: z.string(),
  userId: z.string(),
  ts: z.union([z.iso.datetime({ offset: true }), z.number()]),
});

/** A `page-views` input event. */
export type PageView = z.infer<typeof PageView>;

/**
 * `page-views` — real-time analytics: per page and 1-minute tumbling window of event time `ts`
 * (allowed lateness 30 s), the number of page views and of distinct users. Clicks are filtered
 * out before aggregation. Emits one final result per (page, minute) to `page-view-counts` with the
 * output record contract `{ id, pipeline, key, window, values: { views, users }, final, late,
 * emittedAt }`.
 */
export const pageViews = pipeline('page-views')
  .from('clicks', { schema: PageView })
  .filter((event) => event.type === 'page_view')
  .keyBy((event) => event.page)
  .window(tumbling('1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
  .aggregate({ views: count(), users: distinct((event) => event.userId) })
  .emit('final')
  .to('page-view-counts');
