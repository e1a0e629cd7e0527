import { InvalidScheduleError } from '#local/runtime/errors';
import { parseSchedule } from '#local/runtime/parseSchedule';

const AT = Date.parse('2026-11-26T10:00:30.000Z');

describe('parseSchedule', () => {
  it.each([
    ['rate(1 minute)', '2026-11-26T10:01:30.000Z'],
    ['rate(5 minutes)', '2026-11-26T10:05:30.000Z'],
    ['rate(1 hour)', '2026-11-26T11:00:30.000Z'],
    ['rate(2 days)', '2026-11-28T10:00:30.000Z'],
    ['cron(* * * * ? *)', '2026-11-26T10:01:00.000Z'],
    ['cron(0/15 * * * ? *)', '2026-11-26T10:15:00.000Z'],
    ['cron(0 12 * * ? *)', '2026-11-26T12:00:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', '2026-11-27T08:00:00.000Z'],
    ['cron(0 0 1 JAN ? *)', '2027-01-01T00:00:00.000Z'],
  ])('%s fires next at %s', (expression, expected) => {
    // WHEN
    const next = parseSchedule(expression).next(AT);

    // THEN
    expect(new Date(next ?? 0).toISOString()).toBe(expected);
  });

  it.each([
    'rate(1 minutes)',
    'rate(2 minute)',
    'rate(0 minutes)',
    'cron(* * * *)',
    'cron(0 0 L * ? *)',
    'every minute',
  ])('fails on %s', (expression) => {
    // WHEN / THEN
    expect(() => parseSchedule(expression)).toThrow(InvalidScheduleError);
  });
});
