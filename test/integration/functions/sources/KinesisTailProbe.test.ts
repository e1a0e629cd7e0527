import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws/index';
import { KinesisTailProbe } from '#sources/index';
import { useEngines } from '#test/helpers/engines';
import { createStream } from '#test/integration/functions/handlers/harness';

const engines = useEngines();

describe('KinesisTailProbe against kinesis-mock', () => {
  it('tells a shard with records after a sequence number from a caught-up one', async () => {
    // GIVEN a one-shard stream holding three records
    const { kinesis } = localClients(engines().endpoints);
    const streamName = `tail-${process.pid}`;
    await createStream(kinesis, streamName);
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: ['a', 'b', 'c'].map((d) => ({ Data: Buffer.from(d), PartitionKey: 'k' })),
      }),
    );
    const [first, , last] = (put.Records ?? []).map((r) => r.SequenceNumber as string);
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`;
    const shardId = 'shardId-000000000000';
    let now = 0;
    const probe = new KinesisTailProbe({ client: kinesis, clock: () => now });

    // WHEN asked after the first record, and after the last one
    // THEN records are left after the first (backlog), none after the last (caught up)
    expect(await probe.caughtUp({ shardId, streamArn, sequenceNumber: first as string })).toBe(
      false,
    );
    expect(await probe.caughtUp({ shardId, streamArn, sequenceNumber: last as string })).toBe(true);

    // WHEN a record arrives: the cached answer holds for cacheMs, then the shard is behind again
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ Data: Buffer.from('d'), PartitionKey: 'k' }],
      }),
    );
    expect(await probe.caughtUp({ shardId, streamArn, sequenceNumber: last as string })).toBe(true);
    now += 5_000;
    expect(await probe.caughtUp({ shardId, streamArn, sequenceNumber: last as string })).toBe(
      false,
    );
  });

  it("lists a stream's open shards, and probes a shard from its start", async () => {
    // GIVEN a two-shard stream with one record on one shard
    const { kinesis } = localClients(engines().endpoints);
    const streamName = `open-${process.pid}`;
    await createStream(kinesis, streamName, 2);
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`;
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: [{ Data: Buffer.from('a'), PartitionKey: 'k' }],
      }),
    );
    const used = put.Records?.[0]?.ShardId as string;
    const probe = new KinesisTailProbe({ client: kinesis });
    // WHEN / THEN both shards are open
    const open = await probe.openShards(streamArn);
    expect([...open].sort((a, b) => a.shardId.localeCompare(b.shardId))).toEqual([
      { shardId: 'shardId-000000000000', parents: [] },
      { shardId: 'shardId-000000000001', parents: [] },
    ]);
    // AND from its start, the shard with the record is not caught up, the other is
    const other = open.map((s) => s.shardId).find((id) => id !== used) as string;
    expect(await probe.caughtUp({ shardId: used, streamArn, sequenceNumber: undefined })).toBe(
      false,
    );
    expect(await probe.caughtUp({ shardId: other, streamArn, sequenceNumber: undefined })).toBe(
      true,
    );
  });

  it('fails loudly for a stream that does not exist (the store then holds the watermark)', async () => {
    const { kinesis } = localClients(engines().endpoints);
    const probe = new KinesisTailProbe({ client: kinesis });
    await expect(
      probe.caughtUp({
        shardId: 'shardId-000000000000',
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/missing',
        sequenceNumber: '1',
      }),
    ).rejects.toThrow();
  });
});
