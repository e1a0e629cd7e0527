import fc from 'fast-check';
import { span } from '#runtime/aggregates/span';
import { AggregateValueError } from '#runtime/errors';
import { expectJsonRoundTrip, expectMergeLaws, expectSplitInvariance, fold } from './laws';

describe('span', () => {
  it('is the largest minus the smallest value, like a naive loop', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e12, max: 1e12 }), { minLength: 1 }), (xs) => {
        // GIVEN
        const aggregate = span((x: number) => x);
        // WHEN
        const acc = fold(aggregate, xs);
        // THEN
        expect(aggregate.result(acc as never)).toBe(Math.max(...xs) - Math.min(...xs));
        expectJsonRoundTrip(acc);
      }),
    );
  });

  it('is null for no element and 0 for one', () => {
    const aggregate = span((x: number) => x);
    expect(aggregate.result(aggregate.empty())).toBeNull();
    expect(aggregate.result(fold(aggregate, [42]) as never)).toBe(0);
  });

  it('merges associatively and commutatively, and split-invariantly', () => {
    const aggregate = span((x: number) => x);
    expectMergeLaws(aggregate, fc.array(fc.integer()));
    expectSplitInvariance(aggregate, fc.array(fc.integer()));
  });

  it('fails a non-finite value with AggregateValueError', () => {
    const aggregate = span((x: number) => x);
    expect(() => aggregate.value(Number.NaN)).toThrow(AggregateValueError);
  });
});
