import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { readFailureStreams } from '#local/capture/readFailureStreams';

const failure = (pipeline: string, sequenceNumber: string, reason = 'SCHEMA') => ({
  pipeline,
  reason,
  detail: '…',
  shardId: 'shardId-000000000000',
  sequenceNumber,
  partitionKey: 'pk',
  approximateArrivalTimestamp: '2026-11-26T10:00:00.000Z',
  data: 'e30=',
  failedAt: '2026-11-26T10:00:01.000Z',
});

/** Kinesis with one shard per stream, holding `records` (the data of each, by stream). */
const kinesisWith = (records: Record<string, ReadonlyArray<string>>): KinesisClient =>
  ({
    send: async (command: unknown) => {
      if (command instanceof ListShardsCommand) {
        return { Shards: [{ ShardId: 'shardId-000000000003' }] };
      }
      if (command instanceof GetShardIteratorCommand) {
        return { ShardIterator: command.input.StreamName };
      }
      if (command instanceof GetRecordsCommand) {
        const data = records[command.input.ShardIterator ?? ''] ?? [];
        return {
          Records: data.map((text, i) => ({
            SequenceNumber: `${100 + i}`,
            PartitionKey: 'x',
            Data: Buffer.from(text),
          })),
        };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  }) as unknown as KinesisClient;

describe('readFailureStreams', () => {
  it('returns each failure record once per stream with the stream and position it was read at', async () => {
    // GIVEN enrich-failures holding a duplicate (failure streams are at-least-once) and a forged record
    const client = kinesisWith({
      'dev-enrich-failures': [
        JSON.stringify(failure('enrich', '1')),
        JSON.stringify(failure('enrich', '1')),
        JSON.stringify(failure('page-views', '2')),
      ],
      'dev-page-views-failures': [JSON.stringify(failure('page-views', '1'))],
    });

    // WHEN
    const records = await readFailureStreams(
      client,
      ['dev-enrich-failures', 'dev-page-views-failures'],
      { idleTimeoutMs: 0 },
    );

    // THEN the body is what the record says; the stream and position are where it was read
    expect(
      records.map((record) => [
        record.failureStream,
        record.shardId,
        record.sequenceNumber,
        record.body?.pipeline,
      ]),
    ).toEqual([
      ['dev-enrich-failures', 'shardId-000000000003', '100', 'enrich'],
      ['dev-enrich-failures', 'shardId-000000000003', '102', 'page-views'],
      ['dev-page-views-failures', 'shardId-000000000003', '100', 'page-views'],
    ]);
  });

  it('merges the failures of one rejection into the first, naming the union of their elements', async () => {
    // GIVEN a record refused in two steps (a second failure names every element so far), its
    // at-least-once duplicate, and another pipeline's rejection of the same source record
    const late = (pipeline: string, elements: number[]) => ({
      ...failure(pipeline, '7', 'LATE'),
      elements,
      elementCount: 3,
    });
    const client = kinesisWith({
      'dev-shared-failures': [
        JSON.stringify(late('page-views', [0])),
        JSON.stringify(late('page-views', [0, 2])),
        JSON.stringify(late('page-views', [0])),
        JSON.stringify(late('trending', [1])),
      ],
    });

    // WHEN
    const records = await readFailureStreams(client, ['dev-shared-failures'], {
      idleTimeoutMs: 0,
    });

    // THEN one record per pipeline and rejection, at the first's position, with all elements
    expect(
      records.map((record) => [
        record.sequenceNumber,
        record.body?.pipeline,
        record.body?.elements,
      ]),
    ).toEqual([
      ['100', 'page-views', [0, 2]],
      ['103', 'trending', [1]],
    ]);
  });

  it('returns what is not a failure record without a body, so it can be reported', async () => {
    // GIVEN not JSON, JSON that is not an object, and an object without a pipeline
    const { pipeline: _, ...withoutPipeline } = failure('enrich', '1');
    const client = kinesisWith({
      'dev-enrich-failures': ['not json', '42', JSON.stringify(withoutPipeline)],
    });

    // WHEN
    const records = await readFailureStreams(client, ['dev-enrich-failures'], { idleTimeoutMs: 0 });

    // THEN
    expect(records.map((record) => [record.sequenceNumber, record.body])).toEqual([
      ['100', undefined],
      ['101', undefined],
      ['102', undefined],
    ]);
  });
});
