import { type LaneWork, planSliceWrite } from '#state/planSliceWrite';
import { padSequence } from '#state/sequence';

type Acc = { n: number; from?: string };
const merge = (a: Record<string, unknown>, b: Record<string, unknown>) => ({
  n: (a as Acc).n + (b as Acc).n,
});

/** A lane with records at `seqs` (one count each); `recompute` keeps those above a fence. */
const lane = (name: string, seqs: readonly number[]): LaneWork => ({
  lane: name,
  firstSeq: String(Math.min(...seqs)),
  lastSeq: String(Math.max(...seqs)),
  acc: { n: seqs.length },
  recompute: (after) => {
    const above = seqs.filter((s) => BigInt(s) > BigInt(after));
    return above.length === 0 ? undefined : { n: above.length, from: after };
  },
});

describe('planSliceWrite', () => {
  it('takes the whole contribution of a lane without a fence, or with a fence below its first record', () => {
    const plan = planSliceWrite(
      [lane('a', [5, 6, 7]), lane('b', [10, 11])],
      new Map([['b', padSequence('9')]]),
      merge,
    );
    expect(plan.acc).toEqual({ n: 5 });
    expect(plan.lanes.map((l) => [l.work.lane, l.readFence])).toEqual([
      ['a', undefined],
      ['b', padSequence('9')],
    ]);
  });

  it('skips a lane whose fence is at or above its last record (a replay)', () => {
    const lanes = [lane('a', [5, 6, 7])];
    expect(planSliceWrite(lanes, new Map([['a', padSequence('7')]]), merge)).toEqual({
      lanes: [],
      acc: undefined,
    });
    expect(planSliceWrite(lanes, new Map([['a', padSequence('8')]]), merge).acc).toBeUndefined();
  });

  it('does not recompute a lane whose fence is at or above its last record: a replay re-folds nothing', () => {
    // GIVEN a lane of records 5..7 that counts its recomputes
    const afters: string[] = [];
    const counted = (): LaneWork => {
      const base = lane('a', [5, 6, 7]);
      return {
        ...base,
        recompute: (after) => {
          afters.push(after);
          return base.recompute(after);
        },
      };
    };
    // WHEN its fence is exactly its last record, or above it, or inside it
    planSliceWrite([counted()], new Map([['a', padSequence('7')]]), merge);
    planSliceWrite([counted()], new Map([['a', padSequence('8')]]), merge);
    planSliceWrite([counted()], new Map([['a', padSequence('6')]]), merge);
    // THEN only the fence inside it is recomputed against
    expect(afters).toEqual(['6']);
  });

  it('recomputes only the records above a fence that falls inside the lane, normalized', () => {
    // GIVEN a fence at 6, or exactly at the first record
    const inside = planSliceWrite(
      [lane('a', [5, 6, 7])],
      new Map([['a', padSequence('6')]]),
      merge,
    );
    const atFirst = planSliceWrite(
      [lane('a', [5, 6, 7])],
      new Map([['a', padSequence('5')]]),
      merge,
    );
    // THEN only 7 (resp. 6 and 7), computed against the unpadded fence
    expect(inside.acc).toEqual({ n: 1, from: '6' });
    expect(atFirst.acc).toEqual({ n: 2, from: '5' });
    expect(inside.lanes.map((l) => l.readFence)).toEqual([padSequence('6')]);
  });

  it('compares fences numerically, whatever their length', () => {
    // a 2-digit fence is below a 3-digit first record, a 3-digit one above a 2-digit last one
    expect(
      planSliceWrite([lane('a', [100])], new Map([['a', padSequence('99')]]), merge).acc,
    ).toEqual({
      n: 1,
    });
    expect(
      planSliceWrite([lane('a', [98, 99])], new Map([['a', padSequence('100')]]), merge).acc,
    ).toBeUndefined();
  });

  it('merges what several lanes still bring, and lists only those', () => {
    const plan = planSliceWrite(
      [lane('a', [1, 2]), lane('b', [3]), lane('c', [4, 5, 6])],
      new Map([
        ['b', padSequence('3')],
        ['c', padSequence('4')],
      ]),
      merge,
    );
    expect(plan.acc).toEqual({ n: 4 });
    expect(plan.lanes.map((l) => l.work.lane)).toEqual(['a', 'c']);
  });
});
