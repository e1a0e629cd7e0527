import fc from 'fast-check';
import { decodeElementIds, type ElementId, elementKey, encodeElementIds } from '#state/elementIds';
import { InvalidWindowStoreInputError } from '#state/index';

describe('encodeElementIds / decodeElementIds', () => {
  it('writes sorted, deduplicated ids: first in decimal, then base-36 distances, ordinals and codes', () => {
    const text = encodeElementIds([
      { sequenceNumber: '136', ordinal: 1, code: 'F' },
      { sequenceNumber: '100', ordinal: 0 },
      { sequenceNumber: '100', ordinal: 0, code: 'L' },
      { sequenceNumber: '136', ordinal: 0, code: 'X' },
    ]);
    expect(text).toBe('100,10~X,0.1~F');
    expect(decodeElementIds(text)).toEqual([
      { sequenceNumber: '100', ordinal: 0, code: 'L' },
      { sequenceNumber: '136', ordinal: 0, code: 'X' },
      { sequenceNumber: '136', ordinal: 1, code: 'F' },
    ]);
    expect(encodeElementIds([])).toBe('');
    expect(decodeElementIds('')).toEqual([]);
  });

  it('writes a run of consecutive ordinals of one record as one entry', () => {
    const many = Array.from({ length: 80_000 }, (_, ordinal) => ({ sequenceNumber: '7', ordinal }));
    const text = encodeElementIds([...many, { sequenceNumber: '9', ordinal: 3, code: 'X' }]);
    expect(text).toBe(`7.0-${(79_999).toString(36)},2.3~X`);
    expect(decodeElementIds(text)).toHaveLength(80_001);
  });

  it('starts a new entry where the ordinals of one record stop being consecutive', () => {
    // GIVEN ordinals 0, 2 and 3 of record 7: 0 alone, then the run 2-3 at distance 0
    const text = encodeElementIds([
      { sequenceNumber: '7', ordinal: 3 },
      { sequenceNumber: '7', ordinal: 0 },
      { sequenceNumber: '7', ordinal: 2 },
    ]);
    // THEN
    expect(text).toBe('7,0.2-3');
    expect(decodeElementIds(text)).toEqual([
      { sequenceNumber: '7', ordinal: 0, code: 'L' },
      { sequenceNumber: '7', ordinal: 2, code: 'L' },
      { sequenceNumber: '7', ordinal: 3, code: 'L' },
    ]);
  });

  it('reads a run first-last as every ordinal from first up to last', () => {
    expect(decodeElementIds('100.a-c~X')).toEqual([
      { sequenceNumber: '100', ordinal: 10, code: 'X' },
      { sequenceNumber: '100', ordinal: 11, code: 'X' },
      { sequenceNumber: '100', ordinal: 12, code: 'X' },
    ]);
  });

  it('round-trips any set of 128-digit sequence numbers, ordinals and codes', () => {
    const id = fc.record({
      sequenceNumber: fc.bigInt({ min: 0n, max: 10n ** 128n - 1n }).map(String),
      ordinal: fc.integer({ min: 0, max: 10_000 }),
      code: fc.constantFrom('L' as const, 'X' as const, 'F' as const),
    });
    fc.assert(
      fc.property(fc.array(id, { maxLength: 30 }), (ids: ElementId[]) => {
        const decoded = decodeElementIds(encodeElementIds(ids));
        const unique = new Map(ids.map((i) => [elementKey(i), i.code]));
        expect(new Map(decoded.map((i) => [elementKey(i), i.code]))).toEqual(unique);
      }),
    );
  });

  it('fails clearly on what it did not write', () => {
    for (const bad of [
      'x',
      '007',
      '1,-2',
      '1.2.3',
      '1~Q',
      '1~X~F',
      '1,ZZ',
      '1.',
      '1.A',
      '1,ab!',
      '1~',
      '1.1-2-3',
      '1.2-',
      '1.2-A',
      '1.5-2',
    ]) {
      expect(() => decodeElementIds(bad)).toThrow(InvalidWindowStoreInputError);
    }
  });

  it('fails with a message that quotes the text, or the start of a long one', () => {
    // GIVEN a bad entry, alone or followed by 100,000 more characters
    const long = `1~Q,${'1,'.repeat(50_000)}`;
    // THEN the message names the text, but does not carry all of a long one
    expect(() => decodeElementIds('1~Q')).toThrow('not an encoded set of element ids: 1~Q');
    expect(() => decodeElementIds(long)).toThrow('not an encoded set of element ids: 1~Q,1,1,');
    expect(() => decodeElementIds(long)).toThrow(/^.{0,1000}$/s);
  });
});
