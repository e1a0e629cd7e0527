import { InvalidWindowError } from '../errors';
import { parseDuration } from '../parseDuration';
import type { Duration, SlicedWindowAssigner } from '../types';
import { SlicedAssigner } from './SlicedAssigner';

/**
 * Tumbling windows: consecutive, non-overlapping `[start, start + size)` aligned to the epoch.
 *
 * @param size - window length, e.g. `'1m'`; must be > 0
 * @throws InvalidWindowError when size is 0; InvalidDurationError when it does not parse
 * @example
 * ```ts
 * pipeline('page-views').from('clicks', { schema }).keyBy((e) => e.page)
 *   .window(tumbling('1m'), { eventTime: (e) => e.ts });
 * ```
 */
export const tumbling = (size: Duration): SlicedWindowAssigner => {
  const sizeMs = parseDuration(size);
  if (sizeMs <= 0) throw new InvalidWindowError(`tumbling window size must be > 0, got '${size}'`);
  return new SlicedAssigner(sizeMs, sizeMs);
};
