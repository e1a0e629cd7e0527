import { compareSequenceNumbers } from '#local/esm/compareSequenceNumbers';

describe('compareSequenceNumbers', () => {
  it('compares as numbers, not as strings', () => {
    // GIVEN sequence numbers longer than a double's precision and of different lengths
    const small = '9';
    const big = '49590338271490256608559692538361571095921575989136588802';
    const bigger = '49590338271490256608559692538361571095921575989136588803';

    // THEN
    expect(compareSequenceNumbers(small, big)).toBeLessThan(0);
    expect(compareSequenceNumbers(bigger, big)).toBeGreaterThan(0);
    expect(compareSequenceNumbers(big, big)).toBe(0);
  });
});
