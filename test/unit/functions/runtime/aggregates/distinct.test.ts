import fc from 'fast-check';
import { type DistinctAcc, distinct } from '#runtime/aggregates/distinct';
import { HyperLogLog } from '#runtime/aggregates/HyperLogLog';
import { hash53 } from '#runtime/aggregates/hash53';
import { fromSparseBase64 } from '#runtime/aggregates/sparseHll';
import {
  AccumulatorMismatchError,
  AggregateValueError,
  InvalidAggregateError,
} from '#runtime/errors';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold } from './laws';

const byValue = distinct((v: string) => v);

/** Relative error of the distinct count of `n` unique values `${seed}-${i}`. */
const relativeError = (n: number, seed: string): number => {
  let work = byValue.init();
  for (let i = 0; i < n; i++) work = byValue.add(work, byValue.value(`${seed}-user-${i}`));
  return byValue.result(byValue.seal(work)) / n - 1;
};

describe('distinct', () => {
  it('is exact up to the threshold, like a naive Set', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 }), (xs) => {
        // GIVEN
        const expected = new Set(xs).size;
        fc.pre(expected <= 64);

        // WHEN
        const acc = fold(byValue, xs) as DistinctAcc;

        // THEN
        expect(acc.kind).toBe('exact');
        expect(byValue.result(acc)).toBe(expected);
        expectJsonRoundTrip(acc);
      }),
    );
  });

  it('treats 1 and "1" as the same value', () => {
    // GIVEN
    const aggregate = distinct((v: string | number) => v);

    // WHEN / THEN
    expect(aggregate.result(fold(aggregate, [1, '1', 2]) as DistinctAcc)).toBe(2);
  });

  it('switches to HyperLogLog above the threshold, stored sparse (3 characters per register)', () => {
    // GIVEN
    const values = Array.from({ length: 65 }, (_, i) => `v${i}`);

    // WHEN
    const acc = fold(byValue, values) as DistinctAcc;

    // THEN
    expect(acc.kind).toBe('sparse');
    if (acc.kind === 'sparse') {
      const { nonZero } = fromSparseBase64(12, acc.entries);
      expect(acc.entries).toHaveLength(3 * nonZero);
      expect(nonZero).toBeGreaterThan(60);
    }
    expect(JSON.stringify(acc).length).toBeLessThan(250);
    expect(Math.abs(byValue.result(acc) - 65)).toBeLessThanOrEqual(3);
    expectJsonRoundTrip(acc);
  });

  it('stores dense registers, 4,096 base64 characters, once sparse would be longer', () => {
    // GIVEN
    const values = Array.from({ length: 5_000 }, (_, i) => `v${i}`);

    // WHEN
    const acc = fold(byValue, values) as DistinctAcc;

    // THEN
    expect(acc.kind).toBe('hll');
    expect(JSON.stringify(acc).length).toBeLessThan(4_150);
    if (acc.kind === 'hll') expect(acc.registers).toHaveLength(4_096);
    expectJsonRoundTrip(acc);
  });

  it('merges associatively, commutatively and split-invariantly, exact and HyperLogLog alike', () => {
    const values = fc.array(fc.integer({ min: 0, max: 300 }).map(String), { maxLength: 150 });
    expectMergeLaws(byValue, values, 100);
    expectSplitInvariance(byValue, values, 100);
  });

  it('has ≤ 2 % standard error at 10k and 100k distinct values (precision 12)', () => {
    // GIVEN 24 independent value sets per size
    for (const n of [10_000, 100_000]) {
      // WHEN
      const errors = Array.from({ length: 24 }, (_, seed) => relativeError(n, `s${seed}`));

      // THEN
      const rms = Math.sqrt(errors.reduce((acc, e) => acc + e * e, 0) / errors.length);
      expect(rms).toBeLessThanOrEqual(0.02);
      for (const e of errors) expect(Math.abs(e)).toBeLessThan(0.06); // > 3.5 σ never
    }
  });

  it('counts a fixed 10k and 100k data set within 2 %', () => {
    expect(Math.abs(relativeError(10_000, 'fixed'))).toBeLessThanOrEqual(0.02);
    expect(Math.abs(relativeError(100_000, 'fixed'))).toBeLessThanOrEqual(0.02);
  });

  it('counts duplicates once across merges of HyperLogLog partials', () => {
    // GIVEN 5 partials of the same 5,000 values
    const values = Array.from({ length: 5_000 }, (_, i) => `dup-${i}`);
    const partials = Array.from({ length: 5 }, () => fold(byValue, values) as DistinctAcc);

    // WHEN
    const merged = partials.reduce((a, b) => byValue.merge(a, b));

    // THEN
    expect(merged).toEqual(partials[0]);
    expect(Math.abs(byValue.result(merged) / 5_000 - 1)).toBeLessThan(0.05);
  });

  it('merges and counts a sketch read back from storage exactly like the one it built', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 65, max: 3_000 }),
        fc.integer({ min: 0, max: 3_000 }),
        (n, m) => {
          // GIVEN sketches built here (their registers cached) and their JSON copies (decoded)
          const a = fold(
            byValue,
            Array.from({ length: n }, (_, i) => `a-${i}`),
          ) as DistinctAcc;
          const b = fold(
            byValue,
            Array.from({ length: m }, (_, i) => `b-${i}`),
          ) as DistinctAcc;
          const stored = (acc: DistinctAcc): DistinctAcc => JSON.parse(JSON.stringify(acc));

          // WHEN
          const merged = byValue.merge(a, b);
          const mergedFromStorage = byValue.merge(stored(a), stored(b));

          // THEN the stored form and the count are the same either way, and the inputs are unchanged
          expect(mergedFromStorage).toEqual(merged);
          expect(byValue.result(stored(merged))).toBe(byValue.result(merged));
          expect(byValue.merge(stored(a), stored(b))).toEqual(byValue.merge(a, b));
          expect(stored(a)).toEqual(
            fold(
              byValue,
              Array.from({ length: n }, (_, i) => `a-${i}`),
            ),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('fails on a value that is neither a string nor a finite number', () => {
    const aggregate = distinct((v: unknown) => v as string);
    expect(() => aggregate.value({})).toThrow(AggregateValueError);
    expect(() => aggregate.value(Number.NaN)).toThrow(AggregateValueError);
  });

  it('fails on a precision outside 4..16', () => {
    expect(() => distinct((v: string) => v, { precision: 3 })).toThrow(InvalidAggregateError);
    expect(() => distinct((v: string) => v, { precision: 17 })).toThrow(InvalidAggregateError);
  });
});

/** A 53-bit hash that sets register `index` to `rank` at `precision` (rank 54 - precision: rest all 0). */
const hashFor = (precision: number, index: number, rank: number): number =>
  index * 2 ** (53 - precision) + (rank > 53 - precision ? 0 : 2 ** (53 - precision - rank));

/** Folds raw hashes (skipping `value`) into a stored accumulator. */
const foldHashes = (
  aggregate: ReturnType<typeof distinct<string>>,
  hashes: readonly number[],
): DistinctAcc => {
  let work = aggregate.init();
  for (const h of hashes) work = aggregate.add(work, h);
  return aggregate.seal(work);
};

/** The registers an accumulator stores, decoded from its JSON form; `undefined` while exact. */
const storedRegisters = (acc: DistinctAcc): Uint8Array | undefined => {
  const copy = JSON.parse(JSON.stringify(acc)) as DistinctAcc;
  if (copy.kind === 'exact') return undefined;
  return copy.kind === 'hll'
    ? HyperLogLog.fromBase64(copy.precision, copy.registers).registers
    : fromSparseBase64(copy.precision, copy.entries).registers;
};

/** The dense sketch of today's code (a `kind: 'hll'` accumulator), whatever its size. */
const legacyDense = (acc: DistinctAcc): DistinctAcc => {
  const registers = storedRegisters(acc);
  return registers === undefined || acc.kind === 'exact'
    ? acc
    : {
        kind: 'hll',
        precision: acc.precision,
        registers: new HyperLogLog(acc.precision, registers).toBase64(),
      };
};

const countNonZeroRegisters = (registers: Uint8Array): number =>
  registers.reduce((n, r) => n + (r === 0 ? 0 : 1), 0);

describe('distinct, sparse HyperLogLog', () => {
  it('gives the registers and counts of the dense sketch over random hash sets and merge trees', () => {
    const hash = fc.integer({ min: 0, max: 2 ** 53 - 1 });
    const leaf = fc.oneof(
      fc.array(hash, { maxLength: 80 }),
      // value ranges from a few seeds: leaves overlap, so merges see the same values again
      fc
        .record({ seed: fc.nat(2), from: fc.nat(2_000), count: fc.nat(1_200) })
        .map(({ seed, from, count }) =>
          Array.from({ length: count }, (_, i) => hash53(`${seed}-${from + i}`)),
        ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8, 12, 12, 12, 16),
        fc.constantFrom(0, 1, 64, 64),
        fc.array(fc.tuple(leaf, fc.constantFrom('built', 'stored', 'legacy')), {
          minLength: 1,
          maxLength: 7,
        }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 6, maxLength: 6 }),
        (precision, exactThreshold, leaves, picks) => {
          // GIVEN accumulators as built here, read from storage, or written by the dense-only code
          const aggregate = distinct((v: string) => v, { precision, exactThreshold });
          const capacity = Math.floor(((1 << precision) * 6) / (precision + 6));
          let nodes = leaves.map(([hashes, form]) => {
            const acc = foldHashes(aggregate, hashes);
            const stored = form === 'built' ? acc : JSON.parse(JSON.stringify(acc));
            return { acc: form === 'legacy' ? legacyDense(acc) : stored, hashes: new Set(hashes) };
          });
          const expectLikeDense = (acc: DistinctAcc, hashes: ReadonlySet<number>): void => {
            const dense = new HyperLogLog(precision);
            for (const h of hashes) dense.insert(h);
            if (hashes.size <= exactThreshold) {
              expect(acc).toEqual({ kind: 'exact', hashes: [...hashes].sort((a, b) => a - b) });
              expect(aggregate.result(acc)).toBe(hashes.size);
              return;
            }
            const nonZero = countNonZeroRegisters(dense.registers);
            expect(acc.kind).toBe(nonZero <= capacity ? 'sparse' : 'hll');
            expect(storedRegisters(acc)).toEqual(dense.registers);
            expect(aggregate.result(acc)).toBe(Math.round(dense.estimate()));
            expect(aggregate.result(JSON.parse(JSON.stringify(acc)))).toBe(
              Math.round(dense.estimate()),
            );
            expect(acc).toEqual(foldHashes(aggregate, [...hashes]));
          };

          // WHEN merged pairwise in a random tree, some results going through storage
          for (const [i, j, store] of picks) {
            if (nodes.length < 2) break;
            const a = nodes.splice(i % nodes.length, 1)[0] as (typeof nodes)[number];
            const b = nodes.splice(j % nodes.length, 1)[0] as (typeof nodes)[number];
            const merged = aggregate.merge(a.acc, b.acc);
            const hashes = new Set([...a.hashes, ...b.hashes]);

            // THEN every node has the registers (and count) of the dense sketch of its values
            expectLikeDense(merged, hashes);
            nodes = [
              ...nodes,
              { acc: store ? JSON.parse(JSON.stringify(merged)) : merged, hashes },
            ];
          }
          const root = nodes.reduce((x, y) => ({
            acc: aggregate.merge(x.acc, y.acc),
            hashes: new Set([...x.hashes, ...y.hashes]),
          }));
          expectLikeDense(aggregate.merge(root.acc, aggregate.empty()), root.hashes);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stays sparse up to 1,365 registers at precision 12 (4,095 characters), then dense', () => {
    // GIVEN hashes that set registers 0..n-1, ranks 1..51 in turn
    const aggregate = distinct((v: string) => v, { exactThreshold: 0 });
    const registers = (n: number): number[] =>
      Array.from({ length: n }, (_, i) => hashFor(12, i, 1 + (i % 51)));

    // WHEN
    const sparse = foldHashes(aggregate, registers(1_365));
    const dense = foldHashes(aggregate, registers(1_366));

    // THEN
    expect(sparse.kind).toBe('sparse');
    if (sparse.kind === 'sparse') expect(sparse.entries).toHaveLength(4_095);
    expect(dense.kind).toBe('hll');
    if (dense.kind === 'hll') expect(dense.registers).toHaveLength(4_096);
    expect(
      aggregate.merge(sparse, foldHashes(aggregate, [hashFor(12, 1_365, 1 + (1_365 % 51))])),
    ).toEqual(dense);
  });

  it('reads and merges dense sketches written before the sparse form, into the sparse form', () => {
    // GIVEN a dense sketch of 100 values as stored today, and a sparse one of 100 others
    const denseOld = legacyDense(
      fold(
        byValue,
        Array.from({ length: 100 }, (_, i) => `o${i}`),
      ) as DistinctAcc,
    );
    const sparseNew = fold(
      byValue,
      Array.from({ length: 100 }, (_, i) => `n${i}`),
    ) as DistinctAcc;
    const all = fold(byValue, [
      ...Array.from({ length: 100 }, (_, i) => `o${i}`),
      ...Array.from({ length: 100 }, (_, i) => `n${i}`),
    ]) as DistinctAcc;

    // WHEN
    const merged = byValue.merge(denseOld, sparseNew);

    // THEN
    expect(denseOld.kind).toBe('hll');
    expect(byValue.result(denseOld)).toBe(
      byValue.result(
        fold(
          byValue,
          Array.from({ length: 100 }, (_, i) => `o${i}`),
        ) as DistinctAcc,
      ),
    );
    expect(merged).toEqual(all);
    expect(merged.kind).toBe('sparse');
    expect(byValue.merge(sparseNew, denseOld)).toEqual(all);
    expect(byValue.merge(denseOld, byValue.empty())).toEqual(
      fold(
        byValue,
        Array.from({ length: 100 }, (_, i) => `o${i}`),
      ),
    );
  });

  it.each([
    ['malformed base64', 'AB*'],
    ['padding', 'AB=='],
    ['a length that is no whole number of entries', 'ABCDE'],
    ['unsorted indexes', 'ABBAAB'],
    ['duplicate indexes', 'ABBABB'],
    ['a zero rank', 'AAA'],
    ['a rank above 54 - precision', 'AAr'],
  ])('fails to read sparse entries with %s', (_, entries) => {
    // GIVEN
    const stored = { kind: 'sparse', precision: 12, entries } as DistinctAcc;
    const valid = fold(
      byValue,
      Array.from({ length: 100 }, (_, i) => `v${i}`),
    ) as DistinctAcc;

    // WHEN / THEN
    expect(() => byValue.result(stored)).toThrow(AccumulatorMismatchError);
    expect(() => byValue.merge(valid, { ...stored })).toThrow(AccumulatorMismatchError);
    expect(() => byValue.merge(byValue.empty(), { ...stored })).toThrow(AccumulatorMismatchError);
  });

  it('fails to read sparse entries of a precision outside 4..16, or an unknown kind', () => {
    expect(() => byValue.result({ kind: 'sparse', precision: 17, entries: '' })).toThrow(
      AccumulatorMismatchError,
    );
    expect(() => byValue.result({ kind: 'dense' } as unknown as DistinctAcc)).toThrow(
      AccumulatorMismatchError,
    );
  });

  it('fails to merge sparse sketches of different precisions', () => {
    // GIVEN
    const p10 = distinct((v: string) => v, { precision: 10 });
    const a = fold(
      p10,
      Array.from({ length: 100 }, (_, i) => `v${i}`),
    ) as DistinctAcc;
    const b = fold(
      byValue,
      Array.from({ length: 100 }, (_, i) => `v${i}`),
    ) as DistinctAcc;

    // WHEN / THEN
    expect(a.kind).toBe('sparse');
    expect(() => byValue.merge(b, a)).toThrow(AccumulatorMismatchError);
    expect(() => byValue.merge(byValue.empty(), a)).toThrow(AccumulatorMismatchError);
  });

  it('stores 200 distinct values in a 1 KB item, 1,000 in 3 KB (dense: 4,140 bytes)', () => {
    const size = (n: number): number =>
      JSON.stringify(
        fold(
          byValue,
          Array.from({ length: n }, (_, i) => `u${i}`),
        ),
      ).length;
    expect(size(200)).toBeLessThan(700);
    expect(size(1_000)).toBeLessThan(2_800);
    expect(size(2_000)).toBe(4_140);
  });
});
