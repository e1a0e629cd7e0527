import { decodeAcc, encodeAcc, estimateItemSize } from '#state/attributes';

describe('attributes', () => {
  it('stores additive accumulators as numbers and others as JSON', () => {
    const additive = new Set(['count']);
    expect(encodeAcc('count', 3, additive)).toEqual({ N: '3' });
    expect(encodeAcc('ids', ['a'], additive)).toEqual({ S: '["a"]' });
    expect(decodeAcc({ N: '3' })).toBe(3);
    expect(decodeAcc({ S: '{"max":2}' })).toEqual({ max: 2 });
  });

  it('estimates item size as DynamoDB counts it (names + UTF-8 values)', () => {
    expect(estimateItemSize({ pk: { S: 'abc' } })).toBe(5);
    expect(estimateItemSize({ k: { S: 'é' } })).toBe(3);
    expect(estimateItemSize({ n: { N: '12345' } })).toBe(1 + 4);
    expect(estimateItemSize({ big: { S: 'x'.repeat(400_000) } })).toBe(400_003);
  });
});
