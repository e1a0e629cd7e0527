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
    ]) {
      expect(() => decodeElementIds(bad)).toThrow(InvalidWindowStoreInputError);
    }
  });
});
