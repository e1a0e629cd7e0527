import fc from 'fast-check';
import { count } from '#runtime/aggregates/count';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold } from './laws';

describe('count', () => {
  it('counts every element like a naive loop', () => {
    fc.assert(
      fc.property(fc.array(fc.anything()), (xs) => {
        // GIVEN
        const aggregate = count();
        let expected = 0;
        for (const _ of xs) expected++;

        // WHEN
        const acc = fold(aggregate, xs);

        // THEN
        expect(aggregate.result(acc as number)).toBe(expected);
        expectJsonRoundTrip(acc);
      }),
    );
  });

  it('is additive, so the store can use DynamoDB ADD', () => {
    // GIVEN / WHEN
    const aggregate = count();

    // THEN
    expect(aggregate.additive).toBe(true);
    expect(aggregate.merge(3, 4)).toBe(7);
  });

  it('merges associatively and commutatively, and split-invariantly', () => {
    expectMergeLaws(count(), fc.array(fc.integer()));
    expectSplitInvariance(count(), fc.array(fc.integer()));
  });

  it('counts only the elements matching where, still additively', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), (xs) => {
        // GIVEN
        const aggregate = count((x: number) => x % 2 === 0);
        // WHEN
        const acc = fold(aggregate, xs);
        // THEN
        expect(acc).toBe(xs.filter((x) => x % 2 === 0).length);
        expect(aggregate.additive).toBe(true);
      }),
    );
    expectSplitInvariance(
      count((x: number) => x > 0),
      fc.array(fc.integer()),
    );
  });
});
