import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { pageViews } from '#pipelines/page-views';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
import type { DynamoDBSender } from '#state/index';
import { recordingSink } from '#test/helpers/handlerStubs';
import { kinesisEventFactory } from '#test/helpers/kinesisFactories';
import { SEC, T0, useEventTimeTestbed } from '../handlers/eventTimeTestbed';
import { silentLogger, silentMetrics } from '../handlers/harness';

/** What an adversarial review of lane packs found at the handler level (each test failed before its fix). */

const { testbed, records, uniqueName } = useEventTimeTestbed('pack-review-handler');

/** The testbed's client, counting Queries of pack partitions (`<pipeline>#P#…`, no index). */
function countingClient(): {
  client: DynamoDBSender;
  packQueries: () => number;
  packItemsRead: () => number;
} {
  const { dynamodb } = testbed();
  let packQueries = 0;
  let packItemsRead = 0;
  const client: DynamoDBSender = {
    // biome-ignore lint/suspicious/noExplicitAny: forwards any command
    send: (async (command: any) => {
      if (
        command instanceof QueryCommand &&
        command.input.IndexName === undefined &&
        Object.values(command.input.ExpressionAttributeValues ?? {}).some((v) =>
          String((v as { S?: string }).S ?? '').includes('#P#'),
        )
      ) {
        packQueries++;
        const out = await dynamodb.send(command);
        packItemsRead += out.Count ?? 0;
        return out;
      }
      return dynamodb.send(command);
    }) as DynamoDBSender['send'],
  };
  return { client, packQueries: () => packQueries, packItemsRead: () => packItemsRead };
}

describe('lane packs, handler level (adversarial review)', () => {
  it("emit('update'): one batch of 200 pages reads its one slice's packs once, not once per key", async () => {
    // GIVEN page-views with emit('update'), on the packs layout
    const { tableName } = testbed();
    const definition: AnyWindowedPipelineDefinition = {
      ...pageViews,
      name: uniqueName('pv-update'),
      emit: 'update',
    } as AnyWindowedPipelineDefinition;
    const { client, packQueries } = countingClient();
    const now = T0 + 30 * SEC;
    const store = createPipelineStore(definition, {
      client: client as never,
      tableName,
      clock: () => now,
    });
    const output = recordingSink();
    const handler = createWindowedHandler(definition, {
      store,
      outputSink: output,
      failureSink: recordingSink(),
      clock: () => now,
      tailProbe: async () => true,
      openShards: null,
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    // WHEN one batch brings one view of each of 200 pages, all in the minute [10:00, 10:01)
    const views = Array.from({ length: 200 }, (_, i) => ({
      shard: 0,
      userId: `u${i}`,
      page: `/p/${i}`,
      ts: T0 + 10 * SEC,
    }));
    await handler(kinesisEventFactory(records(views)));
    // THEN 200 previews went out, and the slice's pack partition was read a bounded number of
    // times (one slice touched: the items layout did one small GetItem per key; packs re-read
    // every key's pack for each key — quadratic in keys per batch, and growing with the packs
    // the slice has collected)
    expect(output.sent.length).toBe(200);
    expect(packQueries()).toBeLessThanOrEqual(5);
  });

  it('a late record on a cold instance seals its slice without reading its packs', async () => {
    // GIVEN page-views on the packs layout; 40 batches filled minute [10:00, 10:01), and a view at
    // 10:02 closed it (instance A)
    const { tableName, dynamodb } = testbed();
    const definition = {
      ...pageViews,
      name: uniqueName('pv-late'),
    } as AnyWindowedPipelineDefinition;
    let now = T0 + 30 * SEC;
    const handlerOn = (client: DynamoDBSender) =>
      createWindowedHandler(definition, {
        store: createPipelineStore(definition, {
          client: client as never,
          tableName,
          clock: () => now,
        }),
        outputSink: recordingSink(),
        failureSink: recordingSink(),
        clock: () => now,
        tailProbe: async () => true,
        openShards: null,
        logger: silentLogger(),
        metrics: silentMetrics(),
      });
    const a = handlerOn(dynamodb);
    for (let i = 0; i < 40; i++)
      await a(
        kinesisEventFactory(
          records([{ shard: 0, userId: `u${i}`, page: `/p/${i}`, ts: T0 + i * 100 }]),
        ),
      );
    now = T0 + 3 * 60 * SEC;
    await a(kinesisEventFactory(records([{ shard: 0, userId: 'z', ts: T0 + 2 * 60 * SEC }])));
    // WHEN a cold instance B gets one straggler of 10:00:50 (LATE: its slice is sealed)
    const { client, packItemsRead } = countingClient();
    const failures = recordingSink();
    const b = createWindowedHandler(definition, {
      store: createPipelineStore(definition, {
        client: client as never,
        tableName,
        clock: () => now,
      }),
      outputSink: recordingSink(),
      failureSink: failures,
      clock: () => now,
      tailProbe: async () => true,
      openShards: null,
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    await b(
      kinesisEventFactory(records([{ shard: 0, userId: 'late', ts: T0 + 50 * SEC, arrival: now }])),
    );
    // THEN it is refused as LATE, and refusing it needed the seal (a write), not the slice's 40
    // packs (every key's state of the minute: MBs on a busy pipeline, per straggler and instance)
    expect(failures.sent.length).toBe(1);
    expect(packItemsRead()).toBe(0);
  });
});
