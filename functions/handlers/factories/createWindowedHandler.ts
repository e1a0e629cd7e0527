import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { FAILURE_STREAM_VARIABLE, requireEnv } from '#commons/environment';
import {
  type AnyWindowedPipelineDefinition,
  EMIT_MODE,
  LANE_MODE,
  preAggregate,
  type RecordFailure,
} from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import { METRIC, METRICS_NAMESPACE } from '../constants';
import type { RecordSink, WindowedHandlerDependencies } from '../types';
import { closeDueWindows, windowKindOf } from './emitWindows';
import {
  lazyDynamoDbClient,
  type PipelineRuntime,
  resolvePipelineRuntime,
} from './pipelineRuntime';
import { type HandlerTailProbe, tailProbeOf } from './tailProbeOf';
import { sendFailures } from './toFailureRecord';
import type { WindowKind } from './windowKind';

/**
 * Builds the Lambda handler of a windowed (tumbling, hopping or session) pipeline. Per batch,
 * in the order {@link processBatch} lists them:
 *
 * 1. read the pipeline watermark and the shards' max event times (one Query);
 * 2. pre-aggregate the batch in memory (lane = shard);
 * 3. send invalid records to the failure stream;
 * 4. write the batch to the state, as its window kind does (`WindowKind.apply`): lane packs for
 *    tumbling and hopping windows, per-key sessions for session windows; what the state refuses
 *    (a sealed slice or session: LATE or EXPIRED; STATE_TOO_LARGE) goes to the failure stream
 *    before it could be lost;
 * 5. raise the shards' watermarks, re-read the pipeline watermark, and close and emit every
 *    window it passed (event-driven trigger);
 * 6. with `emit('update')`, send a `final: false` result for each still-open window the batch
 *    touched.
 *
 * Any error fails the whole invocation (Lambda retries the batch, or bisects it); the store makes
 * the retry harmless, so no `batchItemFailures` are reported — see docs/architecture.md.
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
  const clock = dependencies.clock ?? Date.now;
  const logger = dependencies.logger ?? new Logger({ serviceName: definition.name });
  const metrics =
    dependencies.metrics ??
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: definition.name });
  const kind = windowKindOf(definition);
  const probe = tailProbeOf(dependencies, logger);
  const dynamodb = lazyDynamoDbClient();
  let runtime: PipelineRuntime | undefined;
  let failureSink = dependencies.failureSink;

  return async (event) => {
    runtime ??= resolvePipelineRuntime(definition, dependencies, dynamodb);
    failureSink ??= new KinesisSink({
      streamName: requireEnv(FAILURE_STREAM_VARIABLE),
      ordered: false,
    });
    const { store, sessionStore } = runtime;
    const writesBefore = store.stats.writeRequests + (sessionStore?.stats.writeRequests ?? 0);
    const batch: BatchRun = {
      runtime,
      kind,
      failureSink,
      probe,
      logger,
      event,
      now: clock(),
      retries: 0,
    };
    try {
      const report = await processBatch(batch);
      metrics.addMetric(METRIC.RECORDS_IN, MetricUnit.Count, report.recordsIn);
      metrics.addMetric(METRIC.RECORDS_OUT, MetricUnit.Count, report.recordsOut);
      metrics.addMetric(METRIC.INVALID_RECORDS, MetricUnit.Count, report.invalid);
      metrics.addMetric(METRIC.LATE_RECORDS, MetricUnit.Count, report.late);
      metrics.addMetric(METRIC.WINDOWS_CLOSED, MetricUnit.Count, report.closed);
      metrics.addMetric(METRIC.CLAMPED_EVENT_TIMES, MetricUnit.Count, report.clamped);
      logger.debug('batch done', { records: report.recordsIn, ...report.log });
      return { batchItemFailures: [] };
    } catch (error) {
      logger.error('batch failed; Lambda retries it (the store makes the retry harmless)', {
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
      metrics.addMetric(METRIC.PUT_RECORDS_RETRIES, MetricUnit.Count, batch.retries);
      metrics.publishStoredMetrics();
    }
  };
}

/** One invocation: what it works with, and the PutRecords retries it has made so far. */
interface BatchRun {
  readonly runtime: PipelineRuntime;
  readonly kind: WindowKind;
  readonly failureSink: RecordSink;
  readonly probe: HandlerTailProbe;
  readonly logger: Logger;
  readonly event: KinesisStreamEvent;
  /** Processing time of the invocation, epoch ms. */
  readonly now: number;
  retries: number;
}

/** What one batch did, for its metrics and log line. */
interface BatchReport {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly invalid: number;
  readonly late: number;
  readonly closed: number;
  readonly clamped: number;
  readonly log: Readonly<Record<string, unknown>>;
}

/** The steps of one batch, in order (see {@link createWindowedHandler}). */
async function processBatch(batch: BatchRun): Promise<BatchReport> {
  const { runtime, kind, event, now } = batch;
  const { definition, store } = runtime;
  const report = async (failures: readonly RecordFailure[]): Promise<void> => {
    batch.retries += await sendFailures(batch.failureSink, definition.name, failures, now);
  };
  // 1. The watermark before: the shards' event clocks (lateness) and the committed watermark.
  const before = await store.readWatermark({
    maxOutOfOrderness: definition.maxOutOfOrdernessMs,
    idleTimeout: definition.idleTimeoutMs,
    now,
  });
  // 2. Pre-aggregate; lateness is decided with the store, exactly per element.
  const plan = preAggregate(definition, event.Records, {
    laneOf: LANE_MODE.SHARD,
    maxEventTimeByShard: new Map(before.shards.map((s) => [s.shardId, s.maxEventTime])),
  });
  // 3. Invalid records (and those the plan found late) to the failure stream.
  const invalid = plan.failures.filter((f) => f.elements === undefined).length;
  await report(plan.failures);
  // 4. The state.
  const applied = await kind.apply({
    definition,
    store,
    sessionStore: runtime.sessionStore,
    records: event.Records,
    plan,
    committed: before.committed,
    report,
  });
  // 5. Every shard of the batch reports its position, even one whose records were all filtered
  // out or invalid: otherwise a shard ending on such records would never look caught up.
  const positions = plan.lastPositionByShard;
  for (const shardId of new Set([...plan.maxEventTimeByShard.keys(), ...positions.keys()])) {
    await store.updateShardWatermark(
      shardId,
      plan.maxEventTimeByShard.get(shardId),
      now,
      positions.get(shardId),
    );
  }
  const { tailProbe, openShards, readsFromStart, onProbeError } = batch.probe;
  const after = await store.readWatermark({
    maxOutOfOrderness: definition.maxOutOfOrdernessMs,
    idleTimeout: definition.idleTimeoutMs,
    now,
    tailProbe: tailProbe(),
    openShards: openShards(),
    readsFromStart,
    onProbeError,
  });
  // Commits the watermark (at its granularity) whether or not a window is due, so which records
  // are LATE depends on the watermark alone; then closes what is due.
  const closed = await closeDueWindows({ ...runtime, logger: batch.logger }, after, now, kind);
  batch.retries += closed.retries;
  // 6. Previews of the still-open windows the batch touched.
  let recordsOut = closed.records;
  if (definition.emit === EMIT_MODE.UPDATE) {
    const updates = await applied.previews(after.watermark, now);
    const stats = await runtime.outputSink.send(
      updates.map((result) => ({ data: JSON.stringify(result), partitionKey: result.key })),
    );
    recordsOut += stats.records;
    batch.retries += stats.retries;
  }
  return {
    recordsIn: plan.recordCount,
    recordsOut,
    invalid,
    late: plan.failures.length - invalid + applied.refused.length,
    closed: closed.windows,
    clamped: plan.clampedRecords,
    log: { ...applied.log, watermark: after.watermark, closed: closed.windows },
  };
}
