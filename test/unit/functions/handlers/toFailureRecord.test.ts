import type { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { sendFailures, toFailureRecord } from '#handlers/factories/toFailureRecord';
import type { FailureRecordBody } from '#handlers/types';
import type { RecordFailure } from '#runtime/index';
import { KinesisSink, MAX_BYTES_PER_RECORD } from '#sinks/index';

const FAILED_AT = Date.parse('2026-11-26T10:00:05.000Z');

const failureOf = (bytes: Buffer, overrides: Partial<RecordFailure> = {}): RecordFailure => ({
  shardId: 'shardId-000000000001',
  sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  partitionKey: 'user-7',
  approximateArrivalTimestamp: Date.parse('2026-11-26T10:00:00.000Z'),
  reason: 'SCHEMA',
  detail: 'page: expected string',
  data: bytes.toString('base64'),
  ...overrides,
});

const bodyOf = (record: { data: unknown }): FailureRecordBody =>
  JSON.parse(record.data as string) as FailureRecordBody;

const sizeOf = (record: { data: unknown; partitionKey: string }): number =>
  Buffer.byteLength(record.data as string, 'utf8') + Buffer.byteLength(record.partitionKey, 'utf8');

/** A Kinesis client stub that accepts every PutRecords entry and keeps them. */
const acceptingClient = () => {
  const entries: Array<{ Data?: Uint8Array; PartitionKey?: string }> = [];
  const client = {
    send: jest.fn(async (command: PutRecordsCommand) => {
      const records = command.input.Records ?? [];
      entries.push(...records);
      return {
        FailedRecordCount: 0,
        Records: records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-0' })),
      };
    }),
  };
  return { entries, client: client as unknown as KinesisClient };
};

describe('toFailureRecord', () => {
  it('carries the record inline with its size, under the original partition key', () => {
    // GIVEN
    const data = Buffer.from('{"page":1}');

    // WHEN
    const record = toFailureRecord('page-views', failureOf(data), FAILED_AT);

    // THEN
    expect(record.partitionKey).toBe('user-7');
    expect(bodyOf(record)).toEqual({
      pipeline: 'page-views',
      reason: 'SCHEMA',
      detail: 'page: expected string',
      shardId: 'shardId-000000000001',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      partitionKey: 'user-7',
      approximateArrivalTimestamp: '2026-11-26T10:00:00.000Z',
      data: data.toString('base64'),
      dataBytes: data.length,
      failedAt: '2026-11-26T10:00:05.000Z',
    });
  });

  it('leaves out data that would push the failure record over 1 MiB, keeping its position and size', () => {
    // GIVEN: a 1 MiB record (the Kinesis maximum): base64 makes it 1.33 MiB
    const data = Buffer.alloc(MAX_BYTES_PER_RECORD - 'user-7'.length, 0x61);

    // WHEN
    const record = toFailureRecord(
      'page-views',
      failureOf(data, { reason: 'TOO_LARGE' }),
      FAILED_AT,
    );

    // THEN the failure record fits in one Kinesis record and says where to read the data back
    expect(sizeOf(record)).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
    expect(bodyOf(record)).toMatchObject({
      reason: 'TOO_LARGE',
      shardId: 'shardId-000000000001',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      data: '',
      dataBytes: data.length,
      dataTruncated: true,
    });
  });

  it('keeps 700 KiB of data inline: its base64 still fits in 1 MiB', () => {
    // GIVEN: data whose base64 is just under 1 MiB minus a generous envelope
    const fits = Buffer.alloc(700 * 1024, 0x61);
    const record = toFailureRecord('enrich', failureOf(fits), FAILED_AT);
    expect(bodyOf(record).dataTruncated).toBeUndefined();
    expect(Buffer.from(bodyOf(record).data, 'base64').equals(fits)).toBe(true);
    expect(sizeOf(record)).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
  });

  it('clips a huge detail (a user error quoting the payload) so the record still fits', () => {
    const record = toFailureRecord(
      'enrich',
      failureOf(Buffer.alloc(700 * 1024, 0x61), {
        reason: 'TRANSFORM_ERROR',
        detail: 'x'.repeat(900 * 1024),
      }),
      FAILED_AT,
    );
    expect(bodyOf(record).detail.length).toBeLessThanOrEqual(2000);
    expect(sizeOf(record)).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
  });
});

describe('sendFailures', () => {
  it('writes failure records of 1 MiB poison records through a real KinesisSink without failing', async () => {
    // GIVEN: before the fix, the sink refused these with RecordTooLargeError and the batch failed forever
    const { entries, client } = acceptingClient();
    const sink = new KinesisSink({ streamName: 'page-views-failures', client, ordered: false });
    const huge = Buffer.alloc(MAX_BYTES_PER_RECORD - 10, 0x7b);
    const failures = [
      failureOf(huge, { reason: 'TOO_LARGE', sequenceNumber: '1' }),
      failureOf(Buffer.from('nope'), { reason: 'NOT_JSON', sequenceNumber: '2' }),
    ];

    // WHEN
    const retries = await sendFailures(sink, 'page-views', failures, FAILED_AT);

    // THEN both are in the failure stream, the small one with its data
    expect(retries).toBe(0);
    const bodies = entries.map(
      (entry) => JSON.parse(Buffer.from(entry.Data ?? []).toString('utf8')) as FailureRecordBody,
    );
    expect(bodies.map((body) => [body.sequenceNumber, body.reason, body.dataTruncated])).toEqual([
      ['1', 'TOO_LARGE', true],
      ['2', 'NOT_JSON', undefined],
    ]);
    expect(Buffer.from(bodies[1]?.data ?? '', 'base64').toString()).toBe('nope');
  });
});

describe('toFailureRecord with very many refused elements', () => {
  const many = (elements: number[]) =>
    failureOf(Buffer.from('{"fan":"out"}'), {
      reason: 'LATE',
      detail: 'slice of key was sealed',
      elements,
      elementCount: 400_000,
    });

  it('lists the elements whole when they fit', () => {
    const body = bodyOf(toFailureRecord('p', many([0, 2, 3]), FAILED_AT));
    expect(body).toMatchObject({ elements: [0, 2, 3], elementCount: 400_000 });
  });

  it('writes runs of elements as ranges when their list would not fit in one Kinesis record', () => {
    // GIVEN 200,000 consecutive elements: their list alone is over 1 MiB
    const record = toFailureRecord(
      'p',
      many(Array.from({ length: 200_000 }, (_, i) => i)),
      FAILED_AT,
    );
    // THEN it fits, with one range
    expect(sizeOf(record)).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
    const body = bodyOf(record);
    expect(body.elements).toBeUndefined();
    expect(body.elementRanges).toEqual([[0, 199_999]]);
    expect(body.data).not.toBe('');
  });

  it('keeps only the number of elements when not even their ranges fit', () => {
    // GIVEN 200,000 elements, every other one: 200,000 ranges
    const record = toFailureRecord(
      'p',
      many(Array.from({ length: 200_000 }, (_, i) => 2 * i)),
      FAILED_AT,
    );
    expect(sizeOf(record)).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
    expect(bodyOf(record)).toMatchObject({ elementsNotCounted: 200_000, elementCount: 400_000 });
  });
});
