import { WATERMARK_MODE } from './constants';
import type { ShardClock, WatermarkInput, WatermarkOutcome } from './types';

/**
 * Whether a shard has been silent for longer than the idle timeout: only such a shard can be idle,
 * and only such a shard's tail is worth asking Kinesis about.
 *
 * @example
 * isSilent({ processedAt: now - 61_000 }, now, 60_000); // true
 */
export const isSilent = (
  shard: Pick<ShardClock, 'processedAt'>,
  now: number,
  idleTimeout: number,
): boolean => now - shard.processedAt > idleTimeout;

/**
 * The pipeline watermark, from the shards' rows and the clock — the one place the rule lives
 * (docs/architecture.md, "Event time"):
 *
 * - retired shards do not count; a live shard is *idle* when it is silent (no batch for longer than
 *   `idleTimeout`) and not `behind` (Kinesis has nothing more for it);
 * - an open shard that has not reported yet and holds records (`pending`) holds the watermark at
 *   the committed one: its first batch is still coming;
 * - otherwise, if some active (not idle) shard has an event clock: the min over those clocks,
 *   minus `maxOutOfOrderness`;
 * - otherwise, if some idle shard has an event clock: the event clocks are assumed to run on at
 *   wall-clock speed since each shard's last batch, from the furthest — max over the idle shards
 *   of `eventTime + (now − processedAt)`, minus `maxOutOfOrderness` (an idle shard does not hold
 *   the watermark back, as in event-time mode). Clocks never run ahead of what Kinesis received
 *   (`watermarkTime`), so this stays at or below `now − maxOutOfOrderness`: a record is refused
 *   only if it arrived (and was read) more than `maxOutOfOrderness` after its event time;
 * - shards without an event clock (only filtered records so far) neither hold nor move it — unless
 *   they are `behind` (a backlog or a failing batch may hide records with event times): then they
 *   hold it at the committed one, as a shard that has not reported does;
 * - the result is never below `committed`.
 *
 * @example
 * const { watermark } = pipelineWatermark({ shards, behind: new Set(), pending: 0, committed, now, maxOutOfOrderness: 30_000, idleTimeout: 60_000 });
 */
export function pipelineWatermark(input: WatermarkInput): WatermarkOutcome {
  const { committed, now, maxOutOfOrderness, idleTimeout } = input;
  const live = input.shards.filter((s) => !s.retired);
  const idle = new Set(
    live
      .filter((s) => isSilent(s, now, idleTimeout) && !input.behind.has(s.shardId))
      .map((s) => s.shardId),
  );
  const floor = (w: number | undefined, mode: WatermarkOutcome['mode']): WatermarkOutcome => {
    if (committed !== undefined && (w === undefined || w < committed)) {
      return { watermark: committed, mode, idle };
    }
    return { watermark: w, mode, idle };
  };
  const none = committed === undefined ? WATERMARK_MODE.NONE : WATERMARK_MODE.COMMITTED;
  const clocks = live.filter((s) => s.eventTime !== undefined);
  const hiddenBehind = live.some((s) => s.eventTime === undefined && input.behind.has(s.shardId));
  if (input.pending > 0 || hiddenBehind) return floor(undefined, none);
  const active = clocks.filter((s) => !idle.has(s.shardId));
  if (active.length > 0) {
    const least = Math.min(...active.map((s) => s.eventTime as number));
    return floor(least - maxOutOfOrderness, WATERMARK_MODE.EVENT_TIME);
  }
  if (clocks.length > 0) {
    const furthest = Math.max(
      ...clocks.map((s) => (s.eventTime as number) + (now - s.processedAt)),
    );
    return floor(furthest - maxOutOfOrderness, WATERMARK_MODE.PROCESSING_TIME);
  }
  return floor(undefined, none);
}
