import { deflateRawSync } from 'node:zlib';
import {
  type AccSet,
  accInRange,
  decodePack,
  encodePack,
  type PackEntry,
  planPacks,
  type SliceDelta,
} from '#state/index';

const MINUTE = 60_000;
/** Large enough that no pack of these tests is split. */
const NO_SPLIT = 1024 * 1024;

/**
 * A hand-built delta of `key` in slice `minute` holding the records at `seqs` (one count each):
 * `acc` is `{ n, seqs }` written out, and `recompute` is a spy returning `{ n, from, to }` of the
 * records in (after, upto], or `undefined` when none is there.
 */
function delta(key: string, minute: number, seqs: readonly number[], extra: AccSet = {}) {
  const recompute = jest.fn((after: string | undefined, upto?: string): AccSet | undefined => {
    const inside = seqs.filter(
      (s) =>
        (after === undefined || BigInt(s) > BigInt(after)) &&
        (upto === undefined || BigInt(s) <= BigInt(upto)),
    );
    return inside.length === 0 ? undefined : { n: inside.length, from: after, to: upto };
  });
  const value: SliceDelta = {
    key,
    sliceStart: minute * MINUTE,
    sliceEnd: (minute + 1) * MINUTE,
    lane: 'shardId-000000000000',
    firstSeq: String(Math.min(...seqs)),
    lastSeq: String(Math.max(...seqs)),
    acc: { n: seqs.length, ...extra },
    recompute,
  };
  return { delta: value, recompute };
}

/** A deterministic hex string of `length` characters that deflate cannot shrink much. */
function noise(seed: number, length: number): string {
  let x = seed * 2_654_435_761 + 1;
  let out = '';
  while (out.length < length) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

const decodeAll = (parts: readonly Uint8Array[]): PackEntry[] => parts.flatMap(decodePack);

describe('accInRange', () => {
  it('uses the accumulators of a delta wholly inside the range as they are, without recomputing', () => {
    // GIVEN records 5..7
    const { delta: d, recompute } = delta('k', 0, [5, 6, 7]);
    // WHEN the range is unbounded, (4, 9], or (4, 7] (upto is inclusive)
    const ranges = [
      { after: undefined, upto: undefined },
      { after: '4', upto: '9' },
      { after: '4', upto: '7' },
      { after: undefined, upto: '7' },
    ];
    // THEN the very same object comes back each time
    for (const range of ranges) expect(accInRange(d, range)).toBe(d.acc);
    expect(recompute).not.toHaveBeenCalled();
  });

  it('recomputes a delta straddling `after` from the records above it', () => {
    // GIVEN records 3, 5, 7 and a cursor at 5 (exclusive)
    const { delta: d, recompute } = delta('k', 0, [3, 5, 7]);
    // WHEN
    const acc = accInRange(d, { after: '5', upto: undefined });
    // THEN only record 7 is in (5, ∞)
    expect(recompute).toHaveBeenCalledTimes(1);
    expect(recompute).toHaveBeenCalledWith('5', undefined);
    expect(acc).toEqual({ n: 1, from: '5', to: undefined });
  });

  it('recomputes a delta whose first record is the cursor itself (`after` is exclusive)', () => {
    const { delta: d, recompute } = delta('k', 0, [4, 6]);
    expect(accInRange(d, { after: '4', upto: undefined })).toEqual({
      n: 1,
      from: '4',
      to: undefined,
    });
    expect(recompute).toHaveBeenCalledWith('4', undefined);
  });

  it('recomputes a delta straddling `upto` from the records up to it', () => {
    // GIVEN records 5, 8, 10 and a range (4, 8]
    const { delta: d, recompute } = delta('k', 0, [5, 8, 10]);
    // WHEN
    const acc = accInRange(d, { after: '4', upto: '8' });
    // THEN records 5 and 8
    expect(recompute).toHaveBeenCalledWith('4', '8');
    expect(acc).toEqual({ n: 2, from: '4', to: '8' });
  });

  it('recomputes a delta straddling both bounds with both of them', () => {
    const { delta: d, recompute } = delta('k', 0, [2, 5, 6, 9]);
    expect(accInRange(d, { after: '4', upto: '6' })).toEqual({ n: 2, from: '4', to: '6' });
    expect(recompute).toHaveBeenCalledWith('4', '6');
  });

  it('recomputes a delta whose first record is `upto` itself (one record in range)', () => {
    const { delta: d, recompute } = delta('k', 0, [8, 10]);
    expect(accInRange(d, { after: undefined, upto: '8' })).toEqual({
      n: 1,
      from: undefined,
      to: '8',
    });
    expect(recompute).toHaveBeenCalledWith(undefined, '8');
  });

  it('gives nothing, without recomputing, for a delta at or below `after` or above `upto`', () => {
    // GIVEN records 5..7
    const { delta: d, recompute } = delta('k', 0, [5, 6, 7]);
    // THEN a cursor at its last record, above it, or a range ending before its first record
    expect(accInRange(d, { after: '7', upto: undefined })).toBeUndefined();
    expect(accInRange(d, { after: '8', upto: '20' })).toBeUndefined();
    expect(accInRange(d, { after: undefined, upto: '4' })).toBeUndefined();
    expect(accInRange(d, { after: '1', upto: '4' })).toBeUndefined();
    expect(recompute).not.toHaveBeenCalled();
  });

  it('compares sequence numbers as numbers, not strings', () => {
    // GIVEN records 10 and 11: as strings '10' < '9', as numbers 10 > 9
    const { delta: d, recompute } = delta('k', 0, [10, 11]);
    expect(accInRange(d, { after: '9', upto: '100' })).toBe(d.acc);
    expect(accInRange(d, { after: '11', upto: undefined })).toBeUndefined();
    expect(recompute).not.toHaveBeenCalled();
  });
});

describe('planPacks', () => {
  it('groups the lane’s deltas by slice, slices by start, entries by key', () => {
    // GIVEN deltas of 3 slices given out of order, keys out of order
    const c2 = delta('c', 2, [1]).delta;
    const a0 = delta('a', 0, [2, 3]).delta;
    const b2 = delta('b', 2, [4]).delta;
    const b0 = delta('b', 0, [5]).delta;
    const a1 = delta('a', 1, [6, 7, 8]).delta;
    // WHEN
    const plan = planPacks([c2, a0, b2, b0, a1], { after: undefined, upto: undefined }, NO_SPLIT);
    // THEN one pack (one part) per slice, keys sorted, each with the deltas it holds
    expect(plan.tooLarge).toEqual([]);
    expect(plan.slices.map((s) => [s.sliceStart, s.sliceEnd, s.parts.length])).toEqual([
      [0, MINUTE, 1],
      [MINUTE, 2 * MINUTE, 1],
      [2 * MINUTE, 3 * MINUTE, 1],
    ]);
    expect(plan.slices.map((s) => decodeAll(s.parts))).toEqual([
      [
        ['a', { n: 2 }],
        ['b', { n: 1 }],
      ],
      [['a', { n: 3 }]],
      [
        ['b', { n: 1 }],
        ['c', { n: 1 }],
      ],
    ]);
    expect(plan.slices.map((s) => new Set(s.deltas))).toEqual([
      new Set([a0, b0]),
      new Set([a1]),
      new Set([c2, b2]),
    ]);
    expect(plan.bytes).toBe(
      plan.slices.flatMap((s) => s.parts).reduce((n, p) => n + p.byteLength, 0),
    );
  });

  it('takes only the records in the range: inside as is, straddling recomputed, outside not at all', () => {
    // GIVEN a range (10, 20] and deltas below it, inside it, across each bound, and above it
    const below = delta('below', 0, [3, 10]);
    const inside = delta('inside', 0, [11, 20]);
    const acrossAfter = delta('across-after', 1, [9, 10, 12]);
    const acrossUpto = delta('across-upto', 1, [19, 21]);
    const above = delta('above', 2, [21, 30]);
    const gap = delta('gap', 3, [5, 25]); // straddles both bounds, but no record inside them
    const all = [below, inside, acrossAfter, acrossUpto, above, gap];
    // WHEN
    const plan = planPacks(
      all.map((d) => d.delta),
      { after: '10', upto: '20' },
      NO_SPLIT,
    );
    // THEN slices 0 and 1 only; slice 2 (only above) and 3 (gap) have no pack
    expect(plan.slices.map((s) => s.sliceStart)).toEqual([0, MINUTE]);
    expect(plan.slices.map((s) => decodeAll(s.parts))).toEqual([
      [['inside', { n: 2 }]],
      [
        ['across-after', { n: 1, from: '10', to: '20' }],
        ['across-upto', { n: 1, from: '10', to: '20' }],
      ],
    ]);
    expect(plan.slices.flatMap((s) => s.deltas)).toEqual([
      inside.delta,
      acrossAfter.delta,
      acrossUpto.delta,
    ]);
    expect(below.recompute).not.toHaveBeenCalled();
    expect(inside.recompute).not.toHaveBeenCalled();
    expect(above.recompute).not.toHaveBeenCalled();
    expect(gap.recompute).toHaveBeenCalledWith('10', '20');
  });

  it('plans nothing when every record is at or below the cursor (a replay)', () => {
    const deltas = [delta('a', 0, [1, 2]).delta, delta('b', 1, [3]).delta];
    expect(planPacks(deltas, { after: '3', upto: undefined }, NO_SPLIT)).toEqual({
      slices: [],
      tooLarge: [],
      bytes: 0,
    });
  });

  it('splits a pack over maxPartBytes into parts whose decoded union is the pack, in key order', () => {
    // GIVEN 12 keys of one slice, each carrying ~300 bytes that deflate cannot shrink much
    const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const deltas = [...keys]
      .reverse()
      .map((key, i) => delta(key, 0, [i + 1], { blob: noise(i, 600) }).delta);
    const expected: PackEntry[] = [...keys]
      .reverse()
      .map((key, i): PackEntry => [key, { n: 1, blob: noise(i, 600) }])
      .sort((x, y) => (x[0] < y[0] ? -1 : 1));
    // WHEN parts may hold 1 KiB
    const plan = planPacks(deltas, { after: undefined, upto: undefined }, 1024);
    // THEN several parts, none above the limit, together exactly the entries
    const [slice] = plan.slices;
    expect(plan.slices).toHaveLength(1);
    expect(plan.tooLarge).toEqual([]);
    expect(slice?.parts.length).toBeGreaterThan(2);
    for (const part of slice?.parts ?? []) expect(part.byteLength).toBeLessThanOrEqual(1024);
    expect(decodeAll(slice?.parts ?? [])).toEqual(expected);
    expect(slice?.deltas).toHaveLength(12);
  });

  it('orders a slice’s entries by key whatever order the deltas come in', () => {
    // GIVEN deltas of keys c, a, b (in that order) in one slice
    const deltas = ['c', 'a', 'b'].map((key) => delta(key, 0, [1]).delta);
    // WHEN
    const plan = planPacks(deltas, { after: undefined, upto: undefined }, NO_SPLIT);
    // THEN the pack holds a, b, c
    expect(decodeAll(plan.slices[0]?.parts ?? []).map(([key]) => key)).toEqual(['a', 'b', 'c']);
  });

  it('keeps in one part a pack exactly maxPartBytes long', () => {
    // GIVEN a pack whose encoded size is known
    const deltas = ['a', 'b'].map((key) => delta(key, 0, [1], { id: noise(7, 200) }).delta);
    const size = encodePack([
      ['a', deltas[0]?.acc as AccSet],
      ['b', deltas[1]?.acc as AccSet],
    ]).byteLength;
    // WHEN the part limit is that size, then one byte less
    const exact = planPacks(deltas, { after: undefined, upto: undefined }, size);
    const under = planPacks(deltas, { after: undefined, upto: undefined }, size - 1);
    // THEN one part at the limit, two below it
    expect(exact.slices[0]?.parts).toHaveLength(1);
    expect(under.slices[0]?.parts).toHaveLength(2);
    expect([exact.tooLarge, under.tooLarge]).toEqual([[], []]);
  });

  it('refuses as too large an entry that does not fit a part alone, and packs the others', () => {
    // GIVEN slice 0: a small key and a huge one; slice 1: only a huge one
    const small = delta('small', 0, [1]).delta;
    const huge = delta('huge', 0, [2], { blob: noise(1, 4_000) }).delta;
    const alone = delta('alone', 1, [3], { blob: noise(2, 4_000) }).delta;
    // WHEN
    const plan = planPacks([small, huge, alone], { after: undefined, upto: undefined }, 1024);
    // THEN the huge ones are refused, slice 1 gets no pack
    expect(new Set(plan.tooLarge)).toEqual(new Set([huge, alone]));
    expect(plan.slices.map((s) => s.sliceStart)).toEqual([0]);
    expect(plan.slices[0]?.deltas).toEqual([small]);
    expect(decodeAll(plan.slices[0]?.parts ?? [])).toEqual([['small', { n: 1 }]]);
  });
});

describe('packCodec', () => {
  it('decodes what it encodes', () => {
    const entries: PackEntry[] = [
      ['/a', { count: 2, sum: 7.5 }],
      ['/b', { topK: { x: 1 }, ids: ['1', '2'] }],
    ];
    expect(decodePack(encodePack(entries))).toEqual(entries);
    expect(decodePack(encodePack([]))).toEqual([]);
  });

  it('fails to decode a body that is not a pack', () => {
    const bodies = [
      { a: 1 },
      [['k']],
      [['k', 1]],
      [['k', null]],
      [[1, { n: 1 }]],
      [['k', { n: 1 }, 'extra']],
      'text',
    ].map((json) => deflateRawSync(JSON.stringify(json)));
    for (const body of bodies) expect(() => decodePack(body)).toThrow(TypeError);
  });

  it('fails to decode bytes that are not deflated JSON', () => {
    expect(() => decodePack(new Uint8Array([1, 2, 3, 4, 5]))).toThrow();
    expect(() => decodePack(deflateRawSync('{not json'))).toThrow(SyntaxError);
  });
});
