import type { Logger } from '@aws-lambda-powertools/logger';
import { outputStreamVariable, requireEnv } from '#commons/environment';
import {
  type AnyWindowedPipelineDefinition,
  type SlicedWindowAssigner,
  sideOutputRecords,
  WINDOW_KIND,
  type WindowResult,
  windowResult,
} from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import type { AccSet, SessionRef, WindowRef } from '#state/index';
import { commitTarget, SESSION_COMMIT_GRANULARITY_MS } from '#watermark/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { PipelineStore, RecordSink, SessionPipelineStore } from '../types';
import { lateOf } from './createPipelineStore';

/** What closing and emitting needs. */
export interface EmitContext {
  readonly definition: AnyWindowedPipelineDefinition;
  readonly store: PipelineStore;
  readonly outputSink: RecordSink;
  readonly logger?: Logger;
  /** Session-window pipelines: where their sessions live. */
  readonly sessionStore?: SessionPipelineStore;
  /** One sink per side-output stream of the pipeline (`.alert()`), by logical stream name. */
  readonly sideOutputSinks?: Readonly<Record<string, RecordSink>>;
}

/** What {@link closeDueWindows} and {@link repairClosedWindows} did. */
export interface EmitReport {
  /** Windows emitted (closed here, or repaired). */
  readonly windows: number;
  /** Records written to the output stream and the side-output streams. */
  readonly records: number;
  /** PutRecords retries. */
  readonly retries: number;
}

/** The sliced assigner of a tumbling or hopping pipeline; throws for session windows. */
export function slicedAssigner(definition: AnyWindowedPipelineDefinition): SlicedWindowAssigner {
  const assigner = definition.assigner;
  if (assigner.kind === WINDOW_KIND.SESSION) {
    throw new Error(`pipeline ${definition.name}: session windows have no slices`);
  }
  return assigner;
}

/**
 * The side-output sinks of a pipeline: the injected ones, and a `KinesisSink` on
 * `OUTPUT_STREAM_<STREAM>` for each side output without one.
 */
export function sideOutputSinksOf(
  definition: AnyWindowedPipelineDefinition,
  injected: Readonly<Record<string, RecordSink>> = {},
): Record<string, RecordSink> {
  const sinks: Record<string, RecordSink> = { ...injected };
  for (const output of definition.sideOutputs ?? []) {
    sinks[output.stream] ??= new KinesisSink({
      streamName: requireEnv(outputStreamVariable(output.stream)),
    });
  }
  return sinks;
}

/** True when the pipeline uses session windows. */
export function isSessionPipeline(definition: AnyWindowedPipelineDefinition): boolean {
  return definition.assigner.kind === WINDOW_KIND.SESSION;
}

/** The session store of a session pipeline's context; a clear error when it is missing. */
function sessionStoreOf(context: EmitContext): SessionPipelineStore {
  if (context.sessionStore === undefined) {
    throw new Error(`pipeline ${context.definition.name}: session windows need a sessionStore`);
  }
  return context.sessionStore;
}

/**
 * Writes final results to the output stream, then their side-output records (alerts) to each
 * side stream — all before the caller marks the windows emitted, so a crash in between re-emits
 * both through the sweeper with the same ids (at-least-once, stable ids).
 */
async function sendResults(
  context: EmitContext,
  outputSink: RecordSink,
  results: readonly WindowResult[],
): Promise<{ records: number; retries: number }> {
  const stats = await outputSink.send(
    results.map((result) => ({ data: JSON.stringify(result), partitionKey: result.key })),
  );
  let records = stats.records;
  let retries = stats.retries;
  const byStream = new Map<string, Array<{ data: string; partitionKey: string }>>();
  for (const result of results) {
    for (const { stream, record } of sideOutputRecords(context.definition, result)) {
      const list = byStream.get(stream) ?? [];
      list.push({ data: JSON.stringify(record), partitionKey: record.key });
      byStream.set(stream, list);
    }
  }
  for (const [stream, list] of byStream) {
    const sink = context.sideOutputSinks?.[stream];
    if (sink === undefined) {
      throw new Error(`pipeline ${context.definition.name}: no sink for side output '${stream}'`);
    }
    const sent = await sink.send(list);
    records += sent.records;
    retries += sent.retries;
  }
  return { records, retries };
}

/**
 * Commits the watermark the batch (or sweep) read, rounded down to the pipeline's granularity
 * (slice boundaries; sessions: {@link SESSION_COMMIT_GRANULARITY_MS}), when that advances the
 * committed one: one conditional write, at most once per granule. So the committed watermark —
 * which decides what is LATE — follows the pipeline watermark whether or not a window is due, and
 * keeps up with time through any silence (the sweeper reads it every minute).
 *
 * @returns the committed watermark as known after the call
 */
async function commitProgress(
  definition: AnyWindowedPipelineDefinition,
  store: Pick<PipelineStore, 'commitWatermark'>,
  read: WatermarkRead,
  now: number,
): Promise<number | undefined> {
  const granularity = isSessionPipeline(definition)
    ? SESSION_COMMIT_GRANULARITY_MS
    : slicedAssigner(definition).sliceMs;
  const target = commitTarget(read.watermark, read.committed, granularity);
  if (target === undefined) return read.committed;
  await store.commitWatermark(target, now);
  return target;
}

/** A watermark as `readWatermark` returned it: the pipeline watermark and the committed one. */
export interface WatermarkRead {
  readonly watermark: number | undefined;
  readonly committed: number | undefined;
}

/**
 * Event-driven and timer-based trigger: commits the watermark read (rounded down to slice
 * boundaries, or to the minute for sessions — see `commitProgress`), then finds the windows due
 * under it (end ≤ watermark, not yet CLOSED), closes each (OPEN → CLOSED; only the winner emits),
 * and emits the winners' final results. Every due window ends at a slice boundary at or below the
 * committed watermark, so it never goes back over them; sessions, which end anywhere, commit the
 * exact watermark before closing. Nothing more is written when no window is due.
 *
 * @example
 * await closeDueWindows({ definition: pageViews, store, outputSink }, await store.readWatermark(options), clock());
 */
export async function closeDueWindows(
  context: EmitContext,
  read: WatermarkRead,
  now: number,
): Promise<EmitReport> {
  const { watermark } = read;
  if (watermark === undefined) return { windows: 0, records: 0, retries: 0 };
  const committed = await commitProgress(context.definition, context.store, read, now);
  if (isSessionPipeline(context.definition))
    return closeDueSessions(context, watermark, committed, now);
  const { definition, store } = context;
  const assigner = slicedAssigner(definition);
  const won: WindowRef[] = [];
  for (;;) {
    const due = await store.findDueWindows(watermark, {
      windowsOfSlice: (sliceStart) => assigner.windowsOfSlice(sliceStart),
      limit: HANDLER_DEFAULTS.closeLimit,
    });
    if (due.length === 0) break;
    const outcomes = await store.closeWindows(due, now);
    won.push(...due.filter((_, i) => outcomes[i] === 'closed'));
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
  const total = { windows: 0, records: 0, retries: 0 };
  // Page after page (each emitted page leaves the `closed` index), up to repairPages per run:
  // a backlog of crashed closers is repaired within a few sweeps, each within its time budget.
  for (let page = 0; page < HANDLER_DEFAULTS.repairPages; page++) {
    const { report, full } = await repairPage(context, closedBefore, now);
    total.windows += report.windows;
    total.records += report.records;
    total.retries += report.retries;
    if (!full) break;
  }
  return total;
}

/** One page (`closeLimit`) of {@link repairClosedWindows}; `full` when there may be more. */
async function repairPage(
  context: EmitContext,
  closedBefore: number,
  now: number,
): Promise<{ report: EmitReport; full: boolean }> {
  if (isSessionPipeline(context.definition)) {
    const sessions = sessionStoreOf(context);
    const refs = await sessions.findClosedSessions(closedBefore, HANDLER_DEFAULTS.closeLimit);
    const closed: Array<SessionRef & { acc: AccSet }> = [];
    for (const ref of refs) {
      const session = await sessions.readClosedSession(ref);
      if (session !== undefined) closed.push(session);
    }
    return {
      report: await emitFinalSessions(context, closed, now),
      full: refs.length === HANDLER_DEFAULTS.closeLimit,
    };
  }
  const windows = await context.store.findClosedNotEmitted(
    closedBefore,
    HANDLER_DEFAULTS.closeLimit,
  );
  return {
    report: await emitFinalResults(context, windows, now),
    full: windows.length === HANDLER_DEFAULTS.closeLimit,
  };
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
  const stats = await sendResults(context, outputSink, results);
  await store.markWindowsEmitted(windows, now);
  // Slices whose last window is now emitted leave the due index (housekeeping done by the closer).
  await store.leaveDueIndexAll(finished);
  context.logger?.info('windows emitted', { pipeline: definition.name, windows: windows.length });
  return { windows: windows.length, records: stats.records, retries: stats.retries };
}

/**
 * Session pipelines' trigger: finds open sessions with `end <= watermark` through the due index,
 * commits the watermark, and closes each (seal on the version read: exactly one closer wins and
 * gets the final contents), then emits the winners. A session extended or merged away since the
 * index was read is skipped (`not-due`, `gone`).
 */
export async function closeDueSessions(
  context: EmitContext,
  watermark: number,
  committed: number | undefined,
  now: number,
): Promise<EmitReport> {
  const sessions = sessionStoreOf(context);
  const won: Array<SessionRef & { acc: AccSet }> = [];
  let behind = committed === undefined || committed < watermark;
  for (;;) {
    const due = await sessions.findDueSessions(watermark, HANDLER_DEFAULTS.closeLimit);
    if (due.length === 0) break;
    if (behind) {
      await context.store.commitWatermark(watermark, now);
      behind = false;
    }
    const before = won.length;
    for (const ref of due) {
      const closed = await sessions.closeSession(ref, watermark, now);
      if (closed.outcome === 'closed') won.push(closed.session);
    }
    // A full page that closed nothing holds only stale index entries: leave them to the next sweep.
    if (due.length < HANDLER_DEFAULTS.closeLimit || won.length === before) break;
  }
  return emitFinalSessions(context, won, now);
}

/**
 * Writes the final results of closed sessions (window = first event .. last event + gap, id from
 * pipeline|key|start|end|true — fixed once sealed), then marks them EMITTED. A crash in between
 * leaves them CLOSED for the sweeper, which re-emits identical results.
 */
export async function emitFinalSessions(
  context: EmitContext,
  sessions: readonly (SessionRef & { readonly acc: AccSet })[],
  now: number,
): Promise<EmitReport> {
  if (sessions.length === 0) return { windows: 0, records: 0, retries: 0 };
  const { definition, outputSink } = context;
  const results: WindowResult[] = sessions.map((s) =>
    windowResult(definition, s.key, { start: s.start, end: s.end }, s.acc, {
      final: true,
      late: 0,
      emittedAt: now,
    }),
  );
  const stats = await sendResults(context, outputSink, results);
  const store = sessionStoreOf(context);
  for (const s of sessions) await store.markSessionEmitted(s, now);
  context.logger?.info('sessions emitted', {
    pipeline: definition.name,
    sessions: sessions.length,
  });
  return { windows: sessions.length, records: stats.records, retries: stats.retries };
}
