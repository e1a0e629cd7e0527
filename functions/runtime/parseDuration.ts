import { DURATION_UNITS_MS } from './constants';
import { InvalidDurationError } from './errors';
import type { Duration, DurationUnit } from './types';

const DURATION_PATTERN = /^(0|[1-9][0-9]{0,14})(ms|s|m|h|d)$/;

/**
 * Parses a duration string strictly: a non-negative integer without sign, spaces or fraction,
 * followed by one of `ms`, `s`, `m`, `h`, `d`.
 *
 * @returns the duration in ms
 * @throws InvalidDurationError for anything else (`'1.5s'`, `'10 m'`, `'1min'`, `''`, a number)
 * @example
 * ```ts
 * parseDuration('30s'); // 30000
 * parseDuration('1h'); // 3600000
 * ```
 */
export const parseDuration = (value: Duration): number => {
  const match = typeof value === 'string' ? DURATION_PATTERN.exec(value) : null;
  if (match === null) throw new InvalidDurationError(value);
  const ms = Number(match[1]) * DURATION_UNITS_MS[match[2] as DurationUnit];
  if (!Number.isSafeInteger(ms)) throw new InvalidDurationError(value);
  return ms;
};
