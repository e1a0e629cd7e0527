import type { KinesisStreamRecord } from 'aws-lambda';
import {
  type AnyWindowedPipelineDefinition,
  type BatchPlan,
  FAILURE_REASON,
  type FailureReason,
  type RecordFailure,
  recordMeta,
  type WindowResult,
  windowResult,
} from '#runtime/index';
import type { AccSet, RefusedSessionElements, SessionRef } from '#state/index';
import { SESSION_COMMIT_GRANULARITY_MS } from '#watermark/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { SessionPipelineStore } from '../types';
import { type EmitContext, type EmitReport, NOTHING_EMITTED, sendResults } from './sendResults';
import { dedupeFailures } from './slicedWindows';
import { toSessionDeltas } from './toSessionDeltas';
import { type AppliedBatch, type BatchState, REFUSAL_REASONS, type WindowKind } from './windowKind';

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
  const refusedByKey: RecordFailure[][] = [];
  const result = await sessionStoreOf(batch).applySessions(
    toSessionDeltas(definition, plan.sessions.values()),
    {
      committedWatermark: batch.committed,
      onRefused: async (refused) => {
        const failures = refusedSessionRecords(batch.records, plan, refused);
        await batch.report(failures);
        refusedByKey.push(failures);
      },
    },
  );
  const refused = dedupeFailures(refusedByKey.flat());
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

/**
 * The records of a key's refused session elements (lane = shard): one LATE failure per record,
 * naming exactly its elements that were not counted.
 */
function refusedSessionRecords(
  records: readonly KinesisStreamRecord[],
  plan: Pick<BatchPlan, 'sessions' | 'elementCounts'>,
  refused: RefusedSessionElements,
): RecordFailure[] {
  const partial = plan.sessions.get(refused.key);
  if (partial === undefined) return [];
  const sealed = refused.sealed
    .map((s) => `[${new Date(s.start).toISOString()}, ${new Date(s.end).toISOString()})`)
    .join(', ');
  const behind = new Set(refused.behindWatermark ?? []);
  const remembered = new Set(refused.remembered ?? []);
  const expired = new Set(refused.expired ?? []);
  const tooLarge = new Set(refused.tooLarge ?? []);
  const watermark =
    refused.watermark === undefined ? '' : new Date(refused.watermark).toISOString();
  // By record (its index in the batch), then by reason: the elements not counted.
  const byRecord = new Map<number, Map<FailureReason, { detail: string; ordinals: number[] }>>();
  for (const i of refused.indices) {
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
    const index = partial.elementRecords[i] as number;
    const byReason = byRecord.get(index) ?? new Map();
    const entry = byReason.get(reason) ?? { detail, ordinals: [] };
    entry.ordinals.push(partial.elementOrdinals[i] as number);
    byReason.set(reason, entry);
    byRecord.set(index, byReason);
  }
  const failures: RecordFailure[] = [];
  for (const [index, byReason] of [...byRecord].sort(([a], [b]) => a - b)) {
    const record = records[index] as KinesisStreamRecord;
    const meta = recordMeta(record);
    for (const reason of REFUSAL_REASONS) {
      const entry = byReason.get(reason);
      if (entry === undefined) continue;
      failures.push({
        ...meta,
        reason,
        detail: entry.detail,
        data: record.kinesis.data,
        elements: [...new Set(entry.ordinals)].sort((x, y) => x - y),
        elementCount: plan.elementCounts.get(index) ?? 1,
      });
    }
  }
  return failures;
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
