import { randomUUID } from 'node:crypto';
import type { DiscardedBatch } from '#local/esm/types';
import { FAILURE_RECORD_VERSION, UNHANDLED_FUNCTION_ERROR } from './constants';
import type { CapturedFailure } from './types';

/** Where a discarded batch came from and where it goes. */
export interface FailureSource {
  readonly destinationArn: string;
  readonly eventSourceMappingUuid: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly streamArn: string;
  readonly shardId: string;
  /** Executed version in `responseContext`. @default '$LATEST' */
  readonly executedVersion?: string;
}

function destinationType(arn: string): 'sqs' | 'sns' | 's3' {
  const service = arn.split(':')[2];
  return service === 'sns' ? 'sns' : service === 's3' ? 's3' : 'sqs';
}

/**
 * Builds the on-failure record Lambda sends for a discarded Kinesis batch ("Retain discarded
 * records": requestContext, responseContext, version, timestamp, KinesisBatchInfo), plus the
 * records themselves under `shardflow`. A whole batch the event source mapping gave up on, not the
 * failure-stream record of one rejected input record (`toFailureRecord` in
 * functions/handlers/factories).
 */
export function toDiscardedBatchRecord(
  discarded: DiscardedBatch,
  source: FailureSource,
  now: Date = new Date(),
): CapturedFailure {
  const first = discarded.records[0];
  const last = discarded.records.at(-1);
  const result = discarded.result;
  const iso = (epochMs: number | undefined) => new Date(epochMs ?? now.getTime()).toISOString();
  return {
    requestContext: {
      requestId: result?.requestId ?? randomUUID(),
      functionArn: source.functionArn,
      condition: discarded.condition,
      approximateInvokeCount: discarded.invokeCount,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: source.executedVersion ?? '$LATEST',
      ...(result && !result.ok ? { functionError: UNHANDLED_FUNCTION_ERROR } : {}),
    },
    version: FAILURE_RECORD_VERSION,
    timestamp: now.toISOString(),
    KinesisBatchInfo: {
      shardId: source.shardId,
      startSequenceNumber: first?.sequenceNumber ?? '',
      endSequenceNumber: last?.sequenceNumber ?? '',
      approximateArrivalOfFirstRecord: iso(first?.approximateArrivalTimestamp),
      approximateArrivalOfLastRecord: iso(last?.approximateArrivalTimestamp),
      batchSize: discarded.records.length,
      streamArn: source.streamArn,
    },
    shardflow: {
      destinationArn: source.destinationArn,
      destinationType: destinationType(source.destinationArn),
      eventSourceMappingUuid: source.eventSourceMappingUuid,
      functionName: source.functionName,
      ...(result && !result.ok
        ? { error: `${result.error.errorType}: ${result.error.errorMessage}` }
        : {}),
      records: discarded.records.map((record) => ({
        sequenceNumber: record.sequenceNumber,
        partitionKey: record.partitionKey,
        data: Buffer.from(record.data).toString('base64'),
        approximateArrivalTimestamp: iso(record.approximateArrivalTimestamp),
      })),
    },
  };
}
