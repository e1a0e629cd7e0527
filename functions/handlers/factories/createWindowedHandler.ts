import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import {
  FAILURE_STREAM_VARIABLE,
  outputStreamVariable,
  requireEnv,
  STATE_TABLE_VARIABLE,
} from '#commons/environment';
import {
  type AnyWindowedPipelineDefinition,
  type BatchPlan,
  EMIT_MODE,
  FAILURE_REASON,
  type FailureReason,
  LANE_MODE,
  partialKey,
  preAggregate,
  type RecordFailure,
  recordMeta,
  type SlicedWindowAssigner,
  type SlicePartial,
  type WindowResult,
  windowResult,
} from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import type {
  AccSet,
  RefusedSessionElements,
  RejectedDelta,
  RejectionCause,
  SessionRef,
  SliceDelta,
  WindowRef,
} from '#state/index';
import { isWindowLate } from '#watermark/index';
import { HANDLER_DEFAULTS, METRIC, METRICS_NAMESPACE } from '../constants';
import type {
  PipelineStore,
  RecordSink,
  SessionPipelineStore,
  WindowedHandlerDependencies,
} from '../types';
import { createPipelineStore, lateOf } from './createPipelineStore';
import { createSessionStore } from './createSessionStore';
import {
  closeDueWindows,
  isSessionPipeline,
  sideOutputSinksOf,
  slicedAssigner,
} from './emitWindows';
import { tailProbeOf } from './tailProbeOf';
import { sendFailures } from './toFailureRecord';
import { toSessionDeltas } from './toSessionDeltas';
import { toSliceDeltas } from './toSliceDeltas';

/**
 * Builds the Lambda handler of a windowed (tumbling, hopping or session) pipeline. Per batch:
 *
 * 1. read the pipeline watermark and the shards' max event times (one Query);
 * 2. pre-aggregate the batch in memory (lane = shard): one partial per touched (key, slice);
 * 3. send invalid records to the failure stream;
 * 4. apply one fenced conditional write per (key, slice): replays change nothing twice; a slice
 *    sealed by a closer refuses the records it has not absorbed, which go to the failure stream
 *    as LATE;
 * 5. raise the shards' watermarks, re-read the pipeline watermark, and close and emit every
 *    window it passed (event-driven trigger);
 * 6. with `emit('update')`, send a `final: false` result for each still-open window the batch
 *    touched.
 *
 * Session windows: step 4 is one read and one transaction per touched key (`SessionStore`):
 * the batch's sessions merge with the stored ones they touch, fenced per key and lane; records
 * touching a session already closed (sealed) go to the failure stream as LATE before the commit.
 * Step 5 closes sessions whose end (last event + gap) the watermark passed.
 *
 * Any error fails the whole invocation (Lambda retries the batch, or bisects it); the fences
 * make the retry harmless, so no `batchItemFailures` are reported — see docs/architecture.md.
 *
 * @param definition - a windowed pipeline built with `pipeline(…)…window(tumbling|hopping|session)…`
 * @param dependencies - injected store, sinks, clock, logger, metrics (tests); defaults from env
 * @example
 * export const handler = createWindowedHandler(pageViews);
 */
export function createWindowedHandler(
  definition: AnyWindowedPipelineDefinition,
  dependencies: WindowedHandlerDependencies = {},
): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  const sessionWindows = isSessionPipeline(definition);
  const output = definition.config.outputs[0] ?? '';
  const clock = dependencies.clock ?? Date.now;
  const logger = dependencies.logger ?? new Logger({ serviceName: definition.name });
  const metrics =
    dependencies.metrics ??
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: definition.name });
  let store = dependencies.store;
  let sessionStore = dependencies.sessionStore;
  let outputSink = dependencies.outputSink;
  let failureSink = dependencies.failureSink;
  let sideOutputSinks: Readonly<Record<string, RecordSink>> | undefined;
  const { tailProbe, openShards, readsFromStart, onProbeError } = tailProbeOf(dependencies, logger);

  return async (event) => {
    if (store === undefined || (sessionWindows && sessionStore === undefined)) {
      const client = new DynamoDBClient({ maxAttempts: HANDLER_DEFAULTS.dynamoDbMaxAttempts });
      const tableName = requireEnv(STATE_TABLE_VARIABLE);
      store ??= createPipelineStore(definition, { client, tableName });
      if (sessionWindows) sessionStore ??= createSessionStore(definition, { client, tableName });
    }
    outputSink ??= new KinesisSink({ streamName: requireEnv(outputStreamVariable(output)) });
    failureSink ??= new KinesisSink({
      streamName: requireEnv(FAILURE_STREAM_VARIABLE),
      ordered: false,
    });
    sideOutputSinks ??= sideOutputSinksOf(definition, dependencies.sideOutputSinks);
    const writesBefore = store.stats.writeRequests + (sessionStore?.stats.writeRequests ?? 0);
    let retries = 0;
    try {
      const now = clock();
      const before = await store.readWatermark({
        maxOutOfOrderness: definition.maxOutOfOrdernessMs,
        idleTimeout: definition.idleTimeoutMs,
        now,
      });
      const maxEventTimeByShard = new Map(
        before.shards.map((shard) => [shard.shardId, shard.maxEventTime]),
      );
      // Lateness is decided with the store (sealed slices, closed sessions, the fences of what a
      // crashed attempt absorbed), exactly per element.
      const plan = preAggregate(definition, event.Records, {
        laneOf: LANE_MODE.SHARD,
        maxEventTimeByShard,
      });
      const invalid = plan.failures.filter((f) => f.elements === undefined).length;
      retries += await sendFailures(failureSink, definition.name, plan.failures, now);

      let lateRefused: RecordFailure[];
      let applied: Record<string, unknown>;
      let previews: Array<SessionRef & { acc: AccSet }> = [];
      if (sessionWindows) {
        // Refused records go to the failure stream once their key's transaction committed them
        // as refused (a replay after a crash in between reports them again).
        const sink = failureSink;
        const refusedByKey: RecordFailure[][] = [];
        const result = await (sessionStore as SessionPipelineStore).applySessions(
          toSessionDeltas(definition, plan.sessions.values()),
          {
            // A record that would open or grow a session ending behind the committed watermark
            // (due at once) is LATE, as a record behind the watermark is for sliced windows.
            committedWatermark: before.committed,
            onRefused: async (refused) => {
              const failures = refusedSessionRecords(event.Records, plan, refused);
              retries += await sendFailures(sink, definition.name, failures, now);
              refusedByKey.push(failures);
            },
          },
        );
        lateRefused = dedupeFailures(refusedByKey.flat());
        previews = [...result.written];
        applied = {
          keys: result.keys,
          applied: result.applied,
          skipped: result.skipped,
          refused: lateRefused.length,
        };
      } else {
        const deltas = toSliceDeltas(definition, plan.partials.values());
        // Slices behind the committed watermark are sealed first: what they have not absorbed is
        // refused — EXPIRED when further behind than the state retention (their state may be
        // gone), LATE otherwise. A seal is a write, so two invocations of a batch that read
        // different committed watermarks never both count and refuse a record.
        await sealSlicesBehind(store, slicedAssigner(definition), deltas, before.committed);
        const expiredBefore =
          before.committed === undefined ? undefined : before.committed - store.retentionMs;
        // Refused records go to the failure stream before the store commits past them (a replay
        // after a crash in between refuses and reports them again).
        const sink = failureSink;
        const refusedParts: RecordFailure[][] = [];
        const result = await store.applyDeltas(deltas, {
          onRejected: async (rejected) => {
            const failures = refusedRecords(event.Records, plan, rejected, expiredBefore);
            retries += await sendFailures(sink, definition.name, failures, now);
            refusedParts.push(failures);
          },
        });
        lateRefused = dedupeFailures(refusedParts.flat());
        applied = {
          items: result.items,
          applied: result.applied,
          skipped: result.skipped,
          sealed: result.sealed,
        };
      }

      const positions = plan.lastPositionByShard;
      // Every shard of the batch reports its position, even one whose records were all filtered
      // out or invalid: otherwise a shard ending on such records would never look caught up.
      for (const shardId of new Set([...plan.maxEventTimeByShard.keys(), ...positions.keys()])) {
        const maxEventTime = plan.maxEventTimeByShard.get(shardId);
        await store.updateShardWatermark(shardId, maxEventTime, now, positions.get(shardId));
      }
      const after = await store.readWatermark({
        maxOutOfOrderness: definition.maxOutOfOrdernessMs,
        idleTimeout: definition.idleTimeoutMs,
        now,
        tailProbe: tailProbe(),
        openShards: openShards(),
        readsFromStart,
        onProbeError,
      });
      // Commits the watermark (at slice boundaries) whether or not a window is due, so which
      // records are LATE depends on the watermark alone; then closes what is due.
      const report = await closeDueWindows(
        { definition, store, outputSink, logger, sessionStore, sideOutputSinks },
        after,
        now,
      );
      const closed = report.windows;
      let recordsOut = report.records;
      retries += report.retries;
      if (definition.emit === EMIT_MODE.UPDATE) {
        const updates = sessionWindows
          ? previewSessions(definition, previews, after.watermark, now)
          : await previewTouchedWindows(
              definition,
              store,
              plan.partials.values(),
              after.watermark,
              now,
            );
        const stats = await outputSink.send(
          updates.map((result) => ({ data: JSON.stringify(result), partitionKey: result.key })),
        );
        recordsOut += stats.records;
        retries += stats.retries;
      }
      const late = plan.failures.length - invalid + lateRefused.length;
      metrics.addMetric(METRIC.RECORDS_IN, MetricUnit.Count, plan.recordCount);
      metrics.addMetric(METRIC.RECORDS_OUT, MetricUnit.Count, recordsOut);
      metrics.addMetric(METRIC.INVALID_RECORDS, MetricUnit.Count, invalid);
      metrics.addMetric(METRIC.LATE_RECORDS, MetricUnit.Count, late);
      metrics.addMetric(METRIC.WINDOWS_CLOSED, MetricUnit.Count, closed);
      metrics.addMetric(METRIC.CLAMPED_EVENT_TIMES, MetricUnit.Count, plan.clampedRecords);
      logger.debug('batch done', {
        records: plan.recordCount,
        ...applied,
        watermark: after.watermark,
        closed,
      });
      return { batchItemFailures: [] };
    } catch (error) {
      logger.error('batch failed; Lambda retries it (fences make the retry harmless)', {
        error: error as Error,
        records: event.Records.length,
      });
      throw error;
    } finally {
      metrics.addMetric(
        METRIC.DYNAMODB_WRITES,
        MetricUnit.Count,
        store.stats.writeRequests + (sessionStore?.stats.writeRequests ?? 0) - writesBefore,
      );
      metrics.addMetric(METRIC.PUT_RECORDS_RETRIES, MetricUnit.Count, retries);
      metrics.publishStoredMetrics();
    }
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
 * The records a sealed slice refused: per rejected (item, lane), the elements that went to that
 * slice with a sequence number above the item's fence. One failure per record and reason (LATE,
 * or STATE_TOO_LARGE for a full item), naming exactly the record's elements not counted.
 */
function refusedRecords(
  records: readonly KinesisStreamRecord[],
  plan: Pick<BatchPlan, 'partials' | 'elementCounts'>,
  rejected: readonly RejectedDelta[],
  expiredBefore: number | undefined,
): RecordFailure[] {
  if (rejected.length === 0) return [];
  const refused = new Map<
    string,
    { reason: FailureReason; rejected: RejectedDelta; ordinals: number[] }
  >();
  for (const r of rejected) {
    const partial = plan.partials.get(partialKey(r.key, r.sliceStart));
    if (partial === undefined) continue;
    // A sealed slice that ended more than the retention before the committed watermark: EXPIRED.
    const reason =
      r.cause === 'sealed' && expiredBefore !== undefined && r.sliceEnd <= expiredBefore
        ? FAILURE_REASON.EXPIRED
        : REASON_OF_CAUSE[r.cause];
    partial.elementSequences.forEach((sequence, i) => {
      if (
        partial.elementLanes[i] !== r.lane ||
        (r.afterSeq !== undefined && compareSequenceNumbers(sequence, r.afterSeq) <= 0)
      )
        return;
      const id = `${r.lane}\u0000${sequence}\u0000${reason}`;
      const entry = refused.get(id) ?? { reason, rejected: r, ordinals: [] };
      entry.ordinals.push(partial.elementOrdinals[i] as number);
      refused.set(id, entry);
    });
  }
  const failures: RecordFailure[] = [];
  for (const record of records) {
    const meta = recordMeta(record);
    for (const reason of [
      FAILURE_REASON.LATE,
      FAILURE_REASON.EXPIRED,
      FAILURE_REASON.STATE_TOO_LARGE,
    ]) {
      const entry = refused.get(`${meta.shardId}\u0000${meta.sequenceNumber}\u0000${reason}`);
      if (entry === undefined) continue;
      const { sliceStart, sliceEnd } = entry.rejected;
      const slice = `[${new Date(sliceStart).toISOString()}, ${new Date(sliceEnd).toISOString()})`;
      failures.push({
        ...meta,
        reason,
        detail: `slice ${slice} of key ${DETAIL_OF_REASON[reason]}`,
        data: record.kinesis.data,
        elements: [...new Set(entry.ordinals)].sort((x, y) => x - y),
        elementCount: plan.elementCounts.get(`${meta.shardId}\u0000${meta.sequenceNumber}`) ?? 1,
      });
    }
  }
  return failures;
}

/** `final: false` results of the still-open windows the batch touched (`emit('update')`). */
async function previewTouchedWindows(
  definition: AnyWindowedPipelineDefinition,
  store: PipelineStore,
  partials: Iterable<SlicePartial>,
  watermark: number | undefined,
  now: number,
): Promise<WindowResult[]> {
  const assigner = slicedAssigner(definition);
  const windows = new Map<string, { key: string; start: number; end: number }>();
  for (const partial of partials) {
    for (const w of assigner.windowsOfSlice(partial.sliceStart)) {
      if (watermark !== undefined && w.end <= watermark) continue;
      windows.set(`${partial.key}\u0000${w.start}`, { key: partial.key, ...w });
    }
  }
  const results: WindowResult[] = [];
  for (const w of windows.values()) {
    const contents = await store.readWindow(w.key, w.start, w.end);
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
  const byRecord = new Map<string, { reason: FailureReason; detail: string; ordinals: number[] }>();
  for (const i of refused.indices) {
    const reason = expired.has(i)
      ? FAILURE_REASON.EXPIRED
      : tooLarge.has(i)
        ? FAILURE_REASON.STATE_TOO_LARGE
        : FAILURE_REASON.LATE;
    const id = `${partial.elementLanes[i]}\u0000${partial.elementSequences[i]}\u0000${reason}`;
    const detail = expired.has(i)
      ? 'their session gap ended more than the state retention (7 days) before the committed watermark'
      : tooLarge.has(i)
        ? 'they would have grown their session beyond its state item size limit'
        : behind.has(i)
          ? `the session these elements would join or open ends at or before the committed watermark ${watermark}: it would be closed at once`
          : remembered.has(i)
            ? 'refused by an earlier attempt of this batch: their session was closed, or ended at or before the committed watermark'
            : `session ${sealed} of key was already closed when these elements arrived within its gap`;
    const entry = byRecord.get(id) ?? { reason, detail, ordinals: [] };
    entry.ordinals.push(partial.elementOrdinals[i] as number);
    byRecord.set(id, entry);
  }
  const failures: RecordFailure[] = [];
  for (const record of records) {
    const meta = recordMeta(record);
    for (const reason of [
      FAILURE_REASON.LATE,
      FAILURE_REASON.EXPIRED,
      FAILURE_REASON.STATE_TOO_LARGE,
    ]) {
      const id = `${meta.shardId}\u0000${meta.sequenceNumber}\u0000${reason}`;
      const entry = byRecord.get(id);
      if (entry === undefined) continue;
      byRecord.delete(id);
      failures.push({
        ...meta,
        reason,
        detail: entry.detail,
        data: record.kinesis.data,
        elements: [...new Set(entry.ordinals)].sort((x, y) => x - y),
        elementCount: plan.elementCounts.get(`${meta.shardId}\u0000${meta.sequenceNumber}`) ?? 1,
      });
    }
  }
  return failures;
}

/** One failure per (shard, sequence number), for counting (the stream may hold duplicates). */
function dedupeFailures(failures: readonly RecordFailure[]): RecordFailure[] {
  const seen = new Map<string, RecordFailure>();
  for (const f of failures) seen.set(`${f.shardId}\u0000${f.sequenceNumber}\u0000${f.reason}`, f);
  return [...seen.values()];
}

/**
 * `final: false` results of the sessions the batch wrote that are still open (`emit('update')`).
 * A session's end moves while it grows, so its preview id changes with it; only the final
 * result's id is stable.
 */
function previewSessions(
  definition: AnyWindowedPipelineDefinition,
  sessions: readonly (SessionRef & { readonly acc: AccSet })[],
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
 * Seals the slices a batch touches that end at or before the committed watermark: their first
 * window is behind it, closed already — or, when no record of theirs had arrived, never existed,
 * and nothing would ever seal it: without this, a record behind the watermark would open a new
 * window that closes at once and is emitted as a result. Sealed, the slice refuses the records it
 * has not absorbed (LATE), and keeps those a crashed attempt of this batch absorbed before the
 * watermark passed (the fences say so), so a retry reports and counts the same records.
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
  for (const slice of behind.values()) await store.sealWindow(slice, assigner.sliceMs);
}
