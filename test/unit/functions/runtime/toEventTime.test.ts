import fc from 'fast-check';
import { MAX_EVENT_TIME_MS } from '#runtime/constants';
import { toEventTime } from '#runtime/toEventTime';

describe('toEventTime', () => {
  it.each([
    ['2026-11-26T10:00:00.000Z', 1_795_687_200_000],
    ['2026-11-26T10:00:00Z', 1_795_687_200_000],
    ['2026-11-26T11:00:00+01:00', 1_795_687_200_000],
    ['2026-11-26T10:00Z', 1_795_687_200_000],
    [1_795_687_200_000, 1_795_687_200_000],
    [1_795_687_200_000.9, 1_795_687_200_000],
    [0, 0],
    [-0, 0],
    [0.5, 0],
    ['1970-01-01T00:00:00Z', 0],
    [MAX_EVENT_TIME_MS, MAX_EVENT_TIME_MS],
    [MAX_EVENT_TIME_MS + 0.9, MAX_EVENT_TIME_MS],
    ['9999-12-31T23:59:59.999Z', MAX_EVENT_TIME_MS],
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
    -1,
    -0.5,
    -1e12,
    MAX_EVENT_TIME_MS + 1,
    8.64e15,
    '1969-12-31T23:59:59.999Z',
    '10000-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    null,
    undefined,
    {},
  ])('fails on %p', (value) => {
    expect(toEventTime(value)).toBeUndefined();
  });

  it('returns an integer in 0..MAX_EVENT_TIME_MS, or nothing, for any number', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 8.64e15, -8.64e15)),
        (value) => {
          const t = toEventTime(value);
          if (t === undefined) return;
          expect(Number.isInteger(t) && t >= 0 && t <= MAX_EVENT_TIME_MS && !Object.is(t, -0)).toBe(
            true,
          );
        },
      ),
    );
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
