import { InvalidScheduleError } from './errors';

/** A parsed `rate(...)` or `cron(...)` schedule expression: the next fire time after a moment. */
export interface Schedule {
  readonly expression: string;
  /** Next fire time strictly after `after` (epoch ms, UTC), or undefined if none within a year. */
  next(after: number): number | undefined;
}

const RATE = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const CRON = /^cron\((.*)\)$/;
const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Values a cron field allows (undefined: any). */
function field(
  text: string,
  min: number,
  max: number,
  names: readonly string[],
  offset: number,
  expression: string,
): Set<number> | undefined {
  if (text === '*' || text === '?') return undefined;
  const values = new Set<number>();
  const value = (part: string): number => {
    const named = names.indexOf(part.toUpperCase());
    const n = named >= 0 ? named + offset : Number(part);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidScheduleError(expression, `${part} is not in ${min}..${max}`);
    }
    return n;
  };
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) {
      throw new InvalidScheduleError(expression, `bad step in ${item}`);
    }
    let low: number;
    let high: number;
    if (range === '*') {
      low = min;
      high = max;
    } else if (range.includes('-')) {
      const [from = '', to = ''] = range.split('-');
      low = value(from);
      high = value(to);
    } else {
      low = value(range);
      high = stepText === undefined ? low : max;
    }
    for (let n = low; n <= high; n += step) values.add(n);
  }
  return values;
}

/**
 * Parses an EventBridge schedule expression: `rate(N minute|minutes|hour|hours|day|days)` or
 * `cron(minutes hours day-of-month month day-of-week year)` in UTC (numbers, names, `*`, `?`,
 * ranges, lists and steps; `L`, `W` and `#` are not supported).
 * @throws InvalidScheduleError if the expression is not one of those
 */
export function parseSchedule(expression: string): Schedule {
  const trimmed = expression.trim();
  const rate = RATE.exec(trimmed);
  if (rate) {
    const amount = Number(rate[1]);
    const unit = rate[2] as string;
    if (amount < 1 || (amount === 1) !== !unit.endsWith('s')) {
      throw new InvalidScheduleError(expression, 'use rate(1 minute) or rate(N minutes)');
    }
    const period = amount * (UNIT_MS[unit] ?? 60_000);
    return { expression, next: (after) => after + period };
  }
  const cron = CRON.exec(trimmed);
  if (!cron) throw new InvalidScheduleError(expression, 'expected rate(...) or cron(...)');
  const parts = (cron[1] ?? '').trim().split(/\s+/);
  if (parts.length !== 6 || parts.some((part) => /[LW#]/.test(part))) {
    throw new InvalidScheduleError(
      expression,
      'expected 6 fields (minutes hours day-of-month month day-of-week year), without L, W or #',
    );
  }
  const [m = '', h = '', dom = '', mon = '', dow = '', year = ''] = parts;
  const minutes = field(m, 0, 59, [], 0, expression);
  const hours = field(h, 0, 23, [], 0, expression);
  const days = field(dom, 1, 31, [], 0, expression);
  const months = field(mon, 1, 12, MONTHS, 1, expression);
  const weekdays = field(dow, 1, 7, DAYS, 1, expression);
  const years = field(year, 1970, 2199, [], 0, expression);
  const matches = (allowed: Set<number> | undefined, n: number) =>
    allowed === undefined || allowed.has(n);
  return {
    expression,
    next: (after) => {
      let t = Math.floor(after / 60_000) * 60_000 + 60_000;
      const limit = after + 366 * 86_400_000;
      for (; t <= limit; t += 60_000) {
        const d = new Date(t);
        if (
          matches(minutes, d.getUTCMinutes()) &&
          matches(hours, d.getUTCHours()) &&
          matches(days, d.getUTCDate()) &&
          matches(months, d.getUTCMonth() + 1) &&
          matches(weekdays, d.getUTCDay() + 1) &&
          matches(years, d.getUTCFullYear())
        ) {
          return t;
        }
      }
      return undefined;
    },
  };
}
