import { InvalidDurationError } from '#runtime/errors';
import { parseDuration } from '#runtime/parseDuration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['0s', 0],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text as never)).toBe(ms);
  });

  it.each([
    '',
    '1',
    '1.5s',
    '-1s',
    ' 1s',
    '1s ',
    '1 s',
    '1min',
    '01s',
    '1S',
    '1e3ms',
    '99999999999999999d',
  ])('fails on %p', (text) => {
    expect(() => parseDuration(text as never)).toThrow(InvalidDurationError);
  });

  it('fails on a non-string', () => {
    expect(() => parseDuration(30 as never)).toThrow(
      /expected a non-negative integer followed by ms, s, m, h or d/,
    );
  });
});
