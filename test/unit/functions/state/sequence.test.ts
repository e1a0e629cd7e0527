import fc from 'fast-check';
import {
  compareSequences,
  InvalidSequenceNumberError,
  normalizeSequence,
  padSequence,
  SEQUENCE_WIDTH,
} from '#state/index';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), minLength: min, maxLength: max });

describe('sequence numbers', () => {
  it('pads to 128 characters so string order is numeric order', () => {
    fc.assert(
      fc.property(digits(1, 128), digits(1, 128), (a, b) => {
        // WHEN
        const [pa, pb] = [padSequence(a), padSequence(b)];
        // THEN
        expect(pa).toHaveLength(SEQUENCE_WIDTH);
        const numeric = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
        expect(pa < pb ? -1 : pa > pb ? 1 : 0).toBe(numeric);
        expect(Math.sign(compareSequences(a, b))).toBe(numeric);
      }),
      { numRuns: 500 },
    );
  });

  it('compares 128-digit numbers that differ only in the last digit', () => {
    // GIVEN
    const a = `9${'0'.repeat(126)}1`;
    const b = `9${'0'.repeat(126)}2`;
    // THEN
    expect(compareSequences(a, b)).toBeLessThan(0);
    expect(padSequence(a) < padSequence(b)).toBe(true);
    // naive string order would get lengths wrong: "9" > "10"
    expect(compareSequences('9', '10')).toBeLessThan(0);
    expect(padSequence('9') < padSequence('10')).toBe(true);
  });

  it('compares by numeric value whatever the leading zeros', () => {
    // THEN
    expect(compareSequences('007', '10')).toBeLessThan(0);
    expect(compareSequences('10', '007')).toBeGreaterThan(0);
    expect(compareSequences('0010', '10')).toBe(0);
    expect(compareSequences('000', '0')).toBe(0);
  });

  it.each([
    ['12a', '1'],
    ['1', ''],
  ])('fails to compare invalid sequence numbers %p and %p', (a, b) => {
    expect(() => compareSequences(a, b)).toThrow(InvalidSequenceNumberError);
  });

  it('strips leading zeros', () => {
    expect(normalizeSequence('000123')).toBe('123');
    expect(normalizeSequence('0000')).toBe('0');
    expect(normalizeSequence(padSequence('42'))).toBe('42');
  });

  it.each(['', '12a', '-1', '1.5', '1'.repeat(129)])(
    'fails on invalid sequence number %p',
    (bad) => {
      expect(() => normalizeSequence(bad)).toThrow(InvalidSequenceNumberError);
    },
  );
});
