import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type AnyWindowedPipelineDefinition,
  type SlicedWindowAssigner,
  WINDOW_KIND,
  type WindowResult,
  windowResult,
} from '#runtime/index';
import type { WindowRef } from '#state/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { PipelineStore, RecordSink } from '../types';
import { lateOf } from './createPipelineStore';

/** What closing and emitting needs. */
export interface EmitContext {
  readonly definition: AnyWindowedPipelineDefinition;
  readonly store: PipelineStore;
  readonly outputSink: RecordSink;
  readonly logger?: Logger;
}

/** What {@link closeDueWindows} and {@link repairClosedWindows} did. */
export interface EmitReport {
  /** Windows emitted (closed here, or repaired). */
  readonly windows: number;
  /** Records written to the output stream. */
  readonly records: number;
  /** PutRecords retries. */
  readonly retries: number;
}

/** The sliced assigner of a windowed pipeline (session windows are not wired yet). */
export function slicedAssigner(definition: AnyWindowedPipelineDefinition): SlicedWindowAssigner {
  const assigner = definition.assigner;
  if (assigner.kind === WINDOW_KIND.SESSION) {
    throw new Error(
      `pipeline ${definition.name}: session windows are not supported by the handler yet`,
    );
  }
  return assigner;
}

/**
 * Event-driven and timer-based trigger: finds the windows due under `watermark` (end ≤ watermark,
 * not yet CLOSED), commits the watermark (so it never goes back over them), closes each
 * (OPEN → CLOSED; only the winner emits), and emits the winners' final results. Nothing is
 * written when no window is due.
 *
 * @example
 * await closeDueWindows({ definition: pageViews, store, outputSink }, watermark, clock());
 */
export async function closeDueWindows(
  context: EmitContext,
  watermark: number,
  now: number,
): Promise<EmitReport> {
  const { definition, store } = context;
  const assigner = slicedAssigner(definition);
  const won: WindowRef[] = [];
  let committed = false;
  for (;;) {
    const due = await store.findDueWindows(watermark, {
      windowsOfSlice: (sliceStart) => assigner.windowsOfSlice(sliceStart),
      limit: HANDLER_DEFAULTS.closeLimit,
    });
    if (due.length === 0) break;
    if (!committed) {
      await store.commitWatermark(watermark, now);
      committed = true;
    }
    for (const window of due) {
      if ((await store.closeWindow(window, now)) === 'closed') won.push(window);
    }
    if (due.length < HANDLER_DEFAULTS.closeLimit) break;
  }
  return emitFinalResults(context, won, now);
}

/**
 * Crash repair: re-emits windows CLOSED at or before `closedBefore` but never marked EMITTED (a
 * closer died between close and markEmitted). The result is identical to the one the closer
 * would have sent (the window's slices are sealed), with the same id: downstream dedupes.
 */
export async function repairClosedWindows(
  context: EmitContext,
  closedBefore: number,
  now: number,
): Promise<EmitReport> {
  const windows = await context.store.findClosedNotEmitted(
    closedBefore,
    HANDLER_DEFAULTS.closeLimit,
  );
  return emitFinalResults(context, windows, now);
}

/**
 * Seals and reads each CLOSED window, writes the final results to the output stream (one
 * PutRecords round, retried by the sink; it throws rather than drop), then marks them EMITTED.
 * A crash anywhere in between leaves them CLOSED for the sweeper.
 */
export async function emitFinalResults(
  context: EmitContext,
  windows: readonly WindowRef[],
  now: number,
): Promise<EmitReport> {
  if (windows.length === 0) return { windows: 0, records: 0, retries: 0 };
  const { definition, store, outputSink } = context;
  const assigner = slicedAssigner(definition);
  const results: WindowResult[] = [];
  const finished: Array<{ key: string; sliceStart: number }> = [];
  for (const window of windows) {
    const contents = await store.sealWindow(window, assigner.sliceMs);
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
  const stats = await outputSink.send(
    results.map((result) => ({ data: JSON.stringify(result), partitionKey: result.key })),
  );
  for (const window of windows) await store.markEmitted(window, now);
  // Slices whose last window is now emitted leave the due index (housekeeping done by the closer).
  for (const slice of finished) await store.leaveDueIndex(slice.key, slice.sliceStart);
  context.logger?.info('windows emitted', { pipeline: definition.name, windows: windows.length });
  return { windows: windows.length, records: stats.records, retries: stats.retries };
}
