import {
  type AnyWindowedPipelineDefinition,
  type BatchPlan,
  FAILURE_REASON,
  type WindowResult,
  windowResult,
} from '#runtime/index';
import type { AccSet, RefusedSessionElements, SessionRef } from '#state/index';
import { SESSION_COMMIT_GRANULARITY_MS } from '#watermark/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { SessionPipelineStore } from '../types';
import { RefusedElements } from './refusedElements';
import { type EmitContext, type EmitReport, NOTHING_EMITTED, sendResults } from './sendResults';
import { toSessionDeltas } from './toSessionDeltas';
import type { AppliedBatch, BatchState, WindowKind } from './windowKind';

/** A session with its accumulators. */
type Session = SessionRef & { readonly acc: AccSet };

/**
 * Session windows: per-key sessions in the `SessionStore` (watermarks stay in the pipeline
 * store), closed when the watermark passes their end (last event + gap); the committed watermark
 * moves by the minute.
 */
export const sessionWindows: WindowKind = {
  commitGranularityMs: SESSION_COMMIT_GRANULARITY_MS,
  apply: applySessions,
  closeDue: closeDueSessions,
  async repairPage(context, closedBefore, now) {
    const sessions = sessionStoreOf(context);
    const refs = await sessions.findClosedSessions(closedBefore, HANDLER_DEFAULTS.closeLimit);
    const closed: Session[] = [];
    for (const ref of refs) {
      const session = await sessions.readClosedSession(ref);
      if (session !== undefined) closed.push(session);
    }
    return {
      report: await emitFinalSessions(context, closed, now),
      full: refs.length === HANDLER_DEFAULTS.closeLimit,
    };
  },
};

/** The session store of a session pipeline's context; a clear error when it is missing. */
function sessionStoreOf(context: {
  readonly definition: AnyWindowedPipelineDefinition;
  readonly sessionStore?: SessionPipelineStore | undefined;
}): SessionPipelineStore {
  if (context.sessionStore === undefined) {
    throw new Error(`pipeline ${context.definition.name}: session windows need a sessionStore`);
  }
  return context.sessionStore;
}

/**
 * The state step of a session batch: one read and one transaction per touched key. The batch's
 * sessions merge with the stored ones they touch, fenced per key and lane; records touching a
 * session already closed (sealed), or that would open or grow a session ending behind the
 * committed watermark (due at once), go to the failure stream as LATE once their key's
 * transaction committed them as refused (a replay after a crash in between reports them again).
 */
async function applySessions(batch: BatchState): Promise<AppliedBatch> {
  const { definition, plan } = batch;
  // Refusals are committed with each key's fences and reported again by a replay, so they can
  // wait for every key: a record refused for several keys gets one failure naming all its elements.
  const refusedElements = new RefusedElements();
  const result = await sessionStoreOf(batch).applySessions(
    toSessionDeltas(definition, plan.sessions.values()),
    {
      committedWatermark: batch.committed,
      onRefused: async (elements) => noteRefusedSessions(refusedElements, plan, elements),
    },
  );
  const refused = refusedElements.failures(batch.records, plan);
  await batch.report(refused);
  const written = [...result.written];
  return {
    refused,
    log: {
      keys: result.keys,
      applied: result.applied,
      skipped: result.skipped,
      refused: refused.length,
    },
    previews: async (watermark, now) => previewSessions(definition, written, watermark, now),
  };
}

/** Notes a key's refused session elements (lane = shard) in `refused`, by record and reason. */
function noteRefusedSessions(
  refused: RefusedElements,
  plan: Pick<BatchPlan, 'sessions'>,
  elements: RefusedSessionElements,
): void {
  const partial = plan.sessions.get(elements.key);
  if (partial === undefined) return;
  const sealed = elements.sealed
    .map((s) => `[${new Date(s.start).toISOString()}, ${new Date(s.end).toISOString()})`)
    .join(', ');
  const behind = new Set(elements.behindWatermark ?? []);
  const remembered = new Set(elements.remembered ?? []);
  const expired = new Set(elements.expired ?? []);
  const tooLarge = new Set(elements.tooLarge ?? []);
  const watermark =
    elements.watermark === undefined ? '' : new Date(elements.watermark).toISOString();
  for (const i of elements.indices) {
    const reason = expired.has(i)
      ? FAILURE_REASON.EXPIRED
      : tooLarge.has(i)
        ? FAILURE_REASON.STATE_TOO_LARGE
        : FAILURE_REASON.LATE;
    const detail = expired.has(i)
      ? 'their session gap ended more than the state retention (7 days) before the committed watermark'
      : tooLarge.has(i)
        ? 'they would have grown their session beyond its state item size limit'
        : behind.has(i)
          ? `the session these elements would join or open ends at or before the committed watermark ${watermark}: it would be closed at once`
          : remembered.has(i)
            ? 'refused by an earlier attempt of this batch: their session was closed, or ended at or before the committed watermark'
            : `session ${sealed} of key was already closed when these elements arrived within its gap`;
    refused.add(
      partial.elementRecords[i] as number,
      reason,
      partial.elementOrdinals[i] as number,
      detail,
    );
  }
}

/**
 * `final: false` results of the sessions the batch wrote that are still open (`emit('update')`).
 * A session's end moves while it grows, so its preview id changes with it; only the final
 * result's id is stable.
 */
function previewSessions(
  definition: AnyWindowedPipelineDefinition,
  sessions: readonly Session[],
  watermark: number | undefined,
  now: number,
): WindowResult[] {
  return sessions
    .filter((s) => watermark === undefined || s.end > watermark)
    .map((s) =>
      windowResult(definition, s.key, { start: s.start, end: s.end }, s.acc, {
        final: false,
        late: 0,
        emittedAt: now,
      }),
    );
}

/**
 * Finds open sessions with `end <= watermark` through the due index, commits the exact watermark
 * (sessions end anywhere, not at slice boundaries), and closes each (seal on the version read:
 * exactly one closer wins and gets the final contents), then emits the winners. A session
 * extended or merged away since the index was read is skipped (`not-due`, `gone`).
 */
async function closeDueSessions(
  context: EmitContext,
  watermark: number,
  committed: number | undefined,
  now: number,
): Promise<EmitReport> {
  const sessions = sessionStoreOf(context);
  const won: Session[] = [];
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
async function emitFinalSessions(
  context: EmitContext,
  sessions: readonly Session[],
  now: number,
): Promise<EmitReport> {
  if (sessions.length === 0) return NOTHING_EMITTED;
  const { definition } = context;
  const results: WindowResult[] = sessions.map((s) =>
    windowResult(definition, s.key, { start: s.start, end: s.end }, s.acc, {
      final: true,
      late: 0,
      emittedAt: now,
    }),
  );
  const stats = await sendResults(context, results);
  const store = sessionStoreOf(context);
  for (const s of sessions) await store.markSessionEmitted(s, now);
  context.logger?.info('sessions emitted', {
    pipeline: definition.name,
    sessions: sessions.length,
  });
  return { windows: sessions.length, records: stats.records, retries: stats.retries };
}
