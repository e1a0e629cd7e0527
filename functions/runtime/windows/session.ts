import { WINDOW_KIND } from '../constants';
import { InvalidWindowError } from '../errors';
import { parseDuration } from '../parseDuration';
import type { Duration, SessionWindowAssigner } from '../types';

/**
 * Session windows: per key, an event opens `[t, t + gap)`; sessions that overlap or touch merge
 * (Flink's rule), so events at most `gap` apart end up in one session whose end is last event + gap.
 *
 * @param gap - inactivity gap, e.g. `'30m'`; must be > 0
 * @throws InvalidWindowError when gap is 0; InvalidDurationError when it does not parse
 * @example
 * ```ts
 * .window(session('30m'), { eventTime: (e) => e.ts })
 * ```
 */
export const session = (gap: Duration): SessionWindowAssigner => {
  const gapMs = parseDuration(gap);
  if (gapMs <= 0) throw new InvalidWindowError(`session gap must be > 0, got '${gap}'`);
  return Object.freeze({ kind: WINDOW_KIND.SESSION, gapMs });
};
