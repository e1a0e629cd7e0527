import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { FAILURE_STREAM_VARIABLE, outputStreamVariable, requireEnv } from '#commons/environment';
import { METRIC, METRICS_NAMESPACE } from '#commons/metrics';
import type { AnyStatelessPipelineDefinition, RecordFailure } from '#runtime/index';
import { preAggregate } from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import type { RecordSink } from '../types';
import { sendFailures } from './toFailureRecord';

/** What a stateless handler needs besides the event; tests inject their own. */
export interface StatelessHandlerDependencies {
  /** @default - a KinesisSink on the stream named by `OUTPUT_STREAM_<OUTPUT>` */
  readonly sink?: RecordSink;
  /** @default - a KinesisSink on the stream named by `SHARDFLOW_FAILURE_STREAM` */
  readonly failureSink?: RecordSink;
  /** @default - a Powertools Logger */
  readonly logger?: Logger;
  /** @default - Powertools Metrics in namespace `shardflow` */
  readonly metrics?: Metrics;
  /** @default Date.now */
  readonly clock?: () => number;
}

/**
 * Builds the Lambda handler of a stateless pipeline: decode and validate each record, run the
 * filter/map/flatMap chain, write the results to the output stream in input order with their partition
 * keys. A record that is not JSON, fails the schema or throws in a transform goes to the failure stream
 * with its reason, shard, sequence number and the record itself (plus a structured log line without the
 * payload and the `InvalidRecords` metric) and never fails the batch. A failed write fails the
 * invocation, so Lambda retries the batch: output is at-least-once.
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
    dependencies.metrics ??
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: definition.name });
  const clock = dependencies.clock ?? Date.now;
  let sink = dependencies.sink;
  let failureSink = dependencies.failureSink;

  return async (event) => {
    sink ??= new KinesisSink({ streamName: requireEnv(outputStreamVariable(output)) });
    failureSink ??= new KinesisSink({ streamName: requireEnv(FAILURE_STREAM_VARIABLE) });
    const plan = preAggregate(definition, event.Records);
    reportFailures(logger, plan.failures);
    let retries = await sendFailures(failureSink, definition.name, plan.failures, clock());
    const stats = await sink.send(plan.outputs);
    retries += stats.retries;
    metrics.addMetric(METRIC.RECORDS_IN, MetricUnit.Count, plan.recordCount);
    metrics.addMetric(METRIC.RECORDS_OUT, MetricUnit.Count, plan.outputs.length);
    metrics.addMetric(METRIC.INVALID_RECORDS, MetricUnit.Count, plan.failures.length);
    metrics.addMetric(METRIC.PUT_RECORDS_RETRIES, MetricUnit.Count, retries);
    metrics.publishStoredMetrics();
    return { batchItemFailures: [] };
  };
}

/**
 * One structured log line per failed record, without anything taken from the record: the detail
 * (which may quote the payload) and the partition key (often a user id) are logged only at DEBUG.
 * The record itself is in the failure stream.
 */
export function reportFailures(logger: Logger, failures: readonly RecordFailure[]): void {
  for (const failure of failures) {
    const where = { shardId: failure.shardId, sequenceNumber: failure.sequenceNumber };
    logger.warn('record rejected', { reason: failure.reason, ...where });
    logger.debug('record rejected: detail', {
      ...where,
      detail: failure.detail,
      partitionKey: failure.partitionKey,
    });
  }
}
