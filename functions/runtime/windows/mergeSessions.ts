import type { Session } from '../types';

/**
 * Merges sessions of one key: the existing ones (from state) and new ones (from a batch), in any
 * order. Sessions that overlap or touch (`next.start ≤ current.end`) become one with the union
 * of their spans and the merge of their accumulators. Pure: inputs are not mutated.
 *
 * @param existing - sessions already stored for the key
 * @param incoming - sessions formed by new events (e.g. a single event: `{ start: t, end: t + gap, acc }`)
 * @param merge - merges two accumulators (associative and commutative)
 * @returns non-overlapping sessions sorted by start
 * @example
 * ```ts
 * mergeSessions([{ start: 0, end: 10, acc: 1 }], [{ start: 10, end: 25, acc: 2 }], (a, b) => a + b);
 * // [{ start: 0, end: 25, acc: 3 }]
 * ```
 */
export const mergeSessions = <TAcc>(
  existing: readonly Session<TAcc>[],
  incoming: readonly Session<TAcc>[],
  merge: (a: TAcc, b: TAcc) => TAcc,
): Session<TAcc>[] => {
  const all = [...existing, ...incoming].sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Session<TAcc>[] = [];
  let current: Session<TAcc> | undefined;
  for (const next of all) {
    if (current !== undefined && next.start <= current.end) {
      current = {
        start: current.start,
        end: Math.max(current.end, next.end),
        acc: merge(current.acc, next.acc),
      };
    } else {
      if (current !== undefined) merged.push(current);
      current = next;
    }
  }
  if (current !== undefined) merged.push(current);
  return merged;
};
