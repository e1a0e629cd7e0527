import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** Options of {@link kinesisRecordFactory}. */
export interface KinesisRecordOptions {
  /** JSON payload; serialized, UTF-8 encoded and base64'd. Ignored when `data` is given. */
  readonly payload?: unknown;
  /** Raw `data` (base64) exactly as Kinesis would deliver it. */
  readonly data?: string;
  /** @default 'pk-0' */
  readonly partitionKey?: string;
  /** @default 'shardId-000000000000' */
  readonly shardId?: string;
  /** @default the next number of a per-process counter (a 56-digit decimal string) */
  readonly sequenceNumber?: string;
  /** Arrival time in epoch ms (stored in seconds, as AWS does). @default 1795687200000 */
  readonly arrivalMs?: number;
  /** @default 'clicks' */
  readonly stream?: string;
}

let nextSequence = 49590338271490256608559692538361571095921575989136588898n;

/** One record of a `KinesisStreamEvent`, in the exact shape Lambda delivers. */
export const kinesisRecordFactory = (options: KinesisRecordOptions = {}): KinesisStreamRecord => {
  const shardId = options.shardId ?? 'shardId-000000000000';
  const sequenceNumber = options.sequenceNumber ?? String(nextSequence++);
  const data =
    options.data ?? Buffer.from(JSON.stringify(options.payload ?? {}), 'utf8').toString('base64');
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: options.partitionKey ?? 'pk-0',
      sequenceNumber,
      data,
      approximateArrivalTimestamp: (options.arrivalMs ?? 1_795_687_200_000) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/shardflow-handler',
    awsRegion: 'us-east-1',
    eventSourceARN: `arn:aws:kinesis:us-east-1:123456789012:stream/${options.stream ?? 'clicks'}`,
  };
};

/** A `KinesisStreamEvent` made of the given records, or of `count` default records. */
export const kinesisEventFactory = (
  records: readonly KinesisStreamRecord[] | number = 1,
): KinesisStreamEvent => ({
  Records:
    typeof records === 'number'
      ? Array.from({ length: records }, (_, i) => kinesisRecordFactory({ payload: { i } }))
      : [...records],
});
