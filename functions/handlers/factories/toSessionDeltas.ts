import {
  type AnyAggregate,
  type AnyWindowedPipelineDefinition,
  foldSessions,
  type SessionPartial,
  WINDOW_KIND,
} from '#runtime/index';
import type { SessionDelta } from '#state/index';

/**
 * Adapts a batch plan's session partials to the store's deltas: one delta per key with every
 * contributing element (lane, sequence number, event time), and `sessionsOf(indices)` folding
 * the sessions of any subset of them (the store keeps only elements above the key's fences and
 * not refused by a sealed session).
 *
 * @example
 * await sessions.applySessions(toSessionDeltas(userSessions, plan.sessions.values()));
 */
export function toSessionDeltas(
  definition: AnyWindowedPipelineDefinition,
  partials: Iterable<SessionPartial>,
): SessionDelta[] {
  const assigner = definition.assigner;
  if (assigner.kind !== WINDOW_KIND.SESSION) return [];
  const names = definition.aggregateNames;
  const aggregates = names.map((name) => definition.aggregates[name] as AnyAggregate);
  const deltas: SessionDelta[] = [];
  for (const partial of partials) {
    let values: unknown[] | undefined;
    deltas.push({
      key: partial.key,
      elements: partial.elements.map((_, i) => ({
        lane: partial.elementLanes[i] as string,
        sequenceNumber: partial.elementSequences[i] as string,
        time: partial.elementTimes[i] as number,
        ordinal: partial.elementOrdinals[i] as number,
      })),
      sessionsOf: (indices) => {
        if (indices.length === partial.elements.length) return [...partial.sessions];
        values ??= partial.elements.flatMap((element) => aggregates.map((a) => a.value(element)));
        const all = values;
        return foldSessions(
          aggregates,
          names,
          assigner.gapMs,
          indices.map((i) => partial.elementTimes[i] as number),
          indices.flatMap((i) => all.slice(i * aggregates.length, (i + 1) * aggregates.length)),
        );
      },
    });
  }
  return deltas;
}
