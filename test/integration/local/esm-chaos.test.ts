import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws/index';
import { startLocalRuntime } from '#local/runtime/startLocalRuntime';
import type { LocalRuntime } from '#local/runtime/types';
import { useEngines } from '#test/helpers/engines';

const FIXTURE = join(__dirname, '../../fixtures/chaos');

async function readOutput(kinesis: KinesisClient): Promise<{ key: string; id: string }[]> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: 'chaos-out',
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const out: { key: string; id: string }[] = [];
  let iterator = ShardIterator;
  for (let i = 0; i < 20 && iterator; i++) {
    const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
    for (const record of response.Records ?? []) {
      out.push({
        key: record.PartitionKey as string,
        id: JSON.parse(Buffer.from(record.Data ?? []).toString()).id,
      });
    }
    if ((response.Records ?? []).length === 0) break;
    iterator = response.NextShardIterator;
  }
  return out;
}

describe('chaos (engines)', () => {
  const engines = useEngines();
  // Nested, so the runtime stops (afterAll) before the engines do.
  describe('with the chaos fixture running at rate 0.3, seed 7', () => {
    let runtime: LocalRuntime;
    const logs: string[] = [];

    beforeAll(async () => {
      runtime = await startLocalRuntime({
        cdkOut: FIXTURE,
        engines: engines(),
        log: (line) => logs.push(line),
        warn: () => undefined,
        pollIntervalMs: 100,
        retryDelayMs: 100,
        chaos: { rate: 0.3, seed: 7 },
      });
    });

    afterAll(async () => {
      await runtime?.stop();
    });

    it('injects function errors before and after the handler, DynamoDB throttling and PutRecords partial failures; retries still deliver every record at least once, in order per key', async () => {
      // GIVEN
      const { kinesis, dynamodb } = localClients(engines().endpoints);
      const items = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, key: `k${i % 3}` }));

      // WHEN
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'chaos-in',
          Records: items.map((item) => ({
            PartitionKey: item.key,
            Data: Buffer.from(JSON.stringify(item)),
          })),
        }),
      );
      const deadline = Date.now() + 90_000;
      let stored = new Set<string>();
      let output: { key: string; id: string }[] = [];
      while (Date.now() < deadline) {
        const scan = await dynamodb.send(new ScanCommand({ TableName: 'chaos-table' }));
        stored = new Set((scan.Items ?? []).map((item) => item.pk?.S as string));
        output = await readOutput(kinesis);
        if (
          stored.size === items.length &&
          new Set(output.map((o) => o.id)).size === items.length
        ) {
          break;
        }
        await sleep(500);
      }

      // THEN every failure kind was injected
      const chaos = runtime.chaosStats();
      expect(chaos.functionErrorsBeforeHandler).toBeGreaterThan(0);
      expect(chaos.functionErrorsAfterHandler).toBeGreaterThan(0);
      expect(chaos.dynamodbThrottled).toBeGreaterThan(0);
      expect(chaos.putRecordsEntriesFailed).toBeGreaterThan(0);
      expect(
        logs.some((line) => line.includes('PUTRECORDS ProvisionedThroughputExceededException')),
      ).toBe(true);
      // THEN every record at least once in the table and the output stream
      expect([...stored].sort()).toEqual(items.map((item) => item.id).sort());
      expect([...new Set(output.map((o) => o.id))].sort()).toEqual(
        items.map((item) => item.id).sort(),
      );
      // THEN the handler first saw each key's records in order
      const invoked = logs
        .filter((line) => line.startsWith('[chaos-fn] INVOKE '))
        .flatMap(
          (line) => JSON.parse(line.slice(line.indexOf('INVOKE ') + 7)) as [string, string][],
        );
      for (const key of ['k0', 'k1', 'k2']) {
        const expected = items.filter((item) => item.key === key).map((item) => item.id);
        const firsts = [...new Set(invoked.filter(([k]) => k === key).map(([, id]) => id))];
        expect(firsts).toEqual(expected);
      }
      kinesis.destroy();
      dynamodb.destroy();
    });
  });
});
