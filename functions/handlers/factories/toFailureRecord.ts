import { base64ByteLength } from '#runtime/decodeRecord';
import type { RecordFailure } from '#runtime/index';
import { MAX_BYTES_PER_RECORD, type SinkRecord } from '#sinks/index';
import type { FailureRecordBody, RecordSink } from '../types';

/**
 * Longest `detail` a failure record carries, in UTF-16 code units: details come from parsers,
 * schemas and user functions, and a user error message may quote a whole payload.
 */
const MAX_FAILURE_DETAIL_LENGTH = 2000;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

const clip = (text: string): string =>
  text.length <= MAX_FAILURE_DETAIL_LENGTH
    ? text
    : `${text.slice(0, MAX_FAILURE_DETAIL_LENGTH - 1)}…`;

/**
 * The failure-stream record of a rejected input record: JSON `{ pipeline, reason, detail, shardId,
 * sequenceNumber, partitionKey, approximateArrivalTimestamp, data, dataBytes, elements?,
 * elementCount?, failedAt }` (times ISO-8601, `data` the original base64, `dataBytes` its decoded
 * size; `elements` — for LATE, EXPIRED and STATE_TOO_LARGE — the indices of exactly the record's
 * elements that were not counted, out of `elementCount`), under the original partition key so a
 * redrive keeps its shard assignment. `(shardId, sequenceNumber, reason)` identifies it: the
 * failure stream is at-least-once like the output, so readers dedupe on it.
 *
 * A failure record must itself fit in one Kinesis record (1 MiB with its partition key), and base64
 * makes data 4/3 larger: when the data does not fit, `data` is `''` and `dataTruncated: true`, and
 * the record is read back from the source stream at its shard and sequence number (what `shardflow
 * failures` and `shardflow redrive` do). A failure record therefore never fails the batch for its
 * size, and so never blocks the shard.
 *
 * @example
 * await failureSink.send(plan.failures.map((f) => toFailureRecord('page-views', f, Date.now())));
 */
export function toFailureRecord(
  pipeline: string,
  failure: RecordFailure,
  failedAt: number,
): SinkRecord {
  const partitionKey = failure.partitionKey || failure.shardId;
  const body: FailureRecordBody = {
    pipeline,
    reason: failure.reason,
    detail: clip(failure.detail),
    shardId: failure.shardId,
    sequenceNumber: failure.sequenceNumber,
    partitionKey: failure.partitionKey,
    approximateArrivalTimestamp: isoOrEmpty(failure.approximateArrivalTimestamp),
    data: failure.data,
    dataBytes: base64ByteLength(failure.data),
    ...(failure.elements === undefined
      ? {}
      : { elements: failure.elements, elementCount: failure.elementCount ?? 1 }),
    failedAt: new Date(failedAt).toISOString(),
  };
  // Whole, else without the data, else with the elements as ranges, else with their count only:
  // a failure record never fails its batch for its size.
  const fits = (candidate: object): string | undefined => {
    const text = JSON.stringify(candidate);
    return utf8Bytes(text) + utf8Bytes(partitionKey) <= MAX_BYTES_PER_RECORD ? text : undefined;
  };
  const { elements, ...whole } = body;
  const ranges = elements === undefined ? undefined : toRanges(elements);
  const noData = { data: '', dataTruncated: true as const };
  const text =
    fits(body) ??
    (ranges === undefined ? undefined : fits({ ...whole, elementRanges: ranges })) ??
    fits({ ...body, ...noData }) ??
    (ranges === undefined ? undefined : fits({ ...whole, ...noData, elementRanges: ranges })) ??
    (elements === undefined
      ? undefined
      : fits({ ...whole, ...noData, elementsNotCounted: elements.length }));
  const truncated = { ...body, ...noData };
  return { data: text ?? JSON.stringify(truncated), partitionKey };
}

/** `[first, last]` runs of consecutive indices (sorted input). */
function toRanges(indices: readonly number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const i of indices) {
    const last = ranges.at(-1);
    if (last !== undefined && last[1] + 1 === i) last[1] = i;
    else ranges.push([i, i]);
  }
  return ranges;
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
