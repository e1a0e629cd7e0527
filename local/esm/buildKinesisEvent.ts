import type { KinesisStreamEvent } from 'aws-lambda';
import { KINESIS_EVENT } from './constants';
import type { StreamRecord } from './types';

/** Where the records of an event come from, for the per-record envelope fields. */
export interface KinesisEventSource {
  readonly eventSourceArn: string;
  readonly region: string;
  readonly invokeIdentityArn: string;
}

/**
 * Builds the event Lambda passes to a function for a batch of Kinesis records, in AWS's exact
 * shape (`KinesisStreamEvent`): base64 data, arrival time in epoch seconds, eventID
 * `shardId-…:<sequence number>`.
 */
export function buildKinesisEvent(
  records: readonly StreamRecord[],
  source: KinesisEventSource,
): KinesisStreamEvent {
  return {
    Records: records.map((record) => ({
      kinesis: {
        kinesisSchemaVersion: KINESIS_EVENT.SCHEMA_VERSION,
        partitionKey: record.partitionKey,
        sequenceNumber: record.sequenceNumber,
        data: Buffer.from(record.data).toString('base64'),
        approximateArrivalTimestamp: record.approximateArrivalTimestamp / 1000,
      },
      eventSource: KINESIS_EVENT.EVENT_SOURCE,
      eventVersion: KINESIS_EVENT.EVENT_VERSION,
      eventID: `${record.shardId}:${record.sequenceNumber}`,
      eventName: KINESIS_EVENT.EVENT_NAME,
      invokeIdentityArn: source.invokeIdentityArn,
      awsRegion: source.region,
      eventSourceARN: source.eventSourceArn,
    })),
  };
}
