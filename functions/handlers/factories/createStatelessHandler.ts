import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { outputStreamVariable, requireEnv } from '#commons/environment';
import type { AnyStatelessPipelineDefinition, RecordFailure } from '#runtime/index';
import { preAggregate } from '#runtime/index';
import { KinesisSink } from '#sinks/index';

/** What a stateless handler needs besides the event; tests inject their own. */
export interface StatelessHandlerDependencies {
  /** @default - a KinesisSink on the stream named by `OUTPUT_STREAM_<OUTPUT>` */
  readonly sink?: Pick<KinesisSink, 'send'>;
  /** @default - a Powertools Logger */
  readonly logger?: Logger;
  /** @default - Powertools Metrics in namespace `shardflow` */
  readonly metrics?: Metrics;
}

/**
 * Builds the Lambda handler of a stateless pipeline: decode and validate each record, run the
 * filter/map/flatMap chain, write the results to the output stream in input order with their partition
 * keys. Invalid records are reported (a structured log line with shard, sequence number and reason, and the
 * `InvalidRecords` metric) and never fail the batch. A failed write fails the invocation, so Lambda retries
 * the batch: output is at-least-once.
 *
 * @example
 * export const handler = createStatelessHandler(enrich);
 */
export function createStatelessHandler(
  definition: AnyStatelessPipelineDefinition,
  dependencies: StatelessHandlerDependencies = {},
): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  const output = definition.config.outputs[0] ?? '';
  const logger = dependencies.logger ?? new Logger({ serviceName: definition.name });
  const metrics =
    dependencies.metrics ?? new Metrics({ namespace: 'shardflow', serviceName: definition.name });
  let sink = dependencies.sink;

  return async (event) => {
    sink ??= new KinesisSink({ streamName: requireEnv(outputStreamVariable(output)) });
    const plan = preAggregate(definition, event.Records);
    reportFailures(logger, plan.failures);
    const stats = await sink.send(plan.outputs);
    metrics.addMetric('RecordsIn', MetricUnit.Count, plan.recordCount);
    metrics.addMetric('RecordsOut', MetricUnit.Count, plan.outputs.length);
    metrics.addMetric('InvalidRecords', MetricUnit.Count, plan.failures.length);
    metrics.addMetric('PutRecordsRetries', MetricUnit.Count, stats.retries);
    metrics.publishStoredMetrics();
    return { batchItemFailures: [] };
  };
}

/** One structured log line per failed record, without its payload (which may hold personal data). */
export function reportFailures(logger: Logger, failures: readonly RecordFailure[]): void {
  for (const failure of failures) {
    logger.warn('record rejected', {
      reason: failure.reason,
      detail: failure.detail,
      shardId: failure.shardId,
      sequenceNumber: failure.sequenceNumber,
      partitionKey: failure.partitionKey,
    });
  }
}
