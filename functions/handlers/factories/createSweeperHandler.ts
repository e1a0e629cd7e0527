import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
import { HANDLER_DEFAULTS, METRIC, METRICS_NAMESPACE } from '../constants';
import type { SweeperHandlerDependencies, SweepReport } from '../types';
import { closeDueWindows, repairClosedWindows, windowKindOf } from './emitWindows';
import {
  lazyDynamoDbClient,
  type PipelineRuntime,
  resolvePipelineRuntime,
} from './pipelineRuntime';
import { tailProbeOf } from './tailProbeOf';

/**
 * Builds the sweeper (timer-based trigger), run every minute by a schedule. For each windowed
 * pipeline (tumbling, hopping or session): read the watermark with idle shards advanced by
 * processing time (a shard silent for longer than the pipeline's `idleTimeout` and caught up —
 * nothing left to read, asked of Kinesis by the tail probe — stops holding it back; if all are
 * idle, the event clock runs on at wall-clock speed), commit it, close and emit every due window, then re-emit
 * windows CLOSED but not EMITTED for longer than `repairAfterMs` (a closer crashed). Results are
 * identical to the first emission, with the same `id`. Pipelines are swept one after another; an
 * error fails the invocation after the other pipelines were swept.
 *
 * @param definitions - every windowed pipeline of the app
 * @param dependencies - injected stores, sinks, clock (tests); defaults from env
 * @example
 * export const handler = createSweeperHandler([pageViews]);
 */
export function createSweeperHandler(
  definitions: readonly AnyWindowedPipelineDefinition[],
  dependencies: SweeperHandlerDependencies = {},
): () => Promise<SweepReport[]> {
  const clock = dependencies.clock ?? Date.now;
  const logger = dependencies.logger ?? new Logger({ serviceName: 'shardflow-sweeper' });
  const metrics =
    dependencies.metrics ??
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'shardflow-sweeper' });
  const repairAfterMs = dependencies.repairAfterMs ?? HANDLER_DEFAULTS.repairAfterMs;
  const dynamodb = lazyDynamoDbClient();
  const runtimes = new Map<string, PipelineRuntime>();
  const probe = tailProbeOf(dependencies, logger);

  return async () => {
    const reports: SweepReport[] = [];
    const errors: unknown[] = [];
    for (const definition of definitions) {
      try {
        const name = definition.name;
        let runtime = runtimes.get(name);
        if (runtime === undefined) {
          runtime = resolvePipelineRuntime(
            definition,
            {
              store: dependencies.stores?.[name],
              sessionStore: dependencies.sessionStores?.[name],
              outputSink: dependencies.outputSinks?.[name],
              sideOutputSinks: dependencies.sideOutputSinks?.[name],
            },
            dynamodb,
          );
          runtimes.set(name, runtime);
        }
        const { store } = runtime;
        const now = clock();
        const { tailProbe, openShards, readsFromStart, onProbeError } = probe.withFields({
          pipeline: definition.name,
        });
        const read = await store.readWatermark({
          maxOutOfOrderness: definition.maxOutOfOrdernessMs,
          idleTimeout: definition.idleTimeoutMs,
          now,
          tailProbe: tailProbe(),
          openShards: openShards(),
          readsFromStart,
          onProbeError,
        });
        const { watermark, mode } = read;
        const kind = windowKindOf(definition);
        const context = { ...runtime, logger };
        // Commits the watermark on every sweep, not only when a window is due: through any
        // silence the committed watermark keeps up with time, so what TTL deletes is behind it.
        const closed = await closeDueWindows(context, read, now, kind);
        const repaired = await repairClosedWindows(context, now - repairAfterMs, now, kind);
        metrics.addDimension('pipeline', definition.name);
        metrics.addMetric(METRIC.WINDOWS_CLOSED, MetricUnit.Count, closed.windows);
        metrics.addMetric(METRIC.RECORDS_OUT, MetricUnit.Count, closed.records + repaired.records);
        metrics.addMetric(
          METRIC.PUT_RECORDS_RETRIES,
          MetricUnit.Count,
          closed.retries + repaired.retries,
        );
        metrics.publishStoredMetrics();
        logger.info('swept', {
          pipeline: definition.name,
          watermark,
          mode,
          closed: closed.windows,
          repaired: repaired.windows,
        });
        reports.push({
          pipeline: definition.name,
          watermark,
          mode,
          closed: closed.windows,
          repaired: repaired.windows,
        });
      } catch (error) {
        logger.error('sweep failed', { pipeline: definition.name, error: error as Error });
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1)
      throw new AggregateError(errors, `${errors.length} pipelines failed to sweep`);
    return reports;
  };
}
