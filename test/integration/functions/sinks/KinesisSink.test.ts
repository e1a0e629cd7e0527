import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws';
import { KinesisSink } from '#sinks/index';
import { useEngines } from '#test/helpers/engines';

const engines = useEngines();

const waitForActive = async (kinesis: KinesisClient, streamName: string): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    const { StreamDescription } = await kinesis.send(
      new DescribeStreamCommand({ StreamName: streamName }),
    );
    if (StreamDescription?.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
};

/** Reads every record of every shard from the start, shard by shard, until `expected` are read. */
const readAll = async (
  kinesis: KinesisClient,
  streamName: string,
  expected: number,
): Promise<Array<{ shardId: string; partitionKey: string; data: { key: string; n: number } }>> => {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const read: Array<{ shardId: string; partitionKey: string; data: { key: string; n: number } }> =
    [];
  for (const { ShardId: shardId = '' } of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let emptyReads = 0;
    while (iterator !== undefined && emptyReads < 5 && read.length < expected) {
      const page = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
      );
      const records = page.Records ?? [];
      emptyReads = records.length === 0 ? emptyReads + 1 : 0;
      for (const record of records) {
        read.push({
          shardId,
          partitionKey: record.PartitionKey ?? '',
          data: JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')),
        });
      }
      iterator = page.NextShardIterator;
    }
  }
  return read;
};

describe('KinesisSink on kinesis-mock', () => {
  it('writes 1,200 records across 10 partition keys to a 2-shard stream, in order per key', async () => {
    // GIVEN
    const { endpoints } = engines();
    const kinesis = localClients(endpoints).kinesis;
    const streamName = `sink-it-${Date.now()}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
    await waitForActive(kinesis, streamName);
    const keys = Array.from({ length: 10 }, (_, i) => `key-${i}`);
    const input = Array.from({ length: 1200 }, (_, n) => {
      const key = keys[n % keys.length] ?? '';
      return { data: { key, n }, partitionKey: key };
    });
    const sink = new KinesisSink({ streamName, client: kinesis });

    // WHEN
    const stats = await sink.send(input);

    // THEN every record is there once, and each key reads back in the order it was sent
    expect(stats.records).toBe(1200);
    expect(stats.requests - stats.retries).toBe(120); // ordered: one record per key per call
    const read = await readAll(kinesis, streamName, 1200);
    expect(read).toHaveLength(1200);
    expect(new Set(read.map((r) => r.data.n)).size).toBe(1200);
    expect(new Set(read.map((r) => r.shardId)).size).toBe(2);
    for (const key of keys) {
      const ofKey = read.filter((r) => r.partitionKey === key);
      expect(new Set(ofKey.map((r) => r.shardId)).size).toBe(1);
      expect(ofKey.map((r) => r.data.n)).toEqual(
        input.filter((r) => r.partitionKey === key).map((r) => r.data.n),
      );
    }
  });
});
