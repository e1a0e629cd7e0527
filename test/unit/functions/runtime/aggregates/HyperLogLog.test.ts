import { HyperLogLog } from '#runtime/aggregates/HyperLogLog';
import { hash53 } from '#runtime/aggregates/hash53';
import { AccumulatorMismatchError } from '#runtime/errors';

describe('HyperLogLog', () => {
  it('round-trips its registers through base64 (6 bits each, 4 per 3 bytes)', () => {
    // GIVEN
    const hll = new HyperLogLog(12);
    for (let i = 0; i < 50_000; i++) hll.insert(hash53(`x${i}`));

    // WHEN
    const base64 = hll.toBase64();
    const back = HyperLogLog.fromBase64(12, base64);

    // THEN
    expect(Buffer.from(base64, 'base64')).toHaveLength(3_072);
    expect(base64).toHaveLength(4_096);
    expect(back.registers).toEqual(hll.registers);
  });

  it('estimates 0 for an empty sketch and small counts almost exactly', () => {
    // GIVEN
    const hll = new HyperLogLog(12);

    // WHEN / THEN
    expect(hll.estimate()).toBe(0);
    for (let i = 0; i < 100; i++) hll.insert(hash53(`y${i}`));
    expect(Math.abs(hll.estimate() - 100)).toBeLessThan(3);
  });

  it('estimates large cardinalities (1M) within 5 %', () => {
    // GIVEN
    const hll = new HyperLogLog(12);
    for (let i = 0; i < 1_000_000; i++) hll.insert(hash53(`z${i}`));

    // WHEN / THEN
    expect(Math.abs(hll.estimate() / 1_000_000 - 1)).toBeLessThan(0.05);
  });

  it('returns the register value an insert found (0: the register was empty)', () => {
    // GIVEN a hash setting register 5 to rank 3 at precision 12, and one setting it to rank 1
    const hll = new HyperLogLog(12);
    const rank3 = 5 * 2 ** 41 + 2 ** 38;
    const rank1 = 5 * 2 ** 41 + 2 ** 40;

    // WHEN / THEN
    expect(hll.insert(rank3)).toBe(0);
    expect(hll.insert(rank1)).toBe(3);
    expect(hll.registers[5]).toBe(3);
  });

  it('fails to merge sketches of different precisions', () => {
    expect(() => new HyperLogLog(12).mergeFrom(new HyperLogLog(11))).toThrow(
      AccumulatorMismatchError,
    );
  });

  it('fails to decode registers of the wrong length', () => {
    expect(() => HyperLogLog.fromBase64(12, 'AAAA')).toThrow(AccumulatorMismatchError);
  });
});
