import type { KinesisStreamRecord } from 'aws-lambda';
import { pageViews } from '#pipelines/page-views';
import { userSessions } from '#pipelines/sessions';
import {
  type AnyWindowedPipelineDefinition,
  count,
  pipeline,
  resultId,
  session,
  topK,
  tumbling,
} from '#runtime/index';
import type { ShardTailProbe } from '#state/index';
import { playTtl } from '#test/helpers/playTtl';
import { DAY, MIN, SEC, T0, useEventTimeTestbed, type View, valuesById } from './eventTimeTestbed';

/**
 * One regression test per event-time finding of issue 13, each at the level a user sees: the
 * handler, the sweeper and the store on DynamoDB Local, driven by a simulated clock.
 */

const { testbed, records, setup } = useEventTimeTestbed('event-time');

const decoded = (failure: Record<string, unknown>): Record<string, unknown> =>
  JSON.parse(Buffer.from(String(failure.data), 'base64').toString('utf8'));

describe('event time (issue 13 findings)', () => {
  it('finding 1: nine days of silence (TTL played) do not re-open an emitted window; the straggler is refused with its own reason', async () => {
    // GIVEN page-views: three views of /home in [10:00, 10:01), then one at 10:02 closing it
    const { dynamodb, tableName } = testbed();
    const s = setup(pageViews);
    s.setNow(T0 + 2 * MIN);
    await s.handle([
      { shard: 0, userId: 'a', ts: T0 + 10 * SEC },
      { shard: 0, userId: 'b', ts: T0 + 20 * SEC },
      { shard: 0, userId: 'c', ts: T0 + 30 * SEC },
      { shard: 0, userId: 'd', page: '/other', ts: T0 + 2 * MIN },
    ]);
    const id = resultId(s.definition.name, '/home', { start: T0, end: T0 + MIN }, true);
    expect(s.finals().find((r) => r.id === id)?.values).toEqual({ views: 3, users: 3 });

    // WHEN the sweeper closes what is left, then nine days pass without traffic (a sweep a day),
    // and TTL deletes whatever expired by then
    s.setNow(T0 + 10 * MIN);
    await s.sweep();
    for (let day = 1; day <= 9; day++) {
      s.setNow(T0 + day * DAY);
      await s.sweep();
    }
    await playTtl(dynamodb, tableName, T0 + 9 * DAY);
    // and a straggler of 10:00:40 arrives, then the pipeline sweeps again
    s.setNow(T0 + 9 * DAY + MIN);
    await s.handle([{ shard: 0, userId: 'e', ts: T0 + 40 * SEC, arrival: T0 + 9 * DAY }]);
    s.setNow(T0 + 9 * DAY + 5 * MIN);
    await s.sweep();

    // THEN the id was emitted with one set of values only, and the straggler is in the failures
    expect([...(valuesById(s.finals()).get(id) ?? [])]).toEqual([
      JSON.stringify({ views: 3, users: 3 }),
    ]);
    const refused = s.failures().filter((f) => decoded(f).userId === 'e');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toBe('EXPIRED');
  });

  it('finding 2: one producer clock 14 minutes ahead does not make other shards’ on-time records LATE', async () => {
    // GIVEN two shards; shard 1 gets one record dated 14 min after its arrival
    const s = setup(pageViews);
    s.setNow(T0 + 5 * SEC);
    await s.handle([{ shard: 0, userId: 'a', ts: T0, arrival: T0 }]);
    await s.handle([{ shard: 1, userId: 'b', ts: T0 + 14 * MIN, arrival: T0 }]);
    // WHEN both shards go idle and the sweeper runs
    s.setNow(T0 + 2 * MIN);
    await s.sweep();
    // and a record 5 s old arrives on shard 0
    s.setNow(T0 + 2 * MIN + 10 * SEC);
    await s.handle([{ shard: 0, userId: 'c', ts: T0 + 2 * MIN, arrival: T0 + 2 * MIN + 5 * SEC }]);
    // THEN it is not refused, and it is counted once its window closes
    expect(s.failures().filter((f) => f.reason === 'LATE')).toEqual([]);
    s.setNow(T0 + 20 * MIN);
    await s.sweep();
    const window = { start: T0 + 2 * MIN, end: T0 + 3 * MIN };
    const id = resultId(s.definition.name, '/home', window, true);
    expect(s.finals().find((r) => r.id === id)?.values).toEqual({ views: 1, users: 1 });
  });

  it('finding 3: a shard whose records are all filtered out does not stop the handler from closing windows', async () => {
    // GIVEN two open shards (the stream is read from TRIM_HORIZON); shard 1 carries only clicks
    const views: View[] = [
      { shard: 0, userId: 'a', ts: T0 + 10 * SEC },
      { shard: 1, userId: 'b', type: 'click', ts: T0 + 11 * SEC },
      { shard: 0, userId: 'c', ts: T0 + 2 * MIN },
    ];
    const all = records(views);
    const last = new Map<string, string>();
    for (const r of all) last.set(r.eventID.split(':')[0] as string, r.kinesis.sequenceNumber);
    // Kinesis: a shard read to its last record is caught up; from its start, it has records.
    const tailProbe: ShardTailProbe = async ({ shardId, sequenceNumber }) =>
      sequenceNumber !== undefined && BigInt(sequenceNumber) >= BigInt(last.get(shardId) ?? 0);
    const s = setup(pageViews, {
      tailProbe,
      openShards: async () => [
        { shardId: 'shardId-000000000000', parents: [] },
        { shardId: 'shardId-000000000001', parents: [] },
      ],
    });
    s.setNow(T0 + 2 * MIN);
    // WHEN shard 1's batch (clicks only), then shard 0's batches are handled
    await s.deliver([all[1] as KinesisStreamRecord]);
    await s.deliver([all[0] as KinesisStreamRecord]);
    await s.deliver([all[2] as KinesisStreamRecord]);
    // THEN the handler itself closed [10:00, 10:01) (watermark 10:01:30), no sweeper needed
    const id = resultId(s.definition.name, '/home', { start: T0, end: T0 + MIN }, true);
    expect(s.finals().find((r) => r.id === id)?.values).toEqual({ views: 1, users: 1 });
  });

  it('finding 5: a session record inside a still-open session joins it', async () => {
    // GIVEN user u1's open session [10:00, 11:40) and u2's session closed at watermark 11:10
    const s = setup(userSessions);
    s.setNow(T0 + 2 * 60 * MIN);
    await s.handle([
      { shard: 0, userId: 'u2', ts: T0 - 60 * MIN },
      { shard: 0, userId: 'u1', ts: T0 },
      { shard: 0, userId: 'u1', ts: T0 + 20 * MIN },
      { shard: 0, userId: 'u1', ts: T0 + 40 * MIN },
      { shard: 0, userId: 'u1', ts: T0 + 60 * MIN },
      { shard: 0, userId: 'u1', ts: T0 + 70 * MIN },
    ]);
    expect(s.finals().map((r) => r.key)).toEqual(['u2']);
    // WHEN a record of 10:10 arrives for u1
    await s.handle([{ shard: 0, userId: 'u1', ts: T0 + 10 * MIN, arrival: T0 + 71 * MIN }]);
    // THEN it is not refused, and the session counts 6 pages
    expect(s.failures()).toEqual([]);
    s.setNow(T0 + 5 * 60 * MIN);
    await s.sweep();
    const u1 = s.finals().filter((r) => r.key === 'u1');
    expect(u1.map((r) => [r.window, r.values.pages])).toEqual([
      [
        {
          start: new Date(T0).toISOString(),
          end: new Date(T0 + 100 * MIN).toISOString(),
        },
        6,
      ],
    ]);
  });

  it('finding 6: a fanned-out record names exactly the elements that were not counted', async () => {
    // GIVEN a pipeline whose records fan out into two views at different times
    const fanOut = pipeline('fan-out')
      .from('clicks', { schema: pageViews.schema })
      .flatMap((e) => [
        { ...e, ts: Number(e.ts) },
        { ...e, ts: Number(e.ts) + 3 * MIN },
      ])
      .keyBy((e) => e.page)
      .window(tumbling('1m'), { eventTime: (e) => e.ts, maxOutOfOrderness: '30s' })
      .aggregate({ views: count() })
      .emit('final')
      .to('fan-out-counts') as unknown as AnyWindowedPipelineDefinition;
    const s = setup(fanOut);
    s.setNow(T0 + 5 * MIN);
    // [10:00, 10:01) and [10:03, 10:04) get a view; the watermark reaches 10:03:30: the first closes
    await s.handle([{ shard: 0, userId: 'a', ts: T0 + 10 * SEC }]);
    await s.handle([{ shard: 0, userId: 'b', ts: T0 + MIN, arrival: T0 + 4 * MIN }]);
    // WHEN a record of 10:00:20 arrives: its first element's window is closed, its second is open
    await s.handle([{ shard: 0, userId: 'c', ts: T0 + 20 * SEC, arrival: T0 + 4 * MIN }]);
    // THEN the failure names element 0 only, and element 1 is counted in [10:03, 10:04)
    const late = s.failures().filter((f) => decoded(f).userId === 'c');
    expect(late.map((f) => [f.reason, f.elements, f.elementCount])).toEqual([['LATE', [0], 2]]);
    s.setNow(T0 + 30 * MIN);
    await s.sweep();
    const id = resultId(
      s.definition.name,
      '/home',
      { start: T0 + 3 * MIN, end: T0 + 4 * MIN },
      true,
    );
    expect(s.finals().find((r) => r.id === id)?.values).toEqual({ views: 2 });
  });

  it('also checked: a session that would outgrow its item refuses exactly the records it cannot hold (STATE_TOO_LARGE), and no batch fails', async () => {
    // GIVEN sessions that keep the top pages of a user (their names), items limited to 2,000 bytes
    const pages = pipeline('pages')
      .from('clicks', { schema: pageViews.schema })
      .keyBy((e) => e.userId)
      .window(session('30m'), { eventTime: (e) => e.ts })
      .aggregate({ pages: topK(5, (e) => e.page) })
      .emit('final')
      .to('user-pages') as unknown as AnyWindowedPipelineDefinition;
    const s = setup(pages, { maxItemBytes: 2_000 });
    s.setNow(T0 + MIN);
    const big = (n: number) => `/${String(n).repeat(1_200)}`;
    // WHEN u1 views a page, then two long-named ones (the session would not fit), twice over
    await s.handle([{ shard: 0, userId: 'u1', ts: T0, page: '/home' }]);
    const views: View[] = [
      { shard: 0, userId: 'u1', ts: T0 + 1_000, page: big(1) },
      { shard: 0, userId: 'u1', ts: T0 + 2_000, page: big(2) },
    ];
    const batch = records(views);
    await expect(s.deliver(batch)).resolves.toEqual({ batchItemFailures: [] });
    await s.deliver(batch);
    // THEN those two are refused with their reason, and the session holds the first view only
    expect(
      [...new Set(s.failures().map((f) => `${f.reason}:${String(f.sequenceNumber)}`))].sort(),
    ).toEqual(batch.map((r) => `STATE_TOO_LARGE:${r.kinesis.sequenceNumber}`).sort());
    s.setNow(T0 + 2 * 60 * MIN);
    await s.sweep();
    expect(s.finals().map((r) => r.values)).toEqual([{ pages: [{ value: '/home', count: 1 }] }]);
  });

  it.each([
    ['page-views', pageViews as AnyWindowedPipelineDefinition],
    ['sessions', userSessions as AnyWindowedPipelineDefinition],
  ])(
    'finding 7 (%s): an event time far in the past is refused at once as BAD_EVENT_TIME, never fails the batch',
    async (_name, base) => {
      // GIVEN a valid record and one dated ts = -1e12 (1938)
      const s = setup(base);
      s.setNow(T0 + MIN);
      // WHEN the batch is handled
      await expect(
        s.handle([
          { shard: 0, userId: 'a', ts: T0 },
          { shard: 0, userId: 'b', ts: -1e12, arrival: T0 },
          // issue 17, finding 9: an ISO date before 1970
          { shard: 0, userId: 'c', ts: '1969-12-31T23:59:59Z', arrival: T0 },
        ]),
      ).resolves.toEqual({ batchItemFailures: [] });
      // THEN the old records are refused with their reason, the other is processed
      expect(s.failures().map((f) => [decoded(f).userId, f.reason])).toEqual([
        ['b', 'BAD_EVENT_TIME'],
        ['c', 'BAD_EVENT_TIME'],
      ]);
    },
  );
});
