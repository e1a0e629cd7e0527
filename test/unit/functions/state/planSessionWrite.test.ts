import { decodeElementIds, encodeElementIds } from '#state/elementIds';
import { planSessionWrite, rememberedRefusals, type StoredSession } from '#state/planSessionWrite';
import { padSequence } from '#state/sequence';
import type { AccSet, SessionContents, SessionDelta, SessionElement } from '#state/types';

const GAP = 10;
const merge = (a: AccSet, b: AccSet): AccSet => ({ n: (a.n as number) + (b.n as number) });

/** A delta whose sessions count elements, formed by the sort-and-split rule. */
const delta = (
  elements: Array<[lane: string, seq: string, time: number] | [string, string, number, number]>,
): SessionDelta => {
  const list: SessionElement[] = elements.map(([lane, sequenceNumber, time, ordinal]) => ({
    lane,
    sequenceNumber,
    time,
    ...(ordinal === undefined ? {} : { ordinal }),
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

  it('touches a sealed session at both ends of the gap interval exactly', () => {
    // GIVEN a sealed session [50, 60]
    const sealed = stored(50, 60, 1, true);
    // WHEN elements at 40 (t + gap = 50, its start), 60 (its end) and 61 (past it)
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 40],
        ['s0', '2', 60],
        ['s0', '3', 61],
      ]),
      [sealed],
      noFences,
      GAP,
      merge,
    );
    // THEN 40 and 60 are refused, 61 opens a session of its own
    expect(plan?.refused).toEqual([0, 1]);
    expect(plan?.puts.map((p) => p.session)).toEqual([{ start: 61, end: 71, acc: { n: 1 } }]);
  });

  it('advances a lane fence to its highest sequence number whatever the elements order', () => {
    const plan = planSessionWrite(
      delta([
        ['s0', '9', 100],
        ['s0', '3', 101],
        ['s0', '10', 102],
        ['s0', '7', 103],
      ]),
      [],
      noFences,
      GAP,
      merge,
    );
    expect(plan?.fences).toEqual(new Map([['s0', padSequence('10')]]));
  });

  it('leaves sealed and untouched stored sessions out of the merge: no put, no delete', () => {
    // GIVEN a sealed session [0, 10] and an open one [500, 510], far from the new element
    const plan = planSessionWrite(
      delta([['s0', '1', 200]]),
      [stored(0, 10, 4, true), stored(500, 510, 2)],
      noFences,
      GAP,
      merge,
    );
    // THEN only the new session is put
    expect(plan?.puts).toEqual([
      { session: { start: 200, end: 210, acc: { n: 1 } }, replaces: undefined },
    ]);
    expect(plan?.deletes).toEqual([]);
  });

  it('merges a stored session nested in the new ones and one starting inside the group', () => {
    // GIVEN open sessions [105, 108] (inside the new span) and [112, 125] (starting inside it)
    const a = stored(105, 108, 1);
    const b = stored(112, 125, 1);
    // WHEN elements at 100 and 103 form [100, 113]
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 100],
        ['s0', '2', 103],
      ]),
      [a, b],
      noFences,
      GAP,
      merge,
    );
    // THEN one session [100, 125] of 4, under the new start: both stored ones are deleted
    expect(plan?.puts).toEqual([
      { session: { start: 100, end: 125, acc: { n: 4 } }, replaces: undefined },
    ]);
    expect(plan?.deletes).toEqual([a, b]);
  });

  it('merges parts with the same start, nested ends first, into one put that replaces the stored one', () => {
    // GIVEN an open session [100, 130]
    const s = stored(100, 130, 2);
    // WHEN an element at 100 (its own [100, 110] nests inside) and one at 140 (touches 130? no: 140 > 130)
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 100],
        ['s0', '2', 125],
      ]),
      [s],
      noFences,
      GAP,
      merge,
    );
    // THEN [100, 135] of 4 replaces the stored session in place
    expect(plan?.puts).toEqual([{ session: { start: 100, end: 135, acc: { n: 4 } }, replaces: s }]);
    expect(plan?.deletes).toEqual([]);
  });

  it('refuses a whole group that ends at or before the committed watermark, keeps groups after it', () => {
    // GIVEN the committed watermark at 100, an open (due, unsealed) session [80, 95]
    const due = stored(80, 95, 1);
    // WHEN 85 joins it (group ends at 95 <= 100), 92 and 99 chain into [92, 109] (> 100)
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 85],
        ['s0', '2', 99],
        ['s0', '3', 92],
      ]),
      [due],
      noFences,
      GAP,
      merge,
      100,
    );
    // THEN 85 is refused: the session it would join is due; 92 (touching the due session) and
    // 99 form a group with it that ends at 109: accepted, the due session is merged into it
    expect(plan?.behindWatermark).toEqual([]);
    expect(plan?.puts.map((p) => p.session)).toEqual([{ start: 80, end: 109, acc: { n: 4 } }]);
    // WHEN the group ends exactly at the watermark
    const exact = planSessionWrite(delta([['s0', '1', 90]]), [], noFences, GAP, merge, 100);
    expect(exact?.behindWatermark).toEqual([0]);
    const after = planSessionWrite(delta([['s0', '1', 91]]), [], noFences, GAP, merge, 100);
    expect(after?.behindWatermark).toEqual([]);
  });

  it('refuses as EXPIRED what ended more than the retention before the committed watermark, first', () => {
    // GIVEN the committed watermark at 1,000, retention 500; a sealed session [470, 480]
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 480], // 480 + 10 + 500 = 990 <= 1000: expired (though it touches the sealed one)
        ['s0', '2', 490], // 1000 <= 1000: expired
        ['s0', '3', 491], // 1001: not expired; its session ends at 501 <= 1000: LATE
        ['s0', '4', 995], // on time
      ]),
      [stored(470, 480, 1, true)],
      noFences,
      GAP,
      merge,
      1_000,
      500,
    );
    expect(plan?.expired).toEqual([0, 1]);
    expect(plan?.refused).toEqual([0, 1, 2]);
    expect(plan?.behindWatermark).toEqual([2]);
    expect(plan?.accepted).toEqual([3]);
    // without a committed watermark nothing expires
    expect(
      planSessionWrite(delta([['s0', '1', 0]]), [], noFences, GAP, merge, undefined, 1)?.expired,
    ).toEqual([]);
  });

  it('refuses the elements the caller found too large, and plans the rest without them', () => {
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 100],
        ['s0', '2', 300],
      ]),
      [],
      noFences,
      GAP,
      merge,
      undefined,
      undefined,
      new Set([0]),
    );
    expect(plan?.tooLarge).toEqual([0]);
    expect(plan?.refused).toEqual([0]);
    expect(plan?.accepted).toEqual([1]);
    expect(plan?.puts.map((p) => p.session)).toEqual([{ start: 300, end: 310, acc: { n: 1 } }]);
  });

  it('remembers its refusals on the lanes that advance, with their reason, and keeps earlier ones it may replay', () => {
    // GIVEN the fence item remembers 3 (lane s0) and 8 (lane s1) from an earlier batch
    const before = {
      version: 1,
      fences: new Map([
        ['s0', padSequence('3')],
        ['s1', padSequence('8')],
      ]),
      refused: new Map([
        ['s0', encodeElementIds([{ sequenceNumber: '3', ordinal: 0 }])],
        ['s1', encodeElementIds([{ sequenceNumber: '8', ordinal: 1, code: 'F' }])],
      ]),
    };
    // WHEN a batch replays 3 and brings 4 (LATE: touches a sealed session) and 5 (expired)
    const d = delta([
      ['s0', '3', 50],
      ['s0', '4', 97, 1],
      ['s0', '5', 0],
    ]);
    const plan = planSessionWrite(d, [stored(95, 100, 1, true)], before, GAP, merge, 600, 500);
    // THEN s0 remembers 3 (replayable: at or after the batch's first element), 4.1 and 5 (X);
    // s1 does not advance, so it is not rewritten
    expect([...(plan?.remember.keys() ?? [])]).toEqual(['s0']);
    expect(decodeElementIds(plan?.remember.get('s0') ?? '')).toEqual([
      { sequenceNumber: '3', ordinal: 0, code: 'L' },
      { sequenceNumber: '4', ordinal: 1, code: 'L' },
      { sequenceNumber: '5', ordinal: 0, code: 'X' },
    ]);
    // and the replayed 3 is found again, with its reason
    expect(rememberedRefusals(d, before)).toEqual(new Map([[0, 'L']]));
  });

  it('forgets remembered refusals before the first element of the lane in the batch', () => {
    const before = {
      version: 1,
      fences: new Map([['s0', padSequence('3')]]),
      refused: new Map([
        [
          's0',
          encodeElementIds([
            { sequenceNumber: '2', ordinal: 0 },
            { sequenceNumber: '3', ordinal: 0, code: 'X' },
          ]),
        ],
      ]),
    };
    const plan = planSessionWrite(
      delta([
        ['s0', '3', 100],
        ['s0', '4', 101],
      ]),
      [],
      before,
      GAP,
      merge,
    );
    expect(decodeElementIds(plan?.remember.get('s0') ?? '')).toEqual([
      { sequenceNumber: '3', ordinal: 0, code: 'X' },
    ]);
    // with nothing left to remember, the attribute is cleared
    const later = planSessionWrite(delta([['s0', '9', 100]]), [], before, GAP, merge);
    expect(later?.remember).toEqual(new Map([['s0', '']]));
  });

  it('finds nothing remembered without a memory, or for elements it does not hold', () => {
    const d = delta([['s0', '3', 100]]);
    expect(rememberedRefusals(d, noFences)).toEqual(new Map());
    expect(
      rememberedRefusals(d, {
        ...noFences,
        refused: new Map([['s1', encodeElementIds([{ sequenceNumber: '3', ordinal: 0 }])]]),
      }),
    ).toEqual(new Map());
    expect(
      rememberedRefusals(delta([['s0', '3', 100, 1]]), {
        ...noFences,
        refused: new Map([['s0', encodeElementIds([{ sequenceNumber: '3', ordinal: 0 }])]]),
      }),
    ).toEqual(new Map());
  });

  it('joins a group whose next span starts exactly where it ends, and lists refusals in element order', () => {
    // GIVEN the committed watermark at 105, an open session [100, 110] and a sealed one [0, 5]
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 30], // alone: [30, 40] ends at or before 105: behind the watermark
        ['s0', '2', 3], // touches the sealed session
        ['s0', '3', 90], // [90, 100] touches [100, 110] at 100: their group ends at 110 > 105
      ]),
      [stored(100, 110, 1), stored(0, 5, 1, true)],
      noFences,
      GAP,
      merge,
      105,
    );
    expect(plan?.refused).toEqual([0, 1]);
    expect(plan?.behindWatermark).toEqual([0]);
    expect(plan?.accepted).toEqual([2]);
    expect(plan?.puts.map((p) => p.session)).toEqual([{ start: 90, end: 110, acc: { n: 2 } }]);
  });

  it('keeps remembered refusals from the lowest sequence number of the lane in the batch, whatever the order', () => {
    const before = {
      version: 1,
      fences: new Map([['s0', padSequence('5')]]),
      refused: new Map([['s0', encodeElementIds([{ sequenceNumber: '4', ordinal: 0 }])]]),
    };
    // the batch's elements of lane s0 come as 6 then 3 (the lowest is 3, below 4)
    const plan = planSessionWrite(
      delta([
        ['s0', '6', 100],
        ['s0', '3', 101],
      ]),
      [],
      before,
      GAP,
      merge,
    );
    expect(decodeElementIds(plan?.remember.get('s0') ?? '')).toEqual([
      { sequenceNumber: '4', ordinal: 0, code: 'L' },
    ]);
  });

  it('lets no stored session far from the new elements join or rescue their group behind the watermark', () => {
    // GIVEN the committed watermark at 100 and an open session [500, 510], touching nothing new
    // (`stored` may hold more than the sessions the elements touch)
    const far = stored(500, 510, 1);
    // WHEN an element at 10 arrives: alone, its session [10, 20] ends before the watermark
    const plan = planSessionWrite(delta([['s0', '1', 10]]), [far], noFences, GAP, merge, 100);
    // THEN it is refused as behind the watermark, and the far session is left as it is
    expect(plan?.behindWatermark).toEqual([0]);
    expect(plan?.refused).toEqual([0]);
    expect(plan?.accepted).toEqual([]);
    expect(plan?.puts).toEqual([]);
    expect(plan?.deletes).toEqual([]);
  });

  it('groups the new elements with the open session they fall inside, whatever their own gaps', () => {
    // GIVEN the committed watermark at 30 and an open session [0, 100], longer than one gap
    const open = stored(0, 100, 3);
    // WHEN elements at 10 and 50 arrive: their own gaps [10, 20] and [50, 60] do not touch each
    // other, and the first ends before the watermark, but both lie inside the open session
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 10],
        ['s0', '2', 50],
      ]),
      [open],
      noFences,
      GAP,
      merge,
      30,
    );
    // THEN one group, ending at 100 > 30: both accepted, merged into the open session in place
    expect(plan?.behindWatermark).toEqual([]);
    expect(plan?.refused).toEqual([]);
    expect(plan?.accepted).toEqual([0, 1]);
    expect(plan?.puts).toEqual([
      { session: { start: 0, end: 100, acc: { n: 5 } }, replaces: open },
    ]);
  });

  it('lists accepted and behind-the-watermark elements in element order, whatever their times', () => {
    // GIVEN the committed watermark at 100; elements in falling time order
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 300],
        ['s0', '2', 200],
        ['s0', '3', 50],
        ['s0', '4', 20],
      ]),
      [],
      noFences,
      GAP,
      merge,
      100,
    );
    // THEN 50 and 20 end at or before 100 (behind), 300 and 200 after it (accepted)
    expect(plan?.behindWatermark).toEqual([2, 3]);
    expect(plan?.refused).toEqual([2, 3]);
    expect(plan?.accepted).toEqual([0, 1]);
    expect(plan?.puts.map((p) => p.session)).toEqual([
      { start: 200, end: 210, acc: { n: 1 } },
      { start: 300, end: 310, acc: { n: 1 } },
    ]);
  });

  it('never rewrites or deletes a sealed session, even one touching an open session it merges', () => {
    // GIVEN an open session [40, 50] and a sealed one [50, 60] that touches it
    const open = stored(40, 50, 1);
    const sealed = stored(50, 60, 7, true);
    // WHEN an element at 35 arrives: [35, 45] touches the open session, not the sealed one
    const plan = planSessionWrite(delta([['s0', '1', 35]]), [open, sealed], noFences, GAP, merge);
    // THEN it merges with the open session only; the sealed one is neither put nor deleted
    expect(plan?.refused).toEqual([]);
    expect(plan?.puts).toEqual([
      { session: { start: 35, end: 50, acc: { n: 2 } }, replaces: undefined },
    ]);
    expect(plan?.deletes).toEqual([open]);
  });

  it('remembers each refusal with its reason (F for too large) on its own lane only', () => {
    // GIVEN a sealed session [95, 100]
    // WHEN lane s0 brings an element the caller found too large, and lane s1 one touching the
    // sealed session (LATE)
    const plan = planSessionWrite(
      delta([
        ['s0', '1', 300],
        ['s1', '2', 97],
      ]),
      [stored(95, 100, 1, true)],
      noFences,
      GAP,
      merge,
      undefined,
      undefined,
      new Set([0]),
    );
    // THEN each lane's fence item remembers only its own refusal, with its code
    expect(plan?.refused).toEqual([0, 1]);
    expect(decodeElementIds(plan?.remember.get('s0') ?? '')).toEqual([
      { sequenceNumber: '1', ordinal: 0, code: 'F' },
    ]);
    expect(decodeElementIds(plan?.remember.get('s1') ?? '')).toEqual([
      { sequenceNumber: '2', ordinal: 0, code: 'L' },
    ]);
  });

  it('finds remembered refusals again with the reason they were refused for', () => {
    // GIVEN the fence item remembers 3 as EXPIRED and 4.1 as STATE_TOO_LARGE
    const before = {
      version: 1,
      fences: new Map([['s0', padSequence('4')]]),
      refused: new Map([
        [
          's0',
          encodeElementIds([
            { sequenceNumber: '3', ordinal: 0, code: 'X' },
            { sequenceNumber: '4', ordinal: 1, code: 'F' },
          ]),
        ],
      ]),
    };
    // WHEN a delta replays both, and 4.0, which was counted
    const d = delta([
      ['s0', '3', 100],
      ['s0', '4', 101],
      ['s0', '4', 102, 1],
    ]);
    // THEN
    expect(rememberedRefusals(d, before)).toEqual(
      new Map([
        [0, 'X'],
        [2, 'F'],
      ]),
    );
  });
});
