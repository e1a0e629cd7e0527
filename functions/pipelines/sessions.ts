import { count, pipeline, session, span, toEventTime } from '#runtime/index';
import { PageView } from './page-views';

/**
 * `sessions` — user activity sessions: per user (`userId`), a session window of event time `ts`
 * with a 30-minute gap — events at most 30 minutes apart belong to one session, which closes when
 * the watermark passes its last event + 30 minutes. Input: stream `clicks`, the `page-views`
 * schema `{ type: 'page_view' | 'click', page, userId, ts }`. Emits one final result per session
 * to `user-sessions` with the output record contract, `window` = `{ start: first event,
 * end: last event + 30 min }` and values `{ pages: page views, clicks: clicks, durationMs: last
 * event − first event }`.
 */
export const userSessions = pipeline('sessions')
  .from('clicks', { schema: PageView })
  .keyBy((event) => event.userId)
  .window(session('30m'), { eventTime: (event) => event.ts })
  .aggregate({
    pages: count((event) => event.type === 'page_view'),
    clicks: count((event) => event.type === 'click'),
    // ts was validated by the schema and by the event-time extractor, so it always converts.
    durationMs: span((event) => toEventTime(event.ts) ?? Number.NaN),
  })
  .emit('final')
  .to('user-sessions');
