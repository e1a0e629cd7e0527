import fc from 'fast-check';
import { hopping } from '#runtime/windows/hopping';
import { mergeSessions } from '#runtime/windows/mergeSessions';
import { tumbling } from '#runtime/windows/tumbling';

/** Issue 8: the window assigners under 10,000 generated inputs each. */
const RUNS = 10_000;

/** A hopping geometry: slide in ms, size a multiple of it (tumbling when the factor is 1). */
const geometry = fc.record({
  slideMs: fc.integer({ min: 1, max: 86_400_000 }),
  factor: fc.integer({ min: 1, max: 30 }),
});

/** Event times from far in the past to far in the future, negative ones included. */
const eventTime = fc.integer({ min: -8.64e15, max: 8.64e15 });

describe('window assigners under fuzzing', () => {
  it('hopping and tumbling: every time lies in exactly size/slide windows and one slice, all finite', () => {
    fc.assert(
      fc.property(geometry, eventTime, ({ slideMs, factor }, t) => {
        // GIVEN any geometry and time
        const sizeMs = slideMs * factor;
        const assigner =
          factor === 1 ? tumbling(`${sizeMs}ms`) : hopping(`${sizeMs}ms`, `${slideMs}ms`);

        // WHEN
        const windows = assigner.windowsOf(t);
        const slice = assigner.sliceOf(t);

        // THEN the windows hold t, are size wide, slide apart; the slice holds t and maps back
        // (plain checks: an expect per window would dominate 10,000 runs)
        const ok =
          windows.length === factor &&
          windows.every(
            (w, i) =>
              Number.isFinite(w.start) &&
              w.start <= t &&
              t < w.end &&
              w.end - w.start === sizeMs &&
              (i === 0 || w.start - (windows[i - 1]?.start as number) === slideMs),
          ) &&
          slice <= t &&
          t < slice + assigner.sliceMs &&
          JSON.stringify(assigner.windowsOfSlice(slice)) === JSON.stringify(windows) &&
          assigner.lastWindowEndOfSlice(slice) === windows.at(-1)?.end;
        if (!ok) throw new Error(`t=${t}: ${JSON.stringify({ windows, slice })}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('sessions: merging never overlaps, loses or invents an event, and counts stay non-negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.array(eventTime, { maxLength: 20 }),
        fc.array(eventTime, { maxLength: 20 }),
        (gapMs, stored, batch) => {
          // GIVEN stored sessions (merged already) and a batch's events, one session each
          const single = (t: number) => ({ start: t, end: t + gapMs, acc: 1 });
          const existing = mergeSessions([], stored.map(single), (a, b) => a + b);

          // WHEN the batch merges in
          const merged = mergeSessions(existing, batch.map(single), (a, b) => a + b);

          // THEN sorted, separated, and every event counted once (plain checks, as above)
          const ok =
            merged.every(
              (m, i) =>
                Number.isInteger(m.acc) &&
                m.acc > 0 &&
                m.end - m.start >= gapMs &&
                (i === 0 || m.start > (merged[i - 1]?.end as number)),
            ) && merged.reduce((n, m) => n + m.acc, 0) === stored.length + batch.length;
          if (!ok) throw new Error(JSON.stringify({ gapMs, merged }));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
