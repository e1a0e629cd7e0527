import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import {
  type AnyWindowedPipelineDefinition,
  type BatchPlan,
  FAILURE_REASON,
  type FailureReason,
  partialKey,
  type SlicedWindowAssigner,
  type SlicePartial,
  WINDOW_KIND,
  type WindowResult,
  windowResult,
} from '#runtime/index';
import type { RejectedDelta, RejectionCause, SliceDelta, WindowRef } from '#state/index';
import { isWindowLate } from '#watermark/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { PipelineStore } from '../types';
import { lateOf } from './createPipelineStore';
import { RefusedElements } from './refusedElements';
import { type EmitContext, type EmitReport, NOTHING_EMITTED, sendResults } from './sendResults';
import { toSliceDeltas } from './toSliceDeltas';
import type { AppliedBatch, BatchState, WindowKind } from './windowKind';

/** The sliced assigner of a tumbling or hopping pipeline; throws for session windows. */
export function slicedAssigner(definition: AnyWindowedPipelineDefinition): SlicedWindowAssigner {
  const assigner = definition.assigner;
  if (assigner.kind === WINDOW_KIND.SESSION) {
    throw new Error(`pipeline ${definition.name}: session windows have no slices`);
  }
  return assigner;
}

/** Tumbling and hopping windows: slices of the pipeline's store, closed at slice boundaries. */
export function slicedWindows(definition: AnyWindowedPipelineDefinition): WindowKind {
  const assigner = slicedAssigner(definition);
  return {
    commitGranularityMs: assigner.sliceMs,
    apply: (batch) => applySlices(batch, assigner),
    closeDue: (context, watermark, _committed, now) =>
      closeDueSlicedWindows(context, assigner, watermark, now),
    async repairPage(context, closedBefore, now) {
      const windows = await context.store.findClosedNotEmitted(
        closedBefore,
        HANDLER_DEFAULTS.closeLimit,
      );
      return {
        report: await emitFinalResults(context, assigner, windows, now),
        full: windows.length >= HANDLER_DEFAULTS.closeLimit,
      };
    },
  };
}

/**
 * The state step of a sliced batch: seals the slices behind the committed watermark (what they
 * have not absorbed is refused — EXPIRED when further behind than the state retention, LATE
 * otherwise; a seal is a write, so two invocations of a batch that read different committed
 * watermarks never both count and refuse a record), then applies the deltas. Refused records go
 * to the failure stream before the store commits past them (a replay after a crash in between
 * refuses and reports them again).
 */
async function applySlices(
  batch: BatchState,
  assigner: SlicedWindowAssigner,
): Promise<AppliedBatch> {
  const { definition, store, plan, committed } = batch;
  const deltas = toSliceDeltas(definition, plan.partials.values());
  await sealSlicesBehind(store, assigner, deltas, committed);
  const expiredBefore = committed === undefined ? undefined : committed - store.retentionMs;
  // Reported before the store commits past them, so a record whose slices are refused in two
  // steps (one known sealed, one sealed by a closer while this batch committed) is reported twice,
  // the second failure naming every element refused so far.
  const refused = new RefusedElements();
  const result = await store.applyDeltas(deltas, {
    onRejected: async (rejected) => {
      const touched = noteRejected(refused, plan, rejected, expiredBefore);
      await batch.report(refused.failures(batch.records, plan, touched));
    },
  });
  return {
    refused: refused.failures(batch.records, plan),
    log: {
      items: result.items,
      applied: result.applied,
      skipped: result.skipped,
      sealed: result.sealed,
    },
    previews: (watermark, now) =>
      previewTouchedWindows(definition, store, assigner, plan.partials.values(), watermark, now),
  };
}

/** The failure reason of each cause of a slice's rejection. */
const REASON_OF_CAUSE: Readonly<Record<RejectionCause, FailureReason>> = {
  sealed: FAILURE_REASON.LATE,
  full: FAILURE_REASON.STATE_TOO_LARGE,
};

const DETAIL_OF_REASON: Readonly<Record<string, string>> = {
  [FAILURE_REASON.LATE]:
    'was sealed: its first window ended at or before the committed watermark before these elements were absorbed',
  [FAILURE_REASON.STATE_TOO_LARGE]:
    'is full: these elements would have grown its state item beyond its size limit',
  [FAILURE_REASON.EXPIRED]:
    'ended more than the state retention (7 days) before the committed watermark: it takes nothing more (its state may be gone)',
};

/**
 * Notes the elements `rejected` leaves uncounted in `refused`: per rejected (key, slice, lane), the
 * partial's elements of that lane with a sequence number above the rejection's `afterSeq` (and at
 * most its `uptoSeq`) — LATE, EXPIRED for a sealed slice further behind than the state retention,
 * STATE_TOO_LARGE for a full one. Returns the records (batch indices) it touched.
 */
function noteRejected(
  refused: RefusedElements,
  plan: Pick<BatchPlan, 'partials'>,
  rejected: readonly RejectedDelta[],
  expiredBefore: number | undefined,
): Set<number> {
  const touched = new Set<number>();
  for (const r of rejected) {
    const partial = plan.partials.get(partialKey(r.key, r.sliceStart));
    if (partial === undefined) continue;
    const reason =
      r.cause === 'sealed' && expiredBefore !== undefined && r.sliceEnd <= expiredBefore
        ? FAILURE_REASON.EXPIRED
        : REASON_OF_CAUSE[r.cause];
    const slice = `[${new Date(r.sliceStart).toISOString()}, ${new Date(r.sliceEnd).toISOString()})`;
    const detail = `slice ${slice} of key ${DETAIL_OF_REASON[reason]}`;
    partial.elementSequences.forEach((sequence, i) => {
      if (
        partial.elementLanes[i] !== r.lane ||
        (r.afterSeq !== undefined && compareSequenceNumbers(sequence, r.afterSeq) <= 0) ||
        (r.uptoSeq !== undefined && compareSequenceNumbers(sequence, r.uptoSeq) > 0)
      )
        return;
      const index = partial.elementRecords[i] as number;
      refused.add(index, reason, partial.elementOrdinals[i] as number, detail);
      touched.add(index);
    });
  }
  return touched;
}

/** `final: false` results of the still-open windows the batch touched (`emit('update')`). */
async function previewTouchedWindows(
  definition: AnyWindowedPipelineDefinition,
  store: PipelineStore,
  assigner: SlicedWindowAssigner,
  partials: Iterable<SlicePartial>,
  watermark: number | undefined,
  now: number,
): Promise<WindowResult[]> {
  const windows = new Map<string, { key: string; start: number; end: number }>();
  for (const partial of partials) {
    for (const w of assigner.windowsOfSlice(partial.sliceStart)) {
      if (watermark !== undefined && w.end <= watermark) continue;
      windows.set(`${partial.key}\u0000${w.start}`, { key: partial.key, ...w });
    }
  }
  const results: WindowResult[] = [];
  const list = [...windows.values()];
  const read = await store.readWindows(list);
  for (const [i, w] of list.entries()) {
    const contents = read[i];
    if (contents === undefined) continue;
    results.push(
      windowResult(definition, w.key, w, contents.acc, {
        final: false,
        late: lateOf(contents.acc),
        emittedAt: now,
      }),
    );
  }
  return results;
}

/**
 * Seals the slices a batch touches that end at or before the committed watermark: their first
 * window is behind it, closed already — or, when no record of theirs had arrived, never existed,
 * and nothing would ever seal it: without this, a record behind the watermark would open a new
 * window that closes at once and is emitted as a result. Sealed, the slice refuses the records it
 * has not absorbed (LATE), and keeps those a crashed attempt of this batch absorbed before the
 * watermark passed, so a retry reports and counts the same records.
 */
async function sealSlicesBehind(
  store: PipelineStore,
  assigner: SlicedWindowAssigner,
  deltas: readonly SliceDelta[],
  committed: number | undefined,
): Promise<void> {
  if (committed === undefined) return;
  const behind = new Map<string, WindowRef>();
  for (const delta of deltas) {
    // The slice's first window ends with the slice.
    if (!isWindowLate(delta.sliceEnd, committed)) continue;
    const slice = { key: delta.key, start: delta.sliceStart, end: delta.sliceEnd };
    behind.set(`${delta.key}\u0000${delta.sliceStart}`, slice);
  }
  await store.sealSlices([...behind.values()], assigner.sliceMs);
}

/**
 * Finds the windows due under the watermark (end ≤ watermark, not yet CLOSED), closes each
 * (exactly one closer wins), and emits the winners' final results. Every due window ends at a
 * slice boundary at or below the committed watermark.
 */
async function closeDueSlicedWindows(
  context: EmitContext,
  assigner: SlicedWindowAssigner,
  watermark: number,
  now: number,
): Promise<EmitReport> {
  const won: WindowRef[] = [];
  for (;;) {
    const due = await context.store.findDueWindows(watermark, {
      windowsOfSlice: (sliceStart) => assigner.windowsOfSlice(sliceStart),
      limit: HANDLER_DEFAULTS.closeLimit,
    });
    if (due.length === 0) break;
    const outcomes = await context.store.closeWindows(due, now);
    won.push(...due.filter((_, i) => outcomes[i] === 'closed'));
    if (due.length < HANDLER_DEFAULTS.closeLimit) break;
  }
  return emitFinalResults(context, assigner, won, now);
}

/**
 * Seals and reads each CLOSED window, writes the final results to the output stream (one
 * PutRecords round, retried by the sink; it throws rather than drop), then marks them EMITTED.
 * A crash anywhere in between leaves them CLOSED for the sweeper.
 */
async function emitFinalResults(
  context: EmitContext,
  assigner: SlicedWindowAssigner,
  windows: readonly WindowRef[],
  now: number,
): Promise<EmitReport> {
  if (windows.length === 0) return NOTHING_EMITTED;
  const { definition, store } = context;
  const results: WindowResult[] = [];
  const finished: Array<{ key: string; sliceStart: number }> = [];
  const sealed = await store.sealWindows(windows, assigner.sliceMs);
  for (const [i, window] of windows.entries()) {
    const contents = sealed[i];
    if (contents === undefined) continue;
    for (const slice of contents.slices) {
      if (assigner.lastWindowEndOfSlice(slice.start) === window.end)
        finished.push({ key: window.key, sliceStart: slice.start });
    }
    results.push(
      windowResult(definition, window.key, window, contents.acc, {
        final: true,
        late: lateOf(contents.acc),
        emittedAt: now,
      }),
    );
  }
  const stats = await sendResults(context, results);
  await store.markWindowsEmitted(windows, now);
  // Slices whose last window is now emitted leave the due index (housekeeping done by the closer).
  await store.leaveDueIndexAll(finished);
  context.logger?.info('windows emitted', { pipeline: definition.name, windows: windows.length });
  return { windows: windows.length, records: stats.records, retries: stats.retries };
}
