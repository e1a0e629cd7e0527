import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';

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

  it('orders equal-length numbers digit by digit', () => {
    // GIVEN
    const a = '49590338271490256608559692538361571095921575989136588802';
    const b = '49590338271490256608559692538361571095921575989136588812';

    // THEN
    expect(compareSequenceNumbers(a, b)).toBeLessThan(0);
    expect(compareSequenceNumbers(b, a)).toBeGreaterThan(0);
    expect(compareSequenceNumbers('9', '10')).toBeLessThan(0);
  });
});
