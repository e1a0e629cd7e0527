import fc from 'fast-check';
import type { Aggregate } from '#runtime/types';

// biome-ignore lint/suspicious/noExplicitAny: any aggregate
type AnyAgg<TIn> = Aggregate<TIn, any, any, any, any>;

/** Folds inputs into a stored accumulator (value → add → seal). */
export const fold = <TIn>(aggregate: AnyAgg<TIn>, inputs: readonly TIn[]): unknown => {
  let work = aggregate.init();
  for (const input of inputs) work = aggregate.add(work, aggregate.value(input));
  return aggregate.seal(work);
};

/** Splits `items` at the given cut points (fast-check generated) into consecutive chunks. */
export const splitAt = <T>(items: readonly T[], cuts: readonly number[]): T[][] => {
  const points = [
    ...new Set(cuts.map((c) => (items.length === 0 ? 0 : c % (items.length + 1)))),
  ].sort((a, b) => a - b);
  const chunks: T[][] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(items.slice(from, p));
    from = p;
  }
  chunks.push(items.slice(from));
  return chunks;
};

/** Asserts merge is associative and commutative with `empty()` as identity, on stored accumulators. */
export const expectMergeLaws = <TIn>(
  aggregate: AnyAgg<TIn>,
  inputs: fc.Arbitrary<TIn[]>,
  numRuns = 200,
): void => {
  fc.assert(
    fc.property(inputs, inputs, inputs, (xs, ys, zs) => {
      const [a, b, c] = [fold(aggregate, xs), fold(aggregate, ys), fold(aggregate, zs)];
      expect(aggregate.merge(aggregate.merge(a, b), c)).toEqual(
        aggregate.merge(a, aggregate.merge(b, c)),
      );
      expect(aggregate.merge(a, b)).toEqual(aggregate.merge(b, a));
      expect(aggregate.merge(a, aggregate.empty())).toEqual(a);
      expect(aggregate.merge(aggregate.empty(), a)).toEqual(a);
    }),
    { numRuns },
  );
};

/** Asserts that folding arbitrary chunks and merging them (in shuffled order) equals folding all at once. */
export const expectSplitInvariance = <TIn>(
  aggregate: AnyAgg<TIn>,
  inputs: fc.Arbitrary<TIn[]>,
  numRuns = 200,
): void => {
  fc.assert(
    fc.property(inputs, fc.array(fc.nat()), fc.func(fc.integer()), (xs, cuts, order) => {
      const chunks = splitAt(xs, cuts).map((chunk) => fold(aggregate, chunk));
      const shuffled = chunks
        .map((acc, i) => ({ acc, rank: order(i) }))
        .sort((p, q) => p.rank - q.rank);
      const merged = shuffled.reduce(
        (acc, { acc: next }) => aggregate.merge(acc, next),
        aggregate.empty(),
      );
      expect(merged).toEqual(fold(aggregate, xs));
      expect(aggregate.result(merged)).toEqual(aggregate.result(fold(aggregate, xs)));
    }),
    { numRuns },
  );
};

/** Stored accumulators must survive a JSON round trip unchanged (they go to DynamoDB). */
export const expectJsonRoundTrip = (acc: unknown): void => {
  expect(JSON.parse(JSON.stringify(acc))).toEqual(acc);
};
