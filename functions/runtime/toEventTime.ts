import { MAX_EVENT_TIME_MS } from './constants';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Turns what an event-time extractor returned into epoch ms: an ISO-8601 date-time with a zone
 * (`2026-11-26T10:00:00.123Z`, `…+01:00`) or a finite number of epoch ms (fractions floored),
 * from 1970-01-01T00:00:00.000Z (0) to 9999-12-31T23:59:59.999Z ({@link MAX_EVENT_TIME_MS}).
 *
 * @returns epoch ms, or `undefined` for anything else (the record then fails as BAD_EVENT_TIME)
 * @example
 * ```ts
 * toEventTime('2026-11-26T10:00:00Z'); // 1795687200000
 * toEventTime(1795687200000.7); // 1795687200000
 * toEventTime('yesterday'); // undefined
 * ```
 */
export const toEventTime = (value: unknown): number | undefined => {
  let ms: number | undefined;
  if (typeof value === 'number') ms = Number.isFinite(value) ? Math.floor(value) : undefined;
  else if (typeof value === 'string' && ISO_8601.test(value)) ms = Date.parse(value);
  // `+ 0` turns -0 into 0; NaN fails both comparisons.
  return ms !== undefined && ms >= 0 && ms <= MAX_EVENT_TIME_MS ? ms + 0 : undefined;
};
