import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import { WINDOW_KIND } from './constants';
import { foldAccumulators } from './foldAccumulators';
import { foldSessions } from './preAggregate';
import type {
  AnyAggregate,
  AnyWindowedPipelineDefinition,
  SessionPartial,
  SlicePartial,
} from './types';

/** True when the partial is a slice partial. */
const isSlice = (partial: SlicePartial | SessionPartial): partial is SlicePartial =>
  'sliceStart' in partial;

/**
 * Recomputes a partial from only the elements a stored item has not absorbed yet: those whose
 * sequence number is above the item's fence for their lane (or whose lane it has no fence for).
 * This is the conflict path of the window store: the fast path writes the whole partial with a
 * condition on the fences; when that fails, the store reads the fences and applies this.
 *
 * @param definition - the pipeline the partial was planned with
 * @param partial - a partial from {@link preAggregate}
 * @param fences - last absorbed sequence number per lane, as stored on the item
 * @param ceilings - per lane, the highest sequence number to keep (a lane pack's range)
 * @returns the partial restricted to new elements, or `undefined` when every element was absorbed
 * @example
 * ```ts
 * const fresh = rebuildPartial(pageViews, partial, new Map(Object.entries(item.fences)));
 * if (fresh !== undefined) await writeConditionally(fresh);
 * ```
 */
export const rebuildPartial = <P extends SlicePartial | SessionPartial>(
  definition: AnyWindowedPipelineDefinition,
  partial: P,
  fences: ReadonlyMap<string, string>,
  ceilings?: ReadonlyMap<string, string>,
): P | undefined => {
  const keep: number[] = [];
  for (let i = 0; i < partial.elements.length; i++) {
    const lane = partial.elementLanes[i] as string;
    const sequence = partial.elementSequences[i] as string;
    const fence = fences.get(lane);
    const ceiling = ceilings?.get(lane);
    if (
      (fence === undefined || compareSequenceNumbers(sequence, fence) > 0) &&
      (ceiling === undefined || compareSequenceNumbers(sequence, ceiling) <= 0)
    )
      keep.push(i);
  }
  if (keep.length === 0) return undefined;
  if (keep.length === partial.elements.length) return partial;
  const elements = keep.map((i) => partial.elements[i]);
  const elementLanes = keep.map((i) => partial.elementLanes[i] as string);
  const elementSequences = keep.map((i) => partial.elementSequences[i] as string);
  const elementTimes = keep.map((i) => partial.elementTimes[i] as number);
  const elementOrdinals = keep.map((i) => partial.elementOrdinals[i] as number);
  const elementRecords = keep.map((i) => partial.elementRecords[i] as number);
  const lanes = new Map<string, string>();
  const firstSequenceByLane = new Map<string, string>();
  for (let k = 0; k < keep.length; k++) {
    const lane = elementLanes[k] as string;
    const last = lanes.get(lane);
    const first = firstSequenceByLane.get(lane);
    const sequence = elementSequences[k] as string;
    if (last === undefined || compareSequenceNumbers(sequence, last) > 0) lanes.set(lane, sequence);
    if (first === undefined || compareSequenceNumbers(sequence, first) < 0)
      firstSequenceByLane.set(lane, sequence);
  }
  const base = {
    key: partial.key,
    count: keep.length,
    lanes,
    firstSequenceByLane,
    elements,
    elementLanes,
    elementSequences,
    elementTimes,
    elementOrdinals,
    elementRecords,
  };
  if (isSlice(partial)) {
    const wasLate = new Set(partial.lateElements);
    const lateElements: number[] = [];
    keep.forEach((i, k) => {
      if (wasLate.has(i)) lateElements.push(k);
    });
    const rebuilt: SlicePartial = {
      ...base,
      sliceStart: partial.sliceStart,
      sliceEnd: partial.sliceEnd,
      accs: foldAccumulators(definition, elements),
      late: lateElements.length,
      lateElements,
    };
    return rebuilt as P;
  }
  if (definition.assigner.kind !== WINDOW_KIND.SESSION) return undefined;
  const aggregates = definition.aggregateNames.map(
    (name) => definition.aggregates[name] as AnyAggregate,
  );
  const values: unknown[] = [];
  for (const element of elements)
    for (const aggregate of aggregates) values.push(aggregate.value(element));
  const rebuilt: SessionPartial = {
    ...base,
    sessions: foldSessions(
      aggregates,
      definition.aggregateNames,
      definition.assigner.gapMs,
      elementTimes,
      values,
    ),
  };
  return rebuilt as P;
};
