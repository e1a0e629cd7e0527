const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const MAX_EPOCH_MS = 8.64e15;

/**
 * Turns what an event-time extractor returned into epoch ms: an ISO-8601 date-time with a zone
 * (`2026-11-26T10:00:00.123Z`, `…+01:00`) or a finite number of epoch ms (fractions floored).
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
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_MS
      ? Math.floor(value)
      : undefined;
  }
  if (typeof value === 'string' && ISO_8601.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
};
