import { normalizeSequence, padSequence } from './sequence';
import type { AccSet, MergeAccSets } from './types';

/** One lane's contribution to one slice item, sequence numbers normalized. */
export interface LaneWork {
  readonly lane: string;
  /** Lowest sequence number of the lane's records in the contribution. */
  readonly firstSeq: string;
  /** Highest sequence number of the lane's records in the contribution (the new fence). */
  readonly lastSeq: string;
  /** The whole contribution. */
  readonly acc: AccSet;
  /** The contribution of the records above `afterSeq` only, `undefined` when there are none. */
  readonly recompute: (afterSeq: string) => AccSet | undefined;
}

/** The part of a batch a slice item still has to absorb, given its fences. */
export interface SliceWritePlan {
  /** Lanes that contribute, with the fence (padded) the contribution was computed against. */
  readonly lanes: ReadonlyArray<{
    readonly work: LaneWork;
    readonly readFence: string | undefined;
  }>;
  /** Merged contribution of those lanes; `undefined` when the item absorbed everything. */
  readonly acc: AccSet | undefined;
}

/**
 * Plans what a slice item absorbs from one batch, lane by lane, against the fences it holds (the
 * highest sequence number of each lane it has absorbed, padded): a lane whose fence is below its
 * first record contributes everything; one whose fence is at or above its last record nothing (a
 * replay); one whose fence falls inside contributes only the records above it (`recompute`). The
 * item's absorbed records of each lane therefore stay a prefix of the lane — the fence argument of
 * docs/architecture.md.
 *
 * @example
 * const plan = planSliceWrite(work.lanes.values(), image.fences, merge);
 * if (plan.acc === undefined) return 'skipped';
 */
export function planSliceWrite(
  lanes: Iterable<LaneWork>,
  fences: ReadonlyMap<string, string>,
  merge: MergeAccSets,
): SliceWritePlan {
  const planned: Array<{ work: LaneWork; readFence: string | undefined }> = [];
  let acc: AccSet | undefined;
  for (const lane of lanes) {
    const readFence = fences.get(lane.lane);
    let contribution: AccSet | undefined;
    if (readFence === undefined || readFence < padSequence(lane.firstSeq)) {
      contribution = lane.acc;
    } else if (readFence < padSequence(lane.lastSeq)) {
      contribution = lane.recompute(normalizeSequence(readFence));
    }
    if (contribution === undefined) continue; // fence >= lastSeq: already absorbed
    planned.push({ work: lane, readFence });
    acc = acc === undefined ? contribution : merge(acc, contribution);
  }
  return { lanes: planned, acc };
}
