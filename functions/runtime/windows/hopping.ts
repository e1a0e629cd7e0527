import { InvalidWindowError } from '../errors';
import { parseDuration } from '../parseDuration';
import type { Duration, SlicedWindowAssigner } from '../types';
import { SlicedAssigner } from './SlicedAssigner';

/**
 * Hopping (sliding) windows `[k·slide, k·slide + size)`, aligned to the epoch; each event is in
 * `size/slide` windows. State is kept per slice of width `slide`, so `slide` must divide `size`.
 *
 * @param size - window length, e.g. `'10m'`; must be > 0
 * @param slide - distance between window starts, e.g. `'1m'`; must be > 0, ≤ size and divide size
 * @throws InvalidWindowError for impossible sizes; InvalidDurationError when they do not parse
 * @example
 * ```ts
 * .window(hopping('10m', '1m'), { eventTime: (e) => e.ts, maxOutOfOrderness: '30s' })
 * ```
 */
export const hopping = (size: Duration, slide: Duration): SlicedWindowAssigner => {
  const sizeMs = parseDuration(size);
  const slideMs = parseDuration(slide);
  if (sizeMs <= 0) throw new InvalidWindowError(`hopping window size must be > 0, got '${size}'`);
  if (slideMs <= 0)
    throw new InvalidWindowError(`hopping window slide must be > 0, got '${slide}'`);
  if (slideMs > sizeMs) {
    throw new InvalidWindowError(
      `hopping window slide must be ≤ size, got size '${size}' (${sizeMs} ms) and slide '${slide}' (${slideMs} ms)`,
    );
  }
  if (sizeMs % slideMs !== 0) {
    throw new InvalidWindowError(
      `hopping window slide must divide size (windows are stored as slices of one slide), got size '${size}' (${sizeMs} ms) and slide '${slide}' (${slideMs} ms)`,
    );
  }
  return new SlicedAssigner(sizeMs, slideMs);
};
