import fc from 'fast-check';
import { max } from '#runtime/aggregates/max';
import { AggregateValueError } from '#runtime/errors';
import { expectMergeLaws, expectSplitInvariance, fold } from './laws';

const values = fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }));

describe('max', () => {
  it('takes the maximum like a naive loop, null when empty', () => {
    fc.assert(
      fc.property(values, (xs) => {
        // GIVEN
        const aggregate = max((x: number) => x);
        let expected: number | null = null;
        for (const x of xs) expected = expected === null ? x : Math.max(expected, x);

        // WHEN
        const result = aggregate.result(fold(aggregate, xs) as number | null);

        // THEN
        expect(result).toBe(expected);
      }),
    );
  });

  it('merges associatively and commutatively, and split-invariantly', () => {
    expectMergeLaws(
      max((x: number) => x),
      values,
    );
    expectSplitInvariance(
      max((x: number) => x),
      values,
    );
  });

  it('fails on NaN', () => {
    expect(() => max((x: number) => x).value(Number.NaN)).toThrow(AggregateValueError);
  });
});
