import type { RecordFailure } from '#runtime/index';
import type { SinkRecord } from '#sinks/index';
import type { FailureRecordBody, RecordSink } from '../types';

/**
 * The failure-stream record of a rejected input record: JSON `{ pipeline, reason, detail, shardId,
 * sequenceNumber, partitionKey, approximateArrivalTimestamp, data, failedAt }` (times ISO-8601,
 * `data` the original base64), under the original partition key so a redrive keeps its shard
 * assignment. `(shardId, sequenceNumber, reason)` identifies it: the failure stream is
 * at-least-once like the output, so readers dedupe on it.
 *
 * @example
 * await failureSink.send(plan.failures.map((f) => toFailureRecord('page-views', f, Date.now())));
 */
export function toFailureRecord(
  pipeline: string,
  failure: RecordFailure,
  failedAt: number,
): SinkRecord {
  const body: FailureRecordBody = {
    pipeline,
    reason: failure.reason,
    detail: failure.detail,
    shardId: failure.shardId,
    sequenceNumber: failure.sequenceNumber,
    partitionKey: failure.partitionKey,
    approximateArrivalTimestamp: isoOrEmpty(failure.approximateArrivalTimestamp),
    data: failure.data,
    failedAt: new Date(failedAt).toISOString(),
  };
  return { data: JSON.stringify(body), partitionKey: failure.partitionKey || failure.shardId };
}

const isoOrEmpty = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : '');

/**
 * Sends rejected records to the failure stream as {@link toFailureRecord}s.
 *
 * @returns the PutRecords retries it took, for the `PutRecordsRetries` metric
 */
export async function sendFailures(
  sink: RecordSink,
  pipeline: string,
  failures: readonly RecordFailure[],
  now: number,
): Promise<number> {
  if (failures.length === 0) return 0;
  const stats = await sink.send(failures.map((f) => toFailureRecord(pipeline, f, now)));
  return stats.retries;
}
