import {
  ARRIVAL_TOLERANCE_MS,
  commitTarget,
  DEFAULT_RETENTION_MS,
  isExpired,
  isWindowLate,
  watermarkTime,
} from '#watermark/index';

describe('watermarkTime', () => {
  it('is the event time, but never after the arrival (plus the tolerance)', () => {
    expect(ARRIVAL_TOLERANCE_MS).toBe(0);
    expect(watermarkTime(1_000, 5_000)).toBe(1_000);
    expect(watermarkTime(5_000, 5_000)).toBe(5_000);
    expect(watermarkTime(5_001, 5_000)).toBe(5_000);
    expect(watermarkTime(900_000, 5_000)).toBe(5_000);
  });

  it('is the event time when the arrival is unknown (0 or less)', () => {
    expect(watermarkTime(900_000, 0)).toBe(900_000);
    expect(watermarkTime(900_000, -1)).toBe(900_000);
    expect(watermarkTime(900_000, 1)).toBe(1);
  });
});

describe('isWindowLate', () => {
  it('is true when the window ends at or before the committed watermark', () => {
    expect(isWindowLate(60_000, 60_000)).toBe(true);
    expect(isWindowLate(60_000, 60_001)).toBe(true);
    expect(isWindowLate(60_000, 59_999)).toBe(false);
    expect(isWindowLate(60_000, undefined)).toBe(false);
  });
});

describe('isExpired', () => {
  it('uses the documented retention of 7 days by default (the state TTL)', () => {
    expect(DEFAULT_RETENTION_MS).toBe(604_800_000);
  });

  it('is true when the window ended the retention or more before the committed watermark', () => {
    expect(isExpired(60_000, 60_000 + 1_000, 1_000)).toBe(true);
    expect(isExpired(60_000, 60_000 + 999, 1_000)).toBe(false);
    expect(isExpired(60_000, 1e15, 1_000)).toBe(true);
    expect(isExpired(60_000, undefined, 1_000)).toBe(false);
    expect(isExpired(60_000, 60_000, 0)).toBe(true);
  });
});

describe('commitTarget', () => {
  it('rounds the watermark down to the granularity, epoch-aligned', () => {
    expect(commitTarget(10_500, undefined, 1_000)).toBe(10_000);
    expect(commitTarget(10_000, undefined, 1_000)).toBe(10_000);
    expect(commitTarget(-1_500, undefined, 1_000)).toBe(-2_000);
    expect(commitTarget(10_999, 9_000, 1_000)).toBe(10_000);
  });

  it('is nothing when there is no watermark or it would not advance the committed one', () => {
    expect(commitTarget(undefined, undefined, 1_000)).toBeUndefined();
    expect(commitTarget(10_500, 10_000, 1_000)).toBeUndefined();
    expect(commitTarget(10_500, 10_200, 1_000)).toBeUndefined();
    expect(commitTarget(11_000, 10_999, 1_000)).toBe(11_000);
  });
});
