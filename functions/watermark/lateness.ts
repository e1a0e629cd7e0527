import { ARRIVAL_TOLERANCE_MS } from './constants';

/**
 * The time a record moves its shard's event clock to: its event time, but never later than its
 * arrival in Kinesis plus {@link ARRIVAL_TOLERANCE_MS}. Without an arrival time (`arrival <= 0`),
 * the event time.
 *
 * @example
 * watermarkTime(arrival + 14 * 60_000, arrival); // arrival
 */
export const watermarkTime = (eventTime: number, arrival: number): number =>
  arrival > 0 ? Math.min(eventTime, arrival + ARRIVAL_TOLERANCE_MS) : eventTime;

/**
 * Whether a window (or session) ending at `end` is behind the committed watermark: it was closed
 * (or, empty, would close at once), so a record for it is LATE. Flink's `isWindowLate`, with the
 * committed watermark: `end <= committed`.
 *
 * @example
 * isWindowLate(sliceEnd, committed); // the slice's first window has closed
 */
export const isWindowLate = (end: number, committed: number | undefined): boolean =>
  committed !== undefined && end <= committed;

/**
 * Whether a window ending at `end` is further behind the committed watermark than the state
 * remembers (`retentionMs`): its state may have expired, so a record for it is refused as EXPIRED
 * without reading it. Flink's `cleanupTime`: `end + retention <= committed`.
 *
 * @example
 * isExpired(sliceEnd, committed, 7 * 86_400_000);
 */
export const isExpired = (
  end: number,
  committed: number | undefined,
  retentionMs: number,
): boolean => committed !== undefined && end + retentionMs <= committed;

/**
 * What a closer or handler commits after reading `watermark`: the watermark rounded down to
 * `granularityMs` (epoch-aligned), when that is above `committed`; otherwise nothing.
 *
 * @example
 * commitTarget(10_500, 9_000, 1_000); // 10_000
 */
export function commitTarget(
  watermark: number | undefined,
  committed: number | undefined,
  granularityMs: number,
): number | undefined {
  if (watermark === undefined) return undefined;
  const target = watermark - (((watermark % granularityMs) + granularityMs) % granularityMs);
  return committed === undefined || target > committed ? target : undefined;
}
