import fc from 'fast-check';
import { InvalidDurationError, InvalidWindowError } from '#runtime/errors';
import { tumbling } from '#runtime/windows/tumbling';

describe('tumbling', () => {
  it('puts each time in the one epoch-aligned [start, end) that a naive scan finds', () => {
    // GIVEN
    const assigner = tumbling('10s');

    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e13 }), (t) => {
        // WHEN
        const windows = assigner.windowsOf(t);

        // THEN: naive oracle: the k with k·size ≤ t < (k+1)·size
        const k = Math.floor(t / 10_000);
        expect(windows).toEqual([{ start: k * 10_000, end: (k + 1) * 10_000 }]);
        expect(assigner.sliceOf(t)).toBe(k * 10_000);
      }),
    );
  });

  it('has one slice per window', () => {
    const assigner = tumbling('1m');
    expect(assigner.kind).toBe('tumbling');
    expect(assigner.slicesOfWindow({ start: 60_000, end: 120_000 })).toEqual([60_000]);
    expect(assigner.windowsOfSlice(60_000)).toEqual([{ start: 60_000, end: 120_000 }]);
    expect(assigner.lastWindowEndOfSlice(60_000)).toBe(120_000);
  });

  it('fails on a zero size', () => {
    expect(() => tumbling('0s')).toThrow(InvalidWindowError);
  });

  it('fails on a size that does not parse', () => {
    expect(() => tumbling('1 minute' as never)).toThrow(InvalidDurationError);
  });
});
