import fc from 'fast-check';
import { sum } from '#runtime/aggregates/sum';
import { AggregateValueError } from '#runtime/errors';
import { expectMergeLaws, expectSplitInvariance, fold } from './laws';

interface Sale {
  readonly amount: number;
}
const sales = fc.array(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((amount): Sale => ({ amount })),
);

describe('sum', () => {
  it('sums like a naive loop', () => {
    fc.assert(
      fc.property(sales, (xs) => {
        // GIVEN
        const aggregate = sum((e: Sale) => e.amount);
        let expected = 0;
        for (const x of xs) expected += x.amount;

        // WHEN
        const result = aggregate.result(fold(aggregate, xs) as number);

        // THEN
        expect(result).toBe(expected);
      }),
    );
  });

  it('merges associatively and commutatively (integers), and split-invariantly', () => {
    const aggregate = sum((e: Sale) => e.amount);
    expectMergeLaws(aggregate, sales);
    expectSplitInvariance(aggregate, sales);
    expect(aggregate.additive).toBe(true);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, '3', undefined])(
    'fails on the non-finite value %p',
    (bad) => {
      // GIVEN
      const aggregate = sum((e: { amount: unknown }) => e.amount as number);

      // WHEN / THEN
      expect(() => aggregate.value({ amount: bad })).toThrow(AggregateValueError);
    },
  );
});
