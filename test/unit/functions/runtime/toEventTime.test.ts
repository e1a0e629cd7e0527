import fc from 'fast-check';
import { toEventTime } from '#runtime/toEventTime';

describe('toEventTime', () => {
  it.each([
    ['2026-11-26T10:00:00.000Z', 1_795_687_200_000],
    ['2026-11-26T10:00:00Z', 1_795_687_200_000],
    ['2026-11-26T11:00:00+01:00', 1_795_687_200_000],
    ['2026-11-26T10:00Z', 1_795_687_200_000],
    [1_795_687_200_000, 1_795_687_200_000],
    [1_795_687_200_000.9, 1_795_687_200_000],
  ])('reads %p as %d', (value, ms) => {
    expect(toEventTime(value)).toBe(ms);
  });

  it.each([
    'yesterday',
    '2026-11-26',
    '2026-11-26T10:00:00',
    '2026-13-26T10:00:00Z',
    'Thu, 26 Nov 2026 10:00:00 GMT',
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e17,
    null,
    undefined,
    {},
  ])('fails on %p', (value) => {
    expect(toEventTime(value)).toBeUndefined();
  });

  it('round-trips any ISO string of a valid date', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        (date) => {
          expect(toEventTime(date.toISOString())).toBe(date.getTime());
        },
      ),
    );
  });
});
