import {
  type AnyWindowedPipelineDefinition,
  rebuildPartial,
  type SlicePartial,
} from '#runtime/index';
import type { AccSet, SliceDelta } from '#state/index';
import { HANDLER_DEFAULTS, LATE_ACCUMULATOR } from '../constants';

/**
 * Adapts a batch plan's slice partials to the store's deltas: one delta per (key, slice, lane),
 * its accumulators plus the {@link LATE_ACCUMULATOR} count, `firstSeq`/`lastSeq` the lane's lowest
 * and highest contributing sequence numbers, and `recompute(afterSeq, uptoSeq)` re-folding only the
 * lane's elements in (`afterSeq`, `uptoSeq`] with `rebuildPartial` (a fence or a cursor's range).
 *
 * @example
 * const result = await store.applyDeltas(toSliceDeltas(pageViews, plan.partials.values()));
 */
export function toSliceDeltas(
  definition: AnyWindowedPipelineDefinition,
  partials: Iterable<SlicePartial>,
): SliceDelta[] {
  const deltas: SliceDelta[] = [];
  for (const partial of partials) {
    for (const [lane, lastSeq] of partial.lanes) {
      // Fences that hide every other lane's elements, so rebuildPartial keeps only this lane's.
      const mask = (afterSeq: string | undefined): Map<string, string> => {
        const fences = new Map<string, string>();
        for (const other of partial.lanes.keys())
          if (other !== lane) fences.set(other, HANDLER_DEFAULTS.maxSequence);
        if (afterSeq !== undefined) fences.set(lane, afterSeq);
        return fences;
      };
      const own =
        partial.lanes.size === 1 ? partial : rebuildPartial(definition, partial, mask(undefined));
      if (own === undefined) continue;
      const firstSeq = partial.firstSequenceByLane.get(lane) ?? lastSeq;
      deltas.push({
        key: partial.key,
        sliceStart: partial.sliceStart,
        sliceEnd: partial.sliceEnd,
        lane,
        firstSeq,
        lastSeq,
        acc: withLate(own),
        sequences: () =>
          partial.elementSequences.filter((_, i) => partial.elementLanes[i] === lane),
        recompute: (afterSeq, uptoSeq) => {
          const ceilings = uptoSeq === undefined ? undefined : new Map([[lane, uptoSeq]]);
          const fresh = rebuildPartial(definition, partial, mask(afterSeq), ceilings);
          return fresh === undefined ? undefined : withLate(fresh);
        },
      });
    }
  }
  return deltas;
}

const withLate = (partial: SlicePartial): AccSet => ({
  ...partial.accs,
  [LATE_ACCUMULATOR]: partial.late,
});
