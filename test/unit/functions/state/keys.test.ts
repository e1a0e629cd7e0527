import { InvalidWindowStoreInputError, SESSION_FENCES_SORT_KEY } from '#state/index';
import {
  assertPipelineName,
  bucketOf,
  expiresAt,
  keyPartition,
  padTime,
  sessionSortKey,
  sliceSortKey,
  windowSortKey,
} from '#state/keys';

describe('keys', () => {
  it('pads times so sort keys order numerically', () => {
    expect(padTime(5)).toBe('0000000000000005');
    expect(sliceSortKey(9_000) < sliceSortKey(10_000)).toBe(true);
    expect(windowSortKey(0, 60_000)).toBe('W#0000000000000000#0000000000060000');
  });

  it('keeps any key separate from the pipeline name', () => {
    expect(keyPartition('page-views', '/a#b')).toBe('page-views#K#/a#b');
  });

  it('spreads keys over buckets stably', () => {
    const buckets = new Set(Array.from({ length: 200 }, (_, i) => bucketOf(`key-${i}`, 8)));
    expect(buckets.size).toBe(8);
    expect(bucketOf('/home', 8)).toBe(bucketOf('/home', 8));
  });

  it('computes TTL in epoch seconds', () => {
    expect(expiresAt(60_000, 1_000)).toBe(61);
  });

  it('keeps an item relevant until a past event time for the retention after it was written', () => {
    // a replay of old events: TTL counts from processing time, not from the old event time
    expect(expiresAt(60_000, 1_000, 500_000)).toBe(501);
    expect(expiresAt(600_000, 1_000, 500_000)).toBe(601);
  });

  it('fails on negative or fractional times', () => {
    expect(() => padTime(-1)).toThrow(InvalidWindowStoreInputError);
    expect(() => padTime(1.5)).toThrow(InvalidWindowStoreInputError);
  });

  it('fails on pipeline names containing #', () => {
    expect(() => assertPipelineName('a#b')).toThrow(InvalidWindowStoreInputError);
  });

  it('sorts session items by start and the key fence item after all of them', () => {
    expect(sessionSortKey(60_000)).toBe('X#0000000000060000');
    expect(sessionSortKey(9_000) < sessionSortKey(10_000)).toBe(true);
    expect(sessionSortKey(9_000_000_000_000_000) < SESSION_FENCES_SORT_KEY).toBe(true);
    expect(sessionSortKey(0) > 'W#9').toBe(true);
  });
});
