import { type AnyWindowedPipelineDefinition, WINDOW_KIND } from '#runtime/index';
import { commitTarget } from '#watermark/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { PipelineStore } from '../types';
import { type EmitContext, type EmitReport, NOTHING_EMITTED } from './sendResults';
import { sessionWindows } from './sessionWindows';
import { slicedWindows } from './slicedWindows';
import type { WindowKind } from './windowKind';

/** True when the pipeline uses session windows. */
export function isSessionPipeline(definition: AnyWindowedPipelineDefinition): boolean {
  return definition.assigner.kind === WINDOW_KIND.SESSION;
}

/** The pipeline's window kind: the one place sliced and session windows part ways. */
export function windowKindOf(definition: AnyWindowedPipelineDefinition): WindowKind {
  return isSessionPipeline(definition) ? sessionWindows : slicedWindows(definition);
}

/** A watermark as `readWatermark` returned it: the pipeline watermark and the committed one. */
export interface WatermarkRead {
  readonly watermark: number | undefined;
  readonly committed: number | undefined;
}

/**
 * Commits the watermark the batch (or sweep) read, rounded down to the kind's granularity (slice
 * boundaries; sessions: a minute), when that advances the committed one: one conditional write,
 * at most once per granule. So the committed watermark — which decides what is LATE — follows
 * the pipeline watermark whether or not a window is due, and keeps up with time through any
 * silence (the sweeper reads it every minute).
 *
 * @returns the committed watermark as known after the call
 */
async function commitProgress(
  kind: WindowKind,
  store: Pick<PipelineStore, 'commitWatermark'>,
  read: WatermarkRead,
  now: number,
): Promise<number | undefined> {
  const target = commitTarget(read.watermark, read.committed, kind.commitGranularityMs);
  if (target === undefined) return read.committed;
  await store.commitWatermark(target, now);
  return target;
}

/**
 * Event-driven and timer-based trigger: commits the watermark read (see `commitProgress`), then
 * closes and emits what it made due — the kind's `closeDue`: windows ending at or before it (each
 * closed once, only the winner emits), or sessions whose end it passed. Nothing more is written
 * when nothing is due.
 *
 * @example
 * await closeDueWindows({ definition: pageViews, store, outputSink }, await store.readWatermark(options), clock());
 */
export async function closeDueWindows(
  context: EmitContext,
  read: WatermarkRead,
  now: number,
  kind: WindowKind = windowKindOf(context.definition),
): Promise<EmitReport> {
  const { watermark } = read;
  if (watermark === undefined) return NOTHING_EMITTED;
  const committed = await commitProgress(kind, context.store, read, now);
  return kind.closeDue(context, watermark, committed, now);
}

/**
 * Crash repair: re-emits windows CLOSED at or before `closedBefore` but never marked EMITTED (a
 * closer died between close and markEmitted). The result is identical to the one the closer
 * would have sent (the window's state is sealed), with the same id: downstream dedupes. Page
 * after page (each emitted page leaves the `closed` index), up to `repairPages` per run: a
 * backlog of crashed closers is repaired within a few sweeps, each within its time budget.
 */
export async function repairClosedWindows(
  context: EmitContext,
  closedBefore: number,
  now: number,
  kind: WindowKind = windowKindOf(context.definition),
): Promise<EmitReport> {
  const total = { windows: 0, records: 0, retries: 0 };
  for (let page = 0; page < HANDLER_DEFAULTS.repairPages; page++) {
    const { report, full } = await kind.repairPage(context, closedBefore, now);
    total.windows += report.windows;
    total.records += report.records;
    total.retries += report.retries;
    if (!full) break;
  }
  return total;
}
