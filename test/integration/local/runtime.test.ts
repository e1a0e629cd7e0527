import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { localClients } from '#local/aws/index';
import { startLocalRuntime } from '#local/runtime/startLocalRuntime';
import type { LocalRuntime } from '#local/runtime/types';
import { useEngines } from '#test/helpers/engines';

const FIXTURE = join(__dirname, '../../fixtures/assembly');

interface Received {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: string;
}

/** Reads every record of every shard of a stream until `until` holds (or the deadline passes). */
async function readAll(
  kinesis: KinesisClient,
  stream: string,
  until: (received: readonly Received[]) => boolean,
  timeoutMs = 60_000,
) {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
  const iterators = new Map<string, string | undefined>();
  for (const shard of Shards) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    iterators.set(shard.ShardId as string, ShardIterator);
  }
  const received: Received[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(received) && Date.now() < deadline) {
    for (const [shardId, iterator] of iterators) {
      const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      iterators.set(shardId, response.NextShardIterator);
      for (const record of response.Records ?? []) {
        received.push({
          shardId,
          sequenceNumber: record.SequenceNumber as string,
          partitionKey: record.PartitionKey as string,
          data: Buffer.from(record.Data ?? []).toString('utf8'),
        });
      }
    }
    if (!until(received)) await sleep(250);
  }
  return received;
}

/** Polls until a condition holds, for state that settles right after the handler's side effects. */
async function settled(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}

async function send(
  kinesis: KinesisClient,
  stream: string,
  items: { key: string; data: unknown }[],
) {
  const response = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: items.map((item) => ({
        PartitionKey: item.key,
        Data: Buffer.from(JSON.stringify(item.data)),
      })),
    }),
  );
  expect(response.FailedRecordCount ?? 0).toBe(0);
  return (response.Records ?? []).map((record, index) => ({
    ...items[index],
    shardId: record.ShardId as string,
    sequenceNumber: record.SequenceNumber as string,
  }));
}

describe('startLocalRuntime (engines)', () => {
  const engines = useEngines();

  // Nested, so the runtime stops (afterAll) before the engines do.
  describe('with the fixture assembly running', () => {
    let runtime: LocalRuntime;
    const warnings: string[] = [];
    const logs: string[] = [];

    beforeAll(async () => {
      runtime = await startLocalRuntime({
        cdkOut: FIXTURE,
        engines: engines(),
        warn: (line) => warnings.push(line),
        log: (line) => logs.push(line),
      });
    });

    afterAll(async () => {
      await runtime?.stop();
    });

    it('describes names, functions, mappings and endpoints as plain JSON', () => {
      // WHEN
      const description = JSON.parse(JSON.stringify(runtime.describe()));

      // THEN
      expect(description.names.numbers).toMatchObject({
        physicalName: 'Fixture-Numbers',
        type: 'AWS::Kinesis::Stream',
      });
      expect(description.endpoints).toEqual(engines().endpoints);
      expect(description.eventSourceMappings).toHaveLength(2);
      expect(
        description.eventSourceMappings.every((mapping: { running: boolean }) => mapping.running),
      ).toBe(true);
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^shardflow: not emulated locally: /),
          expect.stringMatching(/not yet emulated locally.*DestinationConfig/),
        ]),
      );
    });

    it('delivers AWS exact event shape to a handler using a default KinesisClient, in order per shard', async () => {
      // GIVEN
      const { kinesis } = localClients(engines().endpoints);
      const { names } = runtime.deployment;
      const before = Date.now();
      const items = Array.from({ length: 40 }, (_, i) => ({
        key: `key-${i % 4}`,
        data: { id: `e${i}`, value: i },
      }));

      // WHEN
      const sent = await send(kinesis, 'Fixture-Numbers', items);
      // Kinesis → Lambda is at-least-once: a retried batch may write some records twice.
      const distinct = (received: readonly Received[]) =>
        new Set(received.map((output) => JSON.parse(output.data).record.kinesis.sequenceNumber))
          .size;
      const outputs = await readAll(
        kinesis,
        'Fixture-doubled',
        (received) => distinct(received) >= sent.length,
      );
      const after = Date.now();

      // THEN every record arrived once, in AWS's shape
      const delivered = outputs.map(
        (output) =>
          JSON.parse(output.data) as {
            record: KinesisStreamRecord;
            batchSize: number;
            context: { functionName: string; awsRequestId: string; remainingTimeInMillis: number };
          },
      );
      expect(distinct(outputs)).toBe(sent.length);
      const first = sent[0];
      const record = delivered.find(
        (item) => item.record.kinesis.sequenceNumber === first?.sequenceNumber,
      )?.record;
      expect(Object.keys(record ?? {}).sort()).toEqual(
        [
          'awsRegion',
          'eventID',
          'eventName',
          'eventSource',
          'eventSourceARN',
          'eventVersion',
          'invokeIdentityArn',
          'kinesis',
        ].sort(),
      );
      expect(record).toEqual({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'key-0',
          sequenceNumber: first?.sequenceNumber,
          data: Buffer.from(JSON.stringify({ id: 'e0', value: 0 })).toString('base64'),
          approximateArrivalTimestamp: expect.any(Number),
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${first?.shardId}:${first?.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: `arn:aws:iam::${engines().endpoints.accountId}:role/Fixture-HandlerRole`,
        awsRegion: engines().endpoints.region,
        eventSourceARN: names.numbers?.arn,
      });
      const arrival = record?.kinesis.approximateArrivalTimestamp ?? 0;
      expect(arrival).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 1);
      expect(arrival).toBeLessThanOrEqual(after / 1000);
      expect(delivered.every((item) => item.batchSize <= 10)).toBe(true);
      expect(delivered[0]?.context.functionName).toBe('Fixture-Echo');
      expect(delivered[0]?.context.remainingTimeInMillis).toBeLessThanOrEqual(10_000);

      // THEN order per partition key (and so per input shard) is kept
      for (const key of ['key-0', 'key-1', 'key-2', 'key-3']) {
        const input = sent.filter((item) => item.key === key).map((item) => item.sequenceNumber);
        const output = [
          ...new Set(
            delivered
              .filter((item) => item.record.kinesis.partitionKey === key)
              .map((item) => item.record.kinesis.sequenceNumber),
          ),
        ];
        expect(output).toEqual(input);
      }
      const echoStats = () =>
        runtime.stats().find((stats) => stats.functionName === 'Fixture-Echo');
      await settled(() => echoStats()?.recordsDelivered === 40);
      expect(echoStats()?.recordsDelivered).toBe(40);
    });

    it('retries a failing handler until success: every record exactly once, in order, checkpoint only after success', async () => {
      // GIVEN a handler failing its first 2 invocations, BatchSize 5, one shard
      const { kinesis } = localClients(engines().endpoints);
      const items = Array.from({ length: 12 }, (_, i) => ({ key: `k${i % 3}`, data: { n: i } }));

      // WHEN
      const sent = await send(kinesis, 'fixture-flaky-in', items);
      const audit = (
        await readAll(
          kinesis,
          'fixture-flaky-out',
          (received) => received.length >= sent.length + 5,
        )
      ).map(
        (output) =>
          JSON.parse(output.data) as {
            kind: 'attempt' | 'record';
            invocation?: number;
            failed?: boolean;
            sequenceNumbers?: string[];
            sequenceNumber?: string;
          },
      );

      // THEN the first batch was offered three times, identically, and only the third succeeded
      const attempts = audit.filter((item) => item.kind === 'attempt');
      const firstBatch = sent.slice(0, 5).map((item) => item.sequenceNumber);
      expect(attempts.slice(0, 3)).toEqual([
        { kind: 'attempt', invocation: 1, failed: true, sequenceNumbers: firstBatch },
        { kind: 'attempt', invocation: 2, failed: true, sequenceNumbers: firstBatch },
        { kind: 'attempt', invocation: 3, failed: false, sequenceNumbers: firstBatch },
      ]);
      // THEN every record exactly once, in order
      expect(
        audit.filter((item) => item.kind === 'record').map((item) => item.sequenceNumber),
      ).toEqual(sent.map((item) => item.sequenceNumber));
      // THEN the checkpoint is the last record
      const flakyStats = () =>
        runtime.stats().find((mapping) => mapping.functionName === 'fixture-flaky');
      await settled(() => flakyStats()?.recordsDelivered === 12);
      const stats = flakyStats();
      expect(stats).toMatchObject({ errors: 2, recordsDelivered: 12, invocations: 5 });
      expect(stats?.shards[0]?.checkpoint).toBe(sent.at(-1)?.sequenceNumber);
    });
  });
});
