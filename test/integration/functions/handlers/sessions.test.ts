import {
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { userSessions } from '#pipelines/sessions';
import type { AnyWindowedPipelineDefinition, WindowResult } from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import { kinesisEventFactory } from '#test/helpers/kinesisFactories';
import {
  type ClickEvent,
  FaultyDynamo,
  FaultyKinesis,
  lateRecords,
  sessionOracle,
  silentLogger,
  silentMetrics,
  toShardRecords,
  useHandlerTestbed,
} from './harness';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;
const GAP = 30 * MIN;
let names = 0;
const OUTPUT = `user-sessions-${process.pid}`;
const FAILURES = `session-failures-${process.pid}`;
const testbed = useHandlerTestbed('sessions', [OUTPUT, FAILURES]);

const click = (
  shard: number,
  userId: string,
  minute: number,
  type: ClickEvent['type'] = 'page_view',
): ClickEvent => ({ shard, type, page: '/home', userId, ts: T0 + minute * MIN });

/** A sessions pipeline under a fresh name, its handler and sweeper, capturing what they send. */
function setup(
  options: { maxItemBytes?: number; clock?: () => number; emit?: 'final' | 'update' } = {},
) {
  const definition: AnyWindowedPipelineDefinition = {
    ...userSessions,
    name: `sessions-${process.pid}-${names++}`,
    emit: options.emit ?? userSessions.emit,
  };
  const { dynamodb, kinesis, tableName } = testbed();
  const faults = new FaultyDynamo(dynamodb);
  const out = new FaultyKinesis(kinesis);
  const sink = (streamName: string, ordered: boolean) =>
    new KinesisSink({ streamName, client: out.asClient(), ordered, sleep: async () => undefined });
  let now = T0;
  const clock = options.clock ?? (() => now);
  const stores = () => ({
    store: createPipelineStore(definition, { client: faults.asClient(), tableName, dueBuckets: 2 }),
    sessionStore: createSessionStore(definition, {
      client: faults.asClient(),
      tableName,
      dueBuckets: 2,
      maxItemBytes: options.maxItemBytes,
    }),
  });
  // Every record of these tests is delivered before its shard goes silent: Kinesis would answer
  // that the shard is caught up.
  const tailProbe = async (): Promise<boolean> => true;
  const handler = createWindowedHandler(definition, {
    ...stores(),
    outputSink: sink(OUTPUT, true),
    failureSink: sink(FAILURES, false),
    clock,
    logger: silentLogger(),
    metrics: silentMetrics(),
    tailProbe,
  });
  const { store, sessionStore } = stores();
  const sweeper = createSweeperHandler([definition], {
    stores: { [definition.name]: store },
    sessionStores: { [definition.name]: sessionStore },
    outputSinks: { [definition.name]: sink(OUTPUT, true) },
    clock,
    logger: silentLogger(),
    metrics: silentMetrics(),
    repairAfterMs: 0,
    tailProbe,
  });
  const finals = (): WindowResult[] =>
    out.accepted
      .filter((a) => a.stream === OUTPUT)
      .map((a) => a.data as WindowResult)
      .filter((r) => r.pipeline === definition.name && r.final);
  const updates = (): WindowResult[] =>
    out.accepted
      .filter((a) => a.stream === OUTPUT)
      .map((a) => a.data as WindowResult)
      .filter((r) => r.pipeline === definition.name && !r.final);
  const late = (): string[] => lateRecords(out.accepted, FAILURES, definition.name);

  /** LATE failure detail by record (`shardId:sequenceNumber`): the first one reported. */
  const lateDetails = (): Map<string, string> => {
    const details = new Map<string, string>();
    for (const a of out.accepted) {
      if (a.stream !== FAILURES) continue;
      const f = a.data as { pipeline: string; reason: string; detail: string } & Record<
        string,
        string
      >;
      const id = `${f.shardId}:${f.sequenceNumber}`;
      if (f.pipeline === definition.name && f.reason === 'LATE' && !details.has(id))
        details.set(id, f.detail);
    }
    return details;
  };
  const deliver = (records: readonly KinesisStreamRecord[]) =>
    handler(kinesisEventFactory(records));
  return {
    definition,
    faults,
    handler,
    sweeper,
    deliver,
    finals,
    updates,
    late,
    lateDetails,
    setNow: (t: number) => {
      now = t;
    },
  };
}

/** The sort keys of a pipeline key's session items. */
async function sessionItems(pipelineName: string, key: string): Promise<string[]> {
  const { dynamodb, tableName } = testbed();
  const out = await dynamodb.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :x)',
      ExpressionAttributeValues: { ':pk': { S: `${pipelineName}#K#${key}` }, ':x': { S: 'X#0' } },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((item) => item.sk?.S ?? '');
}

const summary = (results: readonly WindowResult[]) =>
  results
    .map((r) => ({ key: r.key, start: r.window.start, end: r.window.end, values: r.values }))
    .sort((a, b) => (a.key + a.start < b.key + b.start ? -1 : 1));

describe('createWindowedHandler with session windows (sessions pipeline)', () => {
  it('merges a user session across batches and emits it once the watermark passes last event + gap', async () => {
    // GIVEN u1 active at 0, 10 (batch 1) and 25 minutes (batch 2), one shard
    const s = setup();
    const [records] = toShardRecords(
      [click(0, 'u1', 0), click(0, 'u1', 10, 'click'), click(0, 'u1', 25), click(0, 'u2', 120)],
      1,
    ) as [KinesisStreamRecord[]];

    // WHEN the batches arrive, the last one moving event time to 2 h
    await s.deliver(records.slice(0, 2));
    await s.deliver(records.slice(2, 3));
    expect(s.finals()).toEqual([]);
    await s.deliver(records.slice(3));

    // THEN one final session [0, 25 + 30) with 2 page views, 1 click, 25 min duration
    expect(summary(s.finals())).toEqual([
      {
        key: 'u1',
        start: new Date(T0).toISOString(),
        end: new Date(T0 + 55 * MIN).toISOString(),
        values: { pages: 2, clicks: 1, durationMs: 25 * MIN },
      },
    ]);
    expect(s.finals()[0]?.id).toBe(
      sessionOracle(s.definition.name, GAP, [records.slice(0, 3)], new Set())
        .keys()
        .next().value,
    );
  }, 60_000);

  it('merges one user session fed by two shards, also when invocations run concurrently', async () => {
    // GIVEN u1 on shard 0 at 0 and 45 min, on shard 1 at 20 min: one session 0 .. 75 min; both
    // shards have reported (u8 at 0) — without a shard lister, a shard that has not reported yet
    // cannot hold the watermark, and that start-up race is not what this test is about
    const s = setup();
    const [a, b] = toShardRecords(
      [
        click(0, 'u8', 0),
        click(1, 'u8', 0),
        click(0, 'u1', 0),
        click(1, 'u1', 20, 'click'),
        click(0, 'u1', 45),
      ],
      2,
    ) as [KinesisStreamRecord[], KinesisStreamRecord[]];
    await s.deliver(a.slice(0, 1));
    await s.deliver(b.slice(0, 1));
    const [a2, b2] = toShardRecords([click(0, 'u9', 200), click(1, 'u9', 200)], 2) as [
      KinesisStreamRecord[],
      KinesisStreamRecord[],
    ];

    // WHEN both shards deliver at the same time, then both move event time far ahead
    await Promise.all([s.deliver(a.slice(1)), s.deliver(b.slice(1))]);
    await Promise.all([s.deliver(a2.map(renumber(10))), s.deliver(b2.map(renumber(10)))]);

    // THEN exactly one u1 session with all three events
    expect(summary(s.finals().filter((r) => r.key === 'u1'))).toEqual([
      {
        key: 'u1',
        start: new Date(T0).toISOString(),
        end: new Date(T0 + 75 * MIN).toISOString(),
        values: { pages: 2, clicks: 1, durationMs: 45 * MIN },
      },
    ]);
  }, 60_000);

  it('replaces two stored sessions by the merged one when an out-of-order event bridges them', async () => {
    // GIVEN u1 sessions [0, 30) and [40, 70) stored by one batch of shard 0, while shard 1 (at
    // event time 0) holds the watermark back
    const s = setup();
    const [a, b] = toShardRecords(
      [
        click(0, 'u1', 0),
        click(0, 'u1', 40),
        click(1, 'u2', 0),
        click(0, 'u1', 20, 'click'),
        click(0, 'u3', 200),
        click(1, 'u3', 200),
      ],
      2,
    ) as [KinesisStreamRecord[], KinesisStreamRecord[]];
    await s.deliver(b.slice(0, 1));
    await s.deliver(a.slice(0, 2));
    const before = await sessionItems(s.definition.name, 'u1');

    // WHEN an event at 20 min arrives (touches both: 20 <= 0 + 30 and 40 <= 20 + 30)
    await s.deliver(a.slice(2, 3));
    const after = await sessionItems(s.definition.name, 'u1');
    await s.deliver(a.slice(3));
    await s.deliver(b.slice(1));

    // THEN the two items became one, atomically, and one session is emitted
    expect(before).toHaveLength(2);
    expect(after).toHaveLength(1);
    expect(s.late()).toEqual([]);
    expect(summary(s.finals().filter((r) => r.key === 'u1'))).toEqual([
      {
        key: 'u1',
        start: new Date(T0).toISOString(),
        end: new Date(T0 + 70 * MIN).toISOString(),
        values: { pages: 2, clicks: 1, durationMs: 40 * MIN },
      },
    ]);
  }, 60_000);

  it('changes nothing twice under crashes, whole and partial replays, bisects and duplicates', async () => {
    // GIVEN 8 events of two users on one shard
    const s = setup();
    const events = [0, 5, 12, 50, 55, 58, 90, 95].map((m, i) =>
      click(0, i % 2 === 0 ? 'u1' : 'u2', m, i % 3 === 0 ? 'click' : 'page_view'),
    );
    const [records] = toShardRecords([...events, click(0, 'u3', 400)], 1) as [
      KinesisStreamRecord[],
    ];
    const body = records.slice(0, 8);

    // WHEN the first batch crashes right after its first transaction took effect, is retried
    // bisected, replayed from the middle, and delivered twice at once
    s.faults.arm(1, true);
    await expect(s.deliver(body.slice(0, 6))).rejects.toThrow('injected crash');
    await s.deliver(body.slice(0, 3));
    await s.deliver(body.slice(3, 6));
    await s.deliver(body.slice(4, 6));
    await Promise.all([s.deliver(body.slice(2)), s.deliver(body.slice(2))]);
    await s.deliver(body);
    await s.deliver(records.slice(8));

    // THEN every session is emitted once per closer with the oracle's values
    const expected = sessionOracle(s.definition.name, GAP, [body], new Set());
    const finals = s.finals();
    expect(new Set(finals.map((r) => r.id))).toEqual(new Set(expected.keys()));
    for (const r of finals) expect(r.values).toEqual(expected.get(r.id)?.values);
    expect(finals).toHaveLength(expected.size);
  }, 60_000);

  it('refuses as LATE a record within the gap of a closed session, or whose gap ends behind the watermark, and only those', async () => {
    // GIVEN u1's session [0, 30) closed and emitted (shard 0 event time at 100 min: the
    // committed watermark is at 100 min)
    const s = setup();
    const [records] = toShardRecords(
      [
        click(0, 'u1', 0),
        click(0, 'u2', 100),
        click(0, 'u1', 20), // touches the closed session [0, 30): LATE
        click(0, 'u1', 31), // touches no open session, and its own ends at 61 <= 100: LATE
        click(0, 'u1', 71), // its gap ends at 101 > 100: a session of its own
        click(0, 'u2', 300),
      ],
      1,
    ) as [KinesisStreamRecord[]];
    await s.deliver(records.slice(0, 2));
    expect(s.finals()).toHaveLength(1);

    // WHEN the late records arrive (twice: a retry must not count them)
    await s.deliver(records.slice(2, 5));
    await s.deliver(records.slice(2, 5));
    await s.deliver(records.slice(5));

    // THEN the records at 20 and 31 min are LATE, each with its reason; the one at 71 min forms a
    // session of its own
    const id = (i: number) => (records[i] as KinesisStreamRecord).eventID;
    expect(new Set(s.late())).toEqual(new Set([id(2), id(3)]));
    expect(s.lateDetails()).toEqual(
      new Map([
        [id(2), expect.stringContaining('was already closed')],
        [id(3), expect.stringContaining('at or before the committed watermark')],
      ]),
    );
    expect(summary(s.finals().filter((r) => r.key === 'u1'))).toEqual([
      {
        key: 'u1',
        start: new Date(T0).toISOString(),
        end: new Date(T0 + 30 * MIN).toISOString(),
        values: { pages: 1, clicks: 0, durationMs: 0 },
      },
      {
        key: 'u1',
        start: new Date(T0 + 71 * MIN).toISOString(),
        end: new Date(T0 + 101 * MIN).toISOString(),
        values: { pages: 1, clicks: 0, durationMs: 0 },
      },
    ]);
  }, 60_000);

  it('closes idle sessions through the sweeper and re-emits one whose closer crashed', async () => {
    // GIVEN two users' sessions and a closer that crashes right after sealing one
    let now = T0 + 10 * MIN;
    const s = setup({ clock: () => now });
    const [records] = toShardRecords([click(0, 'u1', 0), click(0, 'u2', 5)], 1) as [
      KinesisStreamRecord[],
    ];
    await s.deliver(records);

    // WHEN the shard stays idle, the first sweep crashes after its first seal, a later one runs
    now = T0 + 3 * 60 * MIN;
    s.faults.arm(2, true); // 1: the commit of the watermark (a whole minute here), 2: the first seal
    await expect(s.sweeper()).rejects.toThrow('injected crash');
    const reports = await s.sweeper();

    // THEN both sessions are emitted (the crashed one by repair), with the same values
    expect(reports[0]).toMatchObject({ closed: 1, repaired: 1 });
    expect(summary(s.finals()).map((r) => r.key)).toEqual(['u1', 'u2']);
  }, 60_000);

  it("with emit('update') previews each open session the batch wrote, then emits it final", async () => {
    // GIVEN a sessions pipeline emitting updates
    const s = setup({ emit: 'update' });
    const [records] = toShardRecords(
      [click(0, 'u1', 0), click(0, 'u1', 10, 'click'), click(0, 'u2', 100)],
      1,
    ) as [KinesisStreamRecord[]];

    // WHEN two batches grow u1's session, a third closes it
    await s.deliver(records.slice(0, 1));
    await s.deliver(records.slice(1, 2));
    await s.deliver(records.slice(2));

    // THEN one preview per batch (the session's end moving), then the final result
    expect(
      s
        .updates()
        .filter((r) => r.key === 'u1')
        .map((r) => [r.window.end, r.values]),
    ).toEqual([
      [new Date(T0 + 30 * MIN).toISOString(), { pages: 1, clicks: 0, durationMs: 0 }],
      [new Date(T0 + 40 * MIN).toISOString(), { pages: 1, clicks: 1, durationMs: 10 * MIN }],
    ]);
    expect(summary(s.finals()).map((r) => [r.key, r.values])).toEqual([
      ['u1', { pages: 1, clicks: 1, durationMs: 10 * MIN }],
    ]);
  }, 60_000);

  it('costs one Query and one transaction per touched key on a first delivery', async () => {
    // GIVEN 40 events of 8 users in one batch
    const s = setup();
    const [records] = toShardRecords(
      Array.from({ length: 40 }, (_, i) => click(0, `u${i % 8}`, Math.floor(i / 8))),
      1,
    ) as [KinesisStreamRecord[]];
    const transactions = countTransactions(s.faults);

    // WHEN
    const started = Date.now();
    await s.deliver(records);
    const elapsed = Date.now() - started;

    // THEN 8 transactions plus the shard's watermark and position (1 UpdateItem) and the commit of
    // the watermark (to the minute: 1 UpdateItem); a replay writes no session state, only the
    // watermark's processedAt (2 UpdateItems: the watermark-and-position write fails its condition
    // and returns the item, which shows only processedAt may move), and commits nothing new
    expect(transactions()).toEqual({ transactions: 8, updates: 2 });
    await s.deliver(records);
    expect(transactions()).toEqual({ transactions: 8, updates: 4 });
    console.log(`sessions: 40 events / 8 keys applied in ${elapsed} ms`);
  }, 60_000);
});

/** Counts the TransactWriteItems and UpdateItem requests going through a FaultyDynamo. */
function countTransactions(faults: FaultyDynamo) {
  const counts = { transactions: 0, updates: 0 };
  const send = faults.send.bind(faults);
  faults.send = async (command) => {
    if (command instanceof TransactWriteItemsCommand) counts.transactions++;
    if (command instanceof UpdateItemCommand) counts.updates++;
    return send(command);
  };
  return () => ({ ...counts });
}

/** Gives records sequence numbers after the ones `toShardRecords` gave a first list. */
function renumber(offset: number) {
  return (record: KinesisStreamRecord): KinesisStreamRecord => {
    const sequenceNumber = String(BigInt(record.kinesis.sequenceNumber) + BigInt(offset * 7));
    const shardId = record.eventID.split(':')[0] as string;
    return {
      ...record,
      kinesis: { ...record.kinesis, sequenceNumber },
      eventID: `${shardId}:${sequenceNumber}`,
    };
  };
}
