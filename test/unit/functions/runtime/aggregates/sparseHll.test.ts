import fc from 'fast-check';
import {
  countNonZero,
  fromSparseBase64,
  sparseCapacity,
  toSparseBase64,
} from '#runtime/aggregates/sparseHll';
import { AccumulatorMismatchError } from '#runtime/errors';

/** Registers of `precision` with the given (index, rank) pairs set; later pairs win. */
const registersWith = (precision: number, pairs: readonly [number, number][]): Uint8Array => {
  const registers = new Uint8Array(1 << precision);
  for (const [index, rank] of pairs) registers[index % (1 << precision)] = rank;
  return registers;
};

describe('sparseHll', () => {
  it('round-trips any registers of precision 4..16, (precision + 6) bits per non-zero one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 16 }),
        fc.array(fc.tuple(fc.nat(65_535), fc.integer({ min: 0, max: 38 })), { maxLength: 300 }),
        (precision, pairs) => {
          // GIVEN
          const registers = registersWith(precision, pairs);
          const nonZero = countNonZero(registers, registers.length);

          // WHEN
          const entries = toSparseBase64(precision, registers);
          const back = fromSparseBase64(precision, entries);

          // THEN
          expect(entries).toMatch(/^[A-Za-z0-9+/]*$/);
          expect(entries).toHaveLength(Math.ceil((nonZero * (precision + 6)) / 6));
          expect(back.registers).toEqual(registers);
          expect(back.nonZero).toBe(nonZero);
        },
      ),
    );
  });

  it('encodes an entry in exactly 3 characters at precision 12: index high, index low, rank', () => {
    // GIVEN registers 1 (rank 2) and 4,095 (rank 42)
    const registers = registersWith(12, [
      [1, 2],
      [4_095, 42],
    ]);

    // WHEN / THEN
    expect(toSparseBase64(12, registers)).toBe('ABC//q');
  });

  it('is never longer than the dense form (2^precision characters) up to its capacity', () => {
    expect(sparseCapacity(4)).toBe(9);
    expect(sparseCapacity(12)).toBe(1_365);
    expect(sparseCapacity(16)).toBe(17_873);
    for (let precision = 4; precision <= 16; precision++) {
      const n = sparseCapacity(precision);
      const length = (k: number): number => Math.ceil((k * (precision + 6)) / 6);
      expect(length(n)).toBeLessThanOrEqual(1 << precision);
      expect(length(n + 1)).toBeGreaterThan(1 << precision);
    }
  });

  it('counts non-zero registers up to cap + 1 only', () => {
    // GIVEN
    const registers = registersWith(8, [
      [0, 1],
      [5, 3],
      [200, 1],
    ]);

    // WHEN / THEN
    expect(countNonZero(registers, 256)).toBe(3);
    expect(countNonZero(registers, 1)).toBe(2);
  });

  it('counts the same 4 registers at a time as one by one, whatever the alignment', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64, max: 63 }),
        fc.nat(70),
        (bytes, cap) => {
          // GIVEN the registers, aligned and at an odd offset
          const aligned = Uint8Array.from(bytes);
          const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
          unaligned.set(bytes);
          const oneByOne = bytes.reduce((n, r) => n + (r === 0 ? 0 : 1), 0);

          // WHEN / THEN exact up to cap, then "more than cap"
          for (const registers of [aligned, unaligned]) {
            const counted = countNonZero(registers, cap);
            if (oneByOne <= cap) expect(counted).toBe(oneByOne);
            else expect(counted).toBeGreaterThan(cap);
          }
        },
      ),
    );
  });

  it('fails on entries whose last character has non-zero padding bits', () => {
    // GIVEN one entry at precision 10: 16 bits in 3 characters, 2 of them padding
    const entries = toSparseBase64(10, registersWith(10, [[3, 5]]));
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(
      entries.slice(-1),
    );
    const spoiled = `${entries.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[last + 1]}`;

    // WHEN / THEN
    expect(fromSparseBase64(10, entries).registers[3]).toBe(5);
    expect(() => fromSparseBase64(10, spoiled)).toThrow(AccumulatorMismatchError);
  });

  it.each([
    ['a precision outside 4..16', 3, ''],
    ['a non-integer precision', 12.5, ''],
    ['a character outside base64', 12, 'AB\u00e9'],
    ['base64 padding', 12, 'AB=='],
    ['a partial entry', 12, 'ABCDE'],
    ['indexes out of order', 12, 'ABBAAB'],
    ['a duplicate index', 12, 'ABBABB'],
    ['a zero rank', 12, 'AAA'],
    ['a rank above 54 - precision', 12, 'AAr'],
  ])('fails on %s', (_, precision, entries) => {
    expect(() => fromSparseBase64(precision, entries)).toThrow(AccumulatorMismatchError);
  });

  it('fails on a value that is not a string', () => {
    expect(() => fromSparseBase64(12, 42 as unknown as string)).toThrow(AccumulatorMismatchError);
  });
});
