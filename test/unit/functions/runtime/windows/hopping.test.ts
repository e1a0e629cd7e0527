import fc from 'fast-check';
import { count } from '#runtime/aggregates/count';
import { sum } from '#runtime/aggregates/sum';
import { InvalidWindowError } from '#runtime/errors';
import { hopping } from '#runtime/windows/hopping';

const SIZE = 60_000;
const SLIDE = 15_000;

describe('hopping', () => {
  const assigner = hopping('1m', '15s');

  it('puts each time in exactly the windows a naive scan finds', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e13 }), (t) => {
        // GIVEN: every window start k·slide with start ≤ t < start + size
        const expected = [];
        for (let start = Math.floor(t / SLIDE) * SLIDE - SIZE; start <= t; start += SLIDE) {
          if (t < start + SIZE) expected.push({ start, end: start + SIZE });
        }

        // WHEN / THEN
        expect(assigner.windowsOf(t)).toEqual(expected);
      }),
    );
  });

  it('maps slices and windows both ways consistently', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e12 }), (t) => {
        const slice = assigner.sliceOf(t);
        expect(slice).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(slice + SLIDE);
        for (const window of assigner.windowsOfSlice(slice)) {
          expect(assigner.slicesOfWindow(window)).toHaveLength(SIZE / SLIDE);
          expect(assigner.slicesOfWindow(window)).toContain(slice);
        }
        expect(assigner.lastWindowEndOfSlice(slice)).toBe(
          Math.max(...assigner.windowsOfSlice(slice).map((w) => w.end)),
        );
      }),
    );
  });

  it('builds windows from slices that equal a direct per-window computation, on out-of-order events', () => {
    const events = fc.array(
      fc.record({
        t: fc.integer({ min: 0, max: 600_000 }),
        v: fc.integer({ min: -100, max: 100 }),
      }),
      {
        maxLength: 300,
      },
    );
    fc.assert(
      fc.property(events, (xs) => {
        // GIVEN: per slice partial count and sum (one slice per event)
        const c = count();
        const s = sum((e: { v: number }) => e.v);
        const perSlice = new Map<number, { n: number; total: number }>();
        for (const e of xs) {
          const slice = assigner.sliceOf(e.t);
          const acc = perSlice.get(slice) ?? { n: c.empty(), total: s.empty() };
          perSlice.set(slice, { n: c.add(acc.n, 1), total: s.add(acc.total, s.value(e)) });
        }
        const windows = new Map<number, { start: number; end: number }>();
        for (const e of xs) for (const w of assigner.windowsOf(e.t)) windows.set(w.start, w);

        for (const window of windows.values()) {
          // WHEN: merged from its slices
          let n = c.empty();
          let total = s.empty();
          for (const slice of assigner.slicesOfWindow(window)) {
            const part = perSlice.get(slice);
            if (part !== undefined) {
              n = c.merge(n, part.n);
              total = s.merge(total, part.total);
            }
          }

          // THEN: equal to the naive loop over raw events in [start, end)
          const inside = xs.filter((e) => window.start <= e.t && e.t < window.end);
          expect(n).toBe(inside.length);
          expect(total).toBe(inside.reduce((acc, e) => acc + e.v, 0));
        }
      }),
    );
  });

  it('is tumbling when slide equals size', () => {
    expect(hopping('1m', '1m').kind).toBe('tumbling');
    expect(assigner.kind).toBe('hopping');
    expect(assigner.sliceMs).toBe(SLIDE);
  });

  it('fails when slide does not divide size', () => {
    expect(() => hopping('1m', '25s')).toThrow(/slide must divide size/);
  });

  it('fails when slide exceeds size or either is zero', () => {
    expect(() => hopping('1m', '2m')).toThrow(InvalidWindowError);
    expect(() => hopping('0s', '0s')).toThrow(InvalidWindowError);
    expect(() => hopping('1m', '0s')).toThrow(InvalidWindowError);
  });
});
