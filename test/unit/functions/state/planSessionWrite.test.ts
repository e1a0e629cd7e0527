import { planSessionWrite, type StoredSession } from '#state/planSessionWrite';
import { padSequence } from '#state/sequence';
import type { AccSet, SessionContents, SessionDelta, SessionElement } from '#state/types';

const GAP = 10;
const merge = (a: AccSet, b: AccSet): AccSet => ({ n: (a.n as number) + (b.n as number) });

/** A delta whose sessions count elements, formed by the sort-and-split rule. */
const delta = (elements: Array<[lane: string, seq: string, time: number]>): SessionDelta => {
  const list: SessionElement[] = elements.map(([lane, sequenceNumber, time]) => ({
    lane,
    sequenceNumber,
    time,
  }));
  return {
    key: 'u1',
    elements: list,
    sessionsOf: (indices) => {
      const times = indices.map((i) => (list[i] as SessionElement).time).sort((a, b) => a - b);
      const out: SessionContents[] = [];
      for (const t of times) {
        const last = out[out.length - 1];
        if (last !== undefined && t <= last.end) {
          out[out.length - 1] = {
            start: last.start,
            end: Math.max(last.end, t + GAP),
            acc: { n: (last.acc.n as number) + 1 },
          };
        } else out.push({ start: t, end: t + GAP, acc: { n: 1 } });
      }
      return out;
    },
  };
};

const stored = (start: number, end: number, n: number, sealed = false): StoredSession => ({
  start,
  end,
  acc: { n },
  version: 3,
  sealed,
});

const noFences = { version: undefined, fences: new Map<string, string>() };

describe('planSessionWrite', () => {
  it('puts a new session and advances the lane fence to the highest sequence number', () => {
    // GIVEN an empty key
    const d = delta([
      ['s0', '5', 100],
      ['s0', '7', 104],
    ]);
    // WHEN
    const plan = planSessionWrite(d, [], noFences, GAP, merge);
    // THEN
    expect(plan?.puts).toEqual([
      { session: { start: 100, end: 114, acc: { n: 2 } }, replaces: undefined },
    ]);
    expect(plan?.deletes).toEqual([]);
    expect(plan?.fences).toEqual(new Map([['s0', padSequence('7')]]));
  });

  it('skips elements at or below their lane fence, and returns undefined when none is new', () => {
    // GIVEN fences s0 = 7
    const fences = { version: 2, fences: new Map([['s0', padSequence('7')]]) };
    // WHEN a replay of 5 and 7, and a batch of 7 and 9
    const replay = planSessionWrite(
      delta([
        ['s0', '5', 100],
        ['s0', '7', 104],
      ]),
      [],
      fences,
      GAP,
      merge,
    );
    const partial = planSessionWrite(
      delta([
        ['s0', '7', 104],
        ['s0', '9', 130],
      ]),
      [],
      fences,
      GAP,
      merge,
    );
    // THEN
    expect(replay).toBeUndefined();
    expect(partial?.fresh).toEqual([1]);
    expect(partial?.puts.map((p) => p.session)).toEqual([{ start: 130, end: 140, acc: { n: 1 } }]);
  });

  it('merges a bridging element with both stored sessions: one put on the first, one delete', () => {
    // GIVEN stored [0, 10) and [18, 28)
    const first = stored(0, 10, 2);
    const second = stored(18, 28, 1);
    // WHEN an element at 9 arrives (9 <= 10 and 18 <= 19)
    const plan = planSessionWrite(delta([['s1', '1', 9]]), [first, second], noFences, GAP, merge);
    // THEN the merged session replaces the first and absorbs the second
    expect(plan?.puts).toEqual([
      { session: { start: 0, end: 28, acc: { n: 4 } }, replaces: first },
    ]);
    expect(plan?.deletes).toEqual([second]);
  });

  it('puts under a new start and deletes the stored session when an element extends it backwards', () => {
    const later = stored(20, 30, 1);
    const plan = planSessionWrite(delta([['s0', '1', 12]]), [later], noFences, GAP, merge);
    expect(plan?.puts).toEqual([
      { session: { start: 12, end: 30, acc: { n: 2 } }, replaces: undefined },
    ]);
    expect(plan?.deletes).toEqual([later]);
  });

  it('treats touching as merging (next start == previous end), like mergeSessions', () => {
    const plan = planSessionWrite(
      delta([['s0', '1', 10]]),
      [stored(0, 10, 1)],
      noFences,
      GAP,
      merge,
    );
    expect(plan?.puts.map((p) => p.session)).toEqual([{ start: 0, end: 20, acc: { n: 2 } }]);
  });

  it('refuses elements whose gap interval touches a sealed session and still advances the fence', () => {
    // GIVEN a sealed [0, 10) and an open [40, 50)
    const sealed = stored(0, 10, 5, true);
    const open = stored(40, 50, 1);
    // WHEN elements at 5 (inside), -5 (its [t, t+gap] touches 0), 25 (touches nothing), 35 (touches open)
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 5],
        ['s0', '2', 25],
        ['s0', '3', 35],
        ['s1', '4', 0],
      ]),
      [sealed, open],
      noFences,
      GAP,
      merge,
    );
    // THEN 5 and 0 are refused; 25 and 35 form [25, 45) which merges with the open session
    expect(plan?.refused).toEqual([0, 3]);
    expect(plan?.sealedTouched).toEqual([{ key: 'u1', start: 0, end: 10 }]);
    expect(plan?.puts).toEqual([
      { session: { start: 25, end: 50, acc: { n: 3 } }, replaces: undefined },
    ]);
    expect(plan?.deletes).toEqual([open]);
    expect(plan?.fences).toEqual(
      new Map([
        ['s0', padSequence('3')],
        ['s1', padSequence('4')],
      ]),
    );
  });

  it('never merges across a sealed session, even when the batch alone would bridge it', () => {
    // GIVEN sealed [20, 30); elements at 8 and 40 are not refused, 19 is
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 8],
        ['s0', '2', 19],
        ['s0', '3', 40],
      ]),
      [stored(20, 30, 1, true)],
      noFences,
      GAP,
      merge,
    );
    expect(plan?.refused).toEqual([1]);
    expect(plan?.puts.map((p) => p.session)).toEqual([
      { start: 8, end: 18, acc: { n: 1 } },
      { start: 40, end: 50, acc: { n: 1 } },
    ]);
  });

  it('writes only the fence item when every new element is refused', () => {
    const plan = planSessionWrite(
      delta([['s0', '1', 5]]),
      [stored(0, 10, 1, true)],
      noFences,
      GAP,
      merge,
    );
    expect(plan?.puts).toEqual([]);
    expect(plan?.deletes).toEqual([]);
    expect(plan?.fences.get('s0')).toBe(padSequence('1'));
  });

  it('refuses elements whose session would end at or before the committed watermark, and still advances the fence', () => {
    // GIVEN the committed watermark at 100 and an open session [95, 105)
    const open = stored(95, 105, 1);
    // WHEN elements at 10 (far behind: alone a session due at once), 90 (its own gap ends at 100,
    // but it touches the open session, which ends after the watermark: it joins it), 91 (joins it
    // too) and 200
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 10],
        ['s0', '2', 90],
        ['s0', '3', 91],
        ['s1', '4', 200],
      ]),
      [open],
      noFences,
      GAP,
      merge,
      100,
    );
    // THEN only 10 is refused, and said to be behind the watermark
    expect(plan?.refused).toEqual([0]);
    expect(plan?.behindWatermark).toEqual([0]);
    expect(plan?.sealedTouched).toEqual([]);
    expect(plan?.puts.map((p) => p.session)).toEqual([
      { start: 90, end: 105, acc: { n: 3 } },
      { start: 200, end: 210, acc: { n: 1 } },
    ]);
    expect(plan?.fences).toEqual(
      new Map([
        ['s0', padSequence('3')],
        ['s1', padSequence('4')],
      ]),
    );
    // and without a watermark nothing is refused for it
    expect(
      planSessionWrite(delta([['s0', '1', 10]]), [], noFences, GAP, merge)?.behindWatermark,
    ).toEqual([]);
  });

  it('compares sequence numbers of 128 digits numerically', () => {
    const big = `9${'0'.repeat(127)}`;
    const fences = { version: 1, fences: new Map([['s0', padSequence(`8${'9'.repeat(126)}`)]]) };
    const plan = planSessionWrite(delta([['s0', big, 1]]), [], fences, GAP, merge);
    expect(plan?.fresh).toEqual([0]);
  });
});
