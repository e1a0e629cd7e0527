import fc from 'fast-check';
import { min } from '#runtime/aggregates/min';
import { AggregateValueError } from '#runtime/errors';
import { expectMergeLaws, expectSplitInvariance, fold } from './laws';

const values = fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }));

describe('min', () => {
  it('takes the minimum like a naive loop, null when empty', () => {
    fc.assert(
      fc.property(values, (xs) => {
        // GIVEN
        const aggregate = min((x: number) => x);
        let expected: number | null = null;
        for (const x of xs) expected = expected === null ? x : Math.min(expected, x);

        // WHEN
        const result = aggregate.result(fold(aggregate, xs) as number | null);

        // THEN
        expect(result).toBe(expected);
      }),
    );
  });

  it('merges associatively and commutatively, and split-invariantly', () => {
    expectMergeLaws(
      min((x: number) => x),
      values,
    );
    expectSplitInvariance(
      min((x: number) => x),
      values,
    );
  });

  it('fails on NaN', () => {
    expect(() => min((x: number) => x).value(Number.NaN)).toThrow(AggregateValueError);
  });
});
