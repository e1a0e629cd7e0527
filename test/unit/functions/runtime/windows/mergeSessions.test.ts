import fc from 'fast-check';
import type { Session } from '#runtime/types';
import { mergeSessions } from '#runtime/windows/mergeSessions';

const GAP = 100;
const add = (a: number[], b: number[]): number[] => [...a, ...b].sort((x, y) => x - y);

/** Naive oracle: sort all event times, split where the next event is more than `gap` after the previous. */
const sortAndSplit = (times: readonly number[]): Session<number[]>[] => {
  const sorted = [...times].sort((a, b) => a - b);
  const sessions: Session<number[]>[] = [];
  let current: number[] = [];
  for (const t of sorted) {
    if (current.length > 0 && t - (current[current.length - 1] as number) > GAP) {
      sessions.push({
        start: current[0] as number,
        end: (current[current.length - 1] as number) + GAP,
        acc: current,
      });
      current = [];
    }
    current.push(t);
  }
  if (current.length > 0) {
    sessions.push({
      start: current[0] as number,
      end: (current[current.length - 1] as number) + GAP,
      acc: current,
    });
  }
  return sessions;
};

const single = (t: number): Session<number[]> => ({ start: t, end: t + GAP, acc: [t] });

describe('mergeSessions', () => {
  it('equals a naive sort-and-split of all events, whatever the arrival order and batching', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 80 }),
        fc.array(fc.nat()),
        (times, cuts) => {
          // GIVEN: events arrive out of order in batches; each batch merges into the stored sessions
          let stored: Session<number[]>[] = [];
          const points = [...new Set(cuts.map((c) => c % (times.length + 1)))].sort(
            (a, b) => a - b,
          );
          let from = 0;
          for (const p of [...points, times.length]) {
            // WHEN
            stored = mergeSessions(stored, times.slice(from, p).map(single), add);
            from = p;
          }

          // THEN
          expect(stored).toEqual(sortAndSplit(times));
        },
      ),
    );
  });

  it('bridges two stored sessions with one event in between', () => {
    // GIVEN
    const stored = [
      { start: 0, end: 100, acc: [0] },
      { start: 180, end: 280, acc: [180] },
    ];

    // WHEN
    const merged = mergeSessions(stored, [single(90)], add);

    // THEN
    expect(merged).toEqual([{ start: 0, end: 280, acc: [0, 90, 180] }]);
  });

  it('merges sessions that touch (event exactly gap after the last one), as Flink does', () => {
    expect(mergeSessions([single(0)], [single(100)], add)).toEqual([
      { start: 0, end: 200, acc: [0, 100] },
    ]);
    expect(mergeSessions([single(0)], [single(101)], add)).toHaveLength(2);
  });

  it('does not mutate its inputs', () => {
    const stored = [single(0)];
    const snapshot = JSON.stringify(stored);
    mergeSessions(stored, [single(50)], add);
    expect(JSON.stringify(stored)).toBe(snapshot);
  });
});
