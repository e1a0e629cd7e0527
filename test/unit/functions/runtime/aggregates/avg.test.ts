import fc from 'fast-check';
import { type AvgAcc, avg } from '#runtime/aggregates/avg';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold } from './laws';

const values = fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }));

describe('avg', () => {
  it('averages like a naive loop, null when empty', () => {
    fc.assert(
      fc.property(values, (xs) => {
        // GIVEN
        const aggregate = avg((x: number) => x);
        let total = 0;
        for (const x of xs) total += x;
        const expected = xs.length === 0 ? null : total / xs.length;

        // WHEN
        const acc = fold(aggregate, xs) as AvgAcc;

        // THEN
        expect(aggregate.result(acc)).toBe(expected);
        expectJsonRoundTrip(acc);
      }),
    );
  });

  it('merges associatively and commutatively (integers), and split-invariantly', () => {
    expectMergeLaws(
      avg((x: number) => x),
      values,
    );
    expectSplitInvariance(
      avg((x: number) => x),
      values,
    );
  });
});
