import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { pageViews } from '#pipelines/page-views';
import {
  type AnyWindowedPipelineDefinition,
  count,
  pipeline,
  session,
  tumbling,
} from '#runtime/index';
import type { DynamoDBSender } from '#state/index';
import { recordingSink } from '#test/helpers/handlerStubs';
import { kinesisEventFactory } from '#test/helpers/kinesisFactories';
import { MIN, parsed, SEC, T0, useEventTimeTestbed } from '../handlers/eventTimeTestbed';
import { silentLogger, silentMetrics } from '../handlers/harness';

/**
 * Review 3: refusals and the failure stream. docs/pipelines.md: `(shardId, sequenceNumber, reason)`
 * identifies a failure; its `elements` are the record's elements not counted. A batch sends one
 * failure per record and reason; only when a record's slices are refused in two steps (one known
 * sealed, one sealed by a closer while the batch committed) is a second one sent, naming every
 * element refused so far — readers take the union of `elements` per identity.
 */

const { setup, testbed, records, uniqueName } = useEventTimeTestbed('review3-refusals');

/** What a reader following the contract learns: per identity, the union of `elements`. */
function dedupedByIdentity(
  failures: ReadonlyArray<Record<string, unknown>>,
): Map<string, Record<string, unknown>> {
  const kept = new Map<string, Record<string, unknown>>();
  for (const f of failures) {
    const id = `${f.shardId}|${f.sequenceNumber}|${f.reason}`;
    const before = (kept.get(id)?.elements as number[] | undefined) ?? [];
    const union = [...new Set([...before, ...(f.elements as number[])])].sort((x, y) => x - y);
    kept.set(id, { ...f, elements: union });
  }
  return kept;
}

describe('review 3: a record refused for several keys', () => {
  it('sessions: a record fanned out to two users, both LATE, is one failure naming both elements', async () => {
    // GIVEN sessions of a pipeline whose records fan out to two keys: `<user>-a` and `<user>-b`
    const fanned = pipeline('fan-two-users')
      .from('clicks', { schema: pageViews.schema })
      .flatMap((e) => [
        { ...e, userId: `${e.userId}-a`, ts: Number(e.ts) },
        { ...e, userId: `${e.userId}-b`, ts: Number(e.ts) },
      ])
      .keyBy((e) => e.userId)
      .window(session('30m'), { eventTime: (e) => e.ts })
      .aggregate({ pages: count() })
      .emit('final')
      .to('fan-two-users-out') as unknown as AnyWindowedPipelineDefinition;
    const s = setup(fanned);
    // a first record moves the committed watermark to 12:00
    s.setNow(T0 + 120 * MIN);
    await s.handle([{ shard: 0, userId: 'other', ts: T0 + 120 * MIN }]);
    // WHEN a record of 10:00 for user u arrives at 12:00: both its elements are behind the
    // committed watermark (LATE), for keys u-a and u-b
    await s.handle([{ shard: 0, userId: 'u', ts: T0, arrival: T0 + 120 * MIN }]);
    // THEN one failure names elements 0 and 1 as not counted
    const late = s.failures().filter((f) => f.partitionKey === 'u');
    expect(late.map((f) => [f.reason, f.elements, f.elementCount])).toEqual([['LATE', [0, 1], 2]]);
    const kept = [...dedupedByIdentity(late).values()];
    expect(kept.map((f) => [f.reason, f.elements, f.elementCount])).toEqual([['LATE', [0, 1], 2]]);
  });

  it('sliced: a record whose two slices are refused in two steps (one sealed behind the watermark, one by a concurrent closer) is one failure naming both elements', async () => {
    // GIVEN 1-minute windows of a pipeline whose records fan out into two views, 3 minutes apart
    const definition = pipeline(uniqueName('fan-slices'))
      .from('clicks', { schema: pageViews.schema })
      .flatMap((e) => [
        { ...e, ts: Number(e.ts) },
        { ...e, ts: Number(e.ts) + 3 * MIN },
      ])
      .keyBy((e) => e.page)
      .window(tumbling('1m'), { eventTime: (e) => e.ts })
      .aggregate({ views: count() })
      .emit('final')
      .to('fan-slices-out') as unknown as AnyWindowedPipelineDefinition;
    const { dynamodb, tableName } = testbed();
    const now = T0 + 10 * MIN;
    // Another instance (the closer of a window that another shard's watermark made due) seals
    // slice [10:03, 10:04) just before this handler's first lane transaction.
    const closer = createPipelineStore(definition, {
      client: dynamodb,
      tableName,
      clock: () => now,
    });
    let armed = false;
    const client: DynamoDBSender = {
      // biome-ignore lint/suspicious/noExplicitAny: forwards any command
      send: (async (command: any) => {
        if (armed && command instanceof TransactWriteItemsCommand) {
          armed = false;
          await closer.sealSlices([{ key: '/home', start: T0 + 3 * MIN, end: T0 + 4 * MIN }], MIN);
        }
        return dynamodb.send(command);
      }) as DynamoDBSender['send'],
    };
    const failureSink = recordingSink();
    const handler = createWindowedHandler(definition, {
      store: createPipelineStore(definition, {
        client: client as never,
        tableName,
        clock: () => now,
      }),
      outputSink: recordingSink(),
      failureSink,
      clock: () => now,
      tailProbe: async () => true,
      openShards: null,
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    // a view of 10:01:30 (and 10:04:30) moves the committed watermark to 10:01
    await handler(
      kinesisEventFactory(records([{ shard: 0, userId: 'a', ts: T0 + MIN + 30 * SEC }])),
    );
    // WHEN a view of 10:00:10 arrives: element 0 (slice [10:00, 10:01)) is behind the committed
    // watermark, element 1 (slice [10:03, 10:04)) is sealed by the concurrent closer
    armed = true;
    await handler(
      kinesisEventFactory(
        records([{ shard: 0, userId: 'u', ts: T0 + 10 * SEC, arrival: T0 + 2 * MIN }]),
      ),
    );
    expect(armed).toBe(false);
    // THEN a reader taking the union per (shardId, sequenceNumber, reason) learns both elements
    // were not counted, and so does one keeping the last failure sent
    const late = failureSink.sent
      .map((r) => parsed<Record<string, unknown>>(r.data))
      .filter((f) => f.partitionKey === 'u');
    const kept = [...dedupedByIdentity(late).values()];
    expect(kept.map((f) => [f.reason, f.elements, f.elementCount])).toEqual([['LATE', [0, 1], 2]]);
    expect(late.at(-1)?.elements).toEqual([0, 1]);
  });
});
