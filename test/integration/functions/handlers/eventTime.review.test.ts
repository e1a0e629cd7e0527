import { STARTING_POSITION_VARIABLE, startingPositionVariable } from '#commons/environment';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import type { SweepReport } from '#handlers/types';
import { pageViews } from '#pipelines/page-views';
import { userSessions } from '#pipelines/sessions';
import {
  type AnyWindowedPipelineDefinition,
  count,
  hopping,
  pipeline,
  resultId,
  session,
  tumbling,
  type WindowResult,
} from '#runtime/index';
import { MAX_BYTES_PER_RECORD } from '#sinks/index';
import type { OpenShardLister, ReadWatermarkOptions, ShardTailProbe } from '#state/index';
import { EventTimeModel, type LogEntry, type ModelShard } from '#test/helpers/eventTimeModel';
import { recordingSink } from '#test/helpers/handlerStubs';
import { kinesisEventFactory } from '#test/helpers/kinesisFactories';
import { playTtl } from '#test/helpers/playTtl';
import { DAY, MIN, parsed, SEC, T0, useEventTimeTestbed, valuesById } from './eventTimeTestbed';
import { silentLogger, silentMetrics } from './harness';

/**
 * Regression tests of the adversarial review of issue 13's event-time implementation (R1–R10):
 * each scenario once demonstrated a defect, and now asserts the correct behaviour — at the level
 * a user sees (the handler, the sweeper and the store on DynamoDB Local, driven by a simulated
 * clock), or on the reference model (`EventTimeModel`).
 */

const FAILURE_STREAM = `review-failures-${process.pid}`;
const { testbed, records, uniqueName, setup } = useEventTimeTestbed('review', FAILURE_STREAM);

/** The ids that were emitted with more than one set of values. */
const emittedTwice = (finals: readonly WindowResult[]): string[] =>
  [...valuesById(finals)].filter(([, values]) => values.size > 1).map(([id]) => id);

/** `[window start, values]` of each distinct final result of `key`, by window start. */
const windowsOf = (finals: readonly WindowResult[], key: string): Array<[number, unknown]> =>
  [
    ...new Map(
      finals
        .filter((r) => r.key === key)
        .map((r) => [r.id, [Date.parse(r.window.start), r.values] as [number, unknown]]),
    ).values(),
  ].sort((a, b) => a[0] - b[0]);

/** How many elements a failure record says were not counted, whichever form it uses. */
function notCounted(failure: Record<string, unknown>): number | undefined {
  if (Array.isArray(failure.elements)) return failure.elements.length;
  if (Array.isArray(failure.elementRanges)) {
    return (failure.elementRanges as Array<[number, number]>).reduce(
      (sum, [first, last]) => sum + last - first + 1,
      0,
    );
  }
  return failure.elementsNotCounted as number | undefined;
}

/** Runs `fn` with `variables` set in `process.env` (`undefined`: unset), then restores them. */
async function withEnv<T>(
  variables: Readonly<Record<string, string | undefined>>,
  fn: () => T | Promise<T>,
): Promise<T> {
  const before = Object.fromEntries(Object.keys(variables).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(variables);
  try {
    return await fn();
  } finally {
    apply(before);
  }
}

describe('event-time review: liveness of the watermark', () => {
  it('R1: a shard that sends only filtered records after one counted view stops holding the watermark once idle; after 8 days and TTL every counted view is in an emitted result', async () => {
    // GIVEN shard 1: one page view at 10:00, then only clicks (filtered out by page-views), one a
    // minute; shard 0: page views on /home at 10:01:10 .. 10:29:10, one a minute
    const { dynamodb, tableName } = testbed();
    const s = setup(pageViews);
    s.setNow(T0 + 5 * SEC);
    await s.handle([{ shard: 1, userId: 'x', ts: T0 }]);

    // WHEN 30 minutes of that are handled, with a sweep a minute
    for (let m = 1; m < 30; m++) {
      s.setNow(T0 + m * MIN + 15 * SEC);
      await s.handle([{ shard: 0, userId: `u${m}`, ts: T0 + m * MIN + 10 * SEC }]);
      await s.handle([{ shard: 1, userId: 'x', type: 'click', ts: T0 + m * MIN }]);
      await s.sweep();
    }
    const reports = (await s.sweep()) as SweepReport[];

    // THEN shard 1 (element-less batches do not refresh it) is idle: the watermark is shard 0's
    // clock, 10:29:10 − 30 s, and every window up to [10:27, 10:28) closed
    expect(reports[0]?.watermark).toBe(T0 + 28 * MIN + 40 * SEC);
    expect(windowsOf(s.finals(), '/home')).toEqual(
      Array.from({ length: 28 }, (_, m) => [T0 + m * MIN, { views: 1, users: 1 }]),
    );

    // WHEN eight days of the same follow (a click on shard 1 before each daily sweep), TTL is
    // played at day 8, and the pipeline sweeps again
    for (let day = 1; day <= 8; day++) {
      s.setNow(T0 + day * DAY);
      await s.handle([{ shard: 1, userId: 'x', type: 'click', ts: T0 + day * DAY }]);
      await s.sweep();
    }
    await playTtl(dynamodb, tableName, T0 + 8 * DAY);
    s.setNow(T0 + 8 * DAY + 10 * MIN);
    await s.sweep();

    // THEN each of the 30 views counted is in exactly one emitted window, nothing was refused
    expect(windowsOf(s.finals(), '/home')).toEqual(
      Array.from({ length: 30 }, (_, m) => [T0 + m * MIN, { views: 1, users: 1 }]),
    );
    expect(emittedTwice(s.finals())).toEqual([]);
    expect(s.failures()).toEqual([]);
  });

  it("R1b: with a producer clock more than 15 minutes fast (its later records FUTURE_EVENT_TIME), that shard stops holding the watermark and the other shard's windows close", async () => {
    // GIVEN shard 1: one valid view at 10:00, then records dated 20 minutes after their arrival
    const s = setup(pageViews);
    s.setNow(T0 + 5 * SEC);
    await s.handle([{ shard: 1, userId: 'x', ts: T0 }]);

    // WHEN 30 minutes of that, and of shard 0's views, are handled with a sweep a minute
    for (let m = 1; m < 30; m++) {
      s.setNow(T0 + m * MIN + 15 * SEC);
      await s.handle([{ shard: 0, userId: `u${m}`, ts: T0 + m * MIN + 10 * SEC }]);
      await s.handle([{ shard: 1, userId: 'x', ts: T0 + (m + 20) * MIN, arrival: T0 + m * MIN }]);
      await s.sweep();
    }
    const reports = (await s.sweep()) as SweepReport[];

    // THEN shard 1's future records are refused, and the watermark is shard 0's clock
    // (10:29:10 − 30 s): every window up to [10:27, 10:28) closed
    expect(s.failures().map((f) => f.reason)).toEqual(Array(29).fill('FUTURE_EVENT_TIME'));
    expect(reports[0]?.watermark).toBe(T0 + 28 * MIN + 40 * SEC);
    expect(windowsOf(s.finals(), '/home')).toEqual(
      Array.from({ length: 28 }, (_, m) => [T0 + m * MIN, { views: 1, users: 1 }]),
    );
  });

  it('R2: after a split, a parent whose probe fails (Kinesis removed it) stops holding the watermark once a child has reported', async () => {
    // GIVEN a parent shard whose probe fails, and its two children, listed as the open shards
    const parent = 'shardId-000000000000';
    const children = ['shardId-000000000001', 'shardId-000000000002'];
    const tailProbe: ShardTailProbe = async ({ shardId }) => {
      if (shardId === parent) {
        const error = new Error(
          `Shard ${parent} in stream clicks under account 123456789012 does not exist`,
        );
        error.name = 'ResourceNotFoundException';
        throw error;
      }
      return true;
    };
    const s = setup(pageViews, {
      tailProbe,
      openShards: async () => children.map((shardId) => ({ shardId, parents: [parent] })),
    });

    // WHEN the parent's last view (10:00) is handled, then the children's for 30 minutes
    s.setNow(T0 + 5 * SEC);
    await s.handle([{ shard: 0, userId: 'p', ts: T0 }]);
    for (let m = 1; m <= 30; m++) {
      s.setNow(T0 + m * MIN + 15 * SEC);
      await s.handle([{ shard: 1, userId: `a${m}`, ts: T0 + m * MIN + 10 * SEC }]);
      await s.handle([{ shard: 2, userId: `b${m}`, ts: T0 + m * MIN + 10 * SEC }]);
    }
    // and a day later (the parent's data has expired from the stream), the children still flowing
    s.setNow(T0 + DAY);
    await s.handle([{ shard: 1, userId: 'late-a', ts: T0 + DAY - 10 * SEC }]);
    await s.handle([{ shard: 2, userId: 'late-b', ts: T0 + DAY - 10 * SEC }]);
    const reports = (await s.sweep()) as SweepReport[];

    // THEN the watermark is the children's clock (a day later − 10 s − 30 s), and every window of
    // the first 31 minutes closed with all its views
    expect(reports[0]?.watermark).toBe(T0 + DAY - 40 * SEC);
    expect(windowsOf(s.finals(), '/home')).toEqual([
      [T0, { views: 1, users: 1 }],
      ...Array.from({ length: 30 }, (_, k) => [T0 + (k + 1) * MIN, { views: 2, users: 2 }]),
    ]);
  });
});

describe('event-time review: a backlogged shard without an event clock holds the watermark', () => {
  it.each([
    ['no clock (only clicks so far)', 'click' as const],
    ['with a clock (one view so far)', 'page_view' as const],
  ])(
    'R10: shard 1 has reported %s, then its batch of views fails for 4 minutes (probe: not caught up): the views are counted once delivered',
    async (_label, firstType) => {
      // GIVEN shard 0's view at 10:00 and shard 1's first record (10:00:01)
      let shard1Behind = false;
      const tailProbe: ShardTailProbe = async ({ shardId }) =>
        !(shardId === 'shardId-000000000001' && shard1Behind);
      const s = setup(pageViews, { tailProbe });
      s.setNow(T0 + 5 * SEC);
      await s.handle([{ shard: 0, userId: 'a', ts: T0 }]);
      await s.handle([{ shard: 1, userId: 'x', type: firstType, page: '/other', ts: T0 + SEC }]);
      // shard 1's views of 10:00:10 are in the stream; Lambda's batch for them keeps failing
      shard1Behind = true;
      const stuck = records([{ shard: 1, userId: 'y', ts: T0 + 10 * SEC, arrival: T0 + 10 * SEC }]);
      const watermarks: Array<number | undefined> = [];
      for (let m = 1; m <= 4; m++) {
        s.setNow(T0 + m * MIN + 5 * SEC);
        await s.handle([{ shard: 0, userId: `u${m}`, ts: T0 + m * MIN }]);
        watermarks.push(...((await s.sweep()) as SweepReport[]).map((r) => r.watermark));
      }

      // WHEN the batch finally succeeds, shard 1 is caught up, and the pipeline sweeps later
      s.setNow(T0 + 4 * MIN + 30 * SEC);
      shard1Behind = false;
      await s.deliver(stuck);
      s.setNow(T0 + 10 * MIN);
      await s.sweep();

      // THEN the watermark stayed before the end of the views' window [10:00, 10:01) meanwhile,
      // nothing was refused, and the window counts the views of both shards
      expect(watermarks).toHaveLength(4);
      expect(watermarks.every((w) => w === undefined || w < T0 + MIN)).toBe(true);
      expect(s.failures().map((f) => f.reason)).toEqual([]);
      const id = resultId(s.definition.name, '/home', { start: T0, end: T0 + MIN }, true);
      expect(s.finals().find((r) => r.id === id)?.values).toEqual({ views: 2, users: 2 });
    },
  );
});

describe('event-time review: a held watermark and TTL do not re-emit a closed hopping window', () => {
  it('R9: hopping 10m/1m — a window emitted {views:2}, a week of watermark held by a shard behind, TTL played: no final id is emitted with two value sets', async () => {
    // GIVEN hopping 10m/1m windows of page views (allowed lateness 30 s)
    const { dynamodb, tableName } = testbed();
    const hop = pipeline('hop-review')
      .from('clicks', { schema: pageViews.schema })
      .filter((event) => event.type === 'page_view')
      .keyBy((event) => event.page)
      .window(hopping('10m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
      .aggregate({ views: count() })
      .emit('final')
      .to('hop-out') as unknown as AnyWindowedPipelineDefinition;
    let shard1Behind = false;
    const tailProbe: ShardTailProbe = async ({ shardId }) =>
      !(shardId === 'shardId-000000000001' && shard1Behind);
    const s = setup(hop, { tailProbe });
    const at = (h: number, m: number, sec = 0) => Date.UTC(2026, 10, 26, h, m, sec);
    const closedAt = at(10, 5, 45);
    // views of /home at 9:54:10 and 10:03:50 (shard 0), handled before shard 1 reports: the
    // watermark reaches 10:05 (committed) and W1 = [9:54, 10:04) closes with both views; then
    // shard 1's one view at 10:05:00
    s.setNow(closedAt);
    await s.handle([
      { shard: 0, userId: 'a', ts: at(9, 54, 10) },
      { shard: 0, userId: 'b', ts: at(10, 3, 50) },
      { shard: 0, userId: 'c', page: '/other', ts: at(10, 5, 40) },
    ]);
    await s.handle([{ shard: 1, userId: 'x', page: '/other', ts: at(10, 5, 0) }]);
    const w1 = resultId(s.definition.name, '/home', { start: at(9, 54), end: at(10, 4) }, true);
    expect(
      s
        .finals()
        .filter((r) => r.id === w1)
        .map((r) => r.values),
    ).toEqual([{ views: 2 }]);

    // WHEN shard 1 is behind (per the tail probe) for a week: its clock (10:05:00 − 30 s) holds
    // the watermark at the committed 10:05, so the later windows of the slice [10:03, 10:04)
    // stay open
    shard1Behind = true;
    const held: Array<number | undefined> = [];
    for (let day = 1; day <= 7; day++) {
      s.setNow(closedAt + day * DAY);
      held.push(...((await s.sweep()) as SweepReport[]).map((r) => r.watermark));
    }
    // and TTL is played 7 days + 3 minutes after the close (W1's first slice has expired by then)
    const played = await playTtl(dynamodb, tableName, closedAt + 7 * DAY + 3 * MIN);
    const mine = played.keys.filter((k) => k.pk.startsWith(`${s.definition.name}#`));
    // and shard 1 catches up; a cold sweeper (fresh store, as a new Lambda instance) sweeps
    shard1Behind = false;
    const sweptAt = closedAt + 7 * DAY + 5 * MIN;
    const output = recordingSink();
    const cold = createSweeperHandler([s.definition], {
      stores: {
        [s.definition.name]: createPipelineStore(s.definition, {
          client: dynamodb,
          tableName,
          dueBuckets: 1,
          clock: () => sweptAt,
        }),
      },
      outputSinks: { [s.definition.name]: output },
      clock: () => sweptAt,
      tailProbe,
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    await cold();
    const all = [
      ...s.finals(),
      ...output.sent.map((r) => parsed<WindowResult>(r.data)).filter((r) => r.final),
    ];

    // THEN the scenario held the watermark and TTL deleted W1's first slice...
    expect(held).toEqual(Array(7).fill(at(10, 5)));
    expect(mine.map((k) => k.sk)).toContain(`S#${String(at(9, 54)).padStart(16, '0')}`);
    // ...W1 was emitted with {views:2} only, no id with two value sets, and the held windows of
    // the 10:03:50 view, [9:55, 10:05) .. [10:03, 10:13), closed with it
    expect([...(valuesById(all).get(w1) ?? [])]).toEqual([JSON.stringify({ views: 2 })]);
    expect(emittedTwice(all)).toEqual([]);
    for (let m = 55; m <= 63; m++) {
      const start = at(9, 0) + m * MIN;
      const id = resultId(s.definition.name, '/home', { start, end: start + 10 * MIN }, true);
      expect([...(valuesById(all).get(id) ?? [])]).toEqual([JSON.stringify({ views: 1 })]);
    }
  });
});

describe('event-time review: the sweeper waits for unreported shards', () => {
  it('R7: a sweeper given SHARDFLOW_STARTING_POSITION_<PIPELINE>=TRIM_HORIZON waits for an open shard that has not reported yet: its first batch is not LATE', async () => {
    // GIVEN two open shards; shard 1 holds records (its first batch is still coming), shard 0 is
    // read to its end
    const shard0 = 'shardId-000000000000';
    const shard1 = 'shardId-000000000001';
    const tailProbe: ShardTailProbe = async ({ shardId }) => shardId !== shard1;
    const openShards: OpenShardLister = async () => [
      { shardId: shard0, parents: [] },
      { shardId: shard1, parents: [] },
    ];
    // the handler deployed with SHARDFLOW_STARTING_POSITION=TRIM_HORIZON (StreamPipeline)...
    const s = await withEnv({ [STARTING_POSITION_VARIABLE]: 'TRIM_HORIZON' }, () =>
      setup(pageViews, { tailProbe, openShards }),
    );
    // ...and the sweeper without it, with the per-pipeline variable (PipelineSweeper.addPipeline)
    const sweeperEnv = {
      [STARTING_POSITION_VARIABLE]: undefined,
      [startingPositionVariable(s.definition.name)]: 'TRIM_HORIZON',
    };
    const output = recordingSink();
    const sweeper = await withEnv(sweeperEnv, () =>
      createSweeperHandler([s.definition], {
        stores: { [s.definition.name]: s.store },
        outputSinks: { [s.definition.name]: output },
        clock: () => T0 + 5 * MIN,
        tailProbe,
        openShards,
        logger: silentLogger(),
        metrics: silentMetrics(),
      }),
    );
    s.setNow(T0 + 5 * SEC);
    await s.handle([{ shard: 0, userId: 'a', ts: T0 }]);

    // WHEN the sweeper runs at 10:05, then shard 1's first batch (records of 10:00:20) arrives
    const reports = (await withEnv(sweeperEnv, () => sweeper())) as SweepReport[];
    s.setNow(T0 + 5 * MIN + 10 * SEC);
    await s.handle([{ shard: 1, userId: 'b', ts: T0 + 20 * SEC }]);

    // THEN the sweeper committed nothing while shard 1 had not reported, and its batch is counted
    expect(reports.map((r) => [r.watermark, r.mode])).toEqual([[undefined, 'none']]);
    expect(s.failures().map((f) => f.reason)).toEqual([]);
  });
});

describe('event-time review: duplicate invocations, sessions, EXPIRED', () => {
  it('R8: two duplicate invocations of one batch that read committed watermarks 2 minutes apart never both count a record and report it EXPIRED', async () => {
    // GIVEN the sessions pipeline, its handler, and D1: the same handler code whose first
    // watermark read is held until the test releases it
    const { dynamodb, tableName } = testbed();
    const definition = {
      ...userSessions,
      name: uniqueName('sessions-review'),
    } as AnyWindowedPipelineDefinition;
    let now = T0;
    const clock = () => now;
    const output = recordingSink();
    const failureSink = recordingSink();
    const stores = () => ({
      store: createPipelineStore(definition, { client: dynamodb, tableName, dueBuckets: 1, clock }),
      sessionStore: createSessionStore(definition, {
        client: dynamodb,
        tableName,
        dueBuckets: 1,
        clock,
      }),
    });
    const deps = {
      outputSink: output,
      failureSink,
      clock,
      tailProbe: async () => true,
      openShards: null,
      logger: silentLogger(),
      metrics: silentMetrics(),
    };
    const handler = createWindowedHandler(definition, { ...stores(), ...deps });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let readsD1 = 0;
    const d1Stores = stores();
    const d1Store = new Proxy(d1Stores.store, {
      get(target, prop, receiver) {
        if (prop === 'readWatermark') {
          return async (options: ReadWatermarkOptions) => {
            const read = await target.readWatermark(options);
            if (readsD1++ === 0) await gate;
            return read;
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const handlerD1 = createWindowedHandler(definition, {
      store: d1Store,
      sessionStore: d1Stores.sessionStore,
      ...deps,
    });
    const store = stores().store;
    const sweeper = createSweeperHandler([definition], {
      stores: { [definition.name]: store },
      sessionStores: { [definition.name]: stores().sessionStore },
      outputSinks: { [definition.name]: output },
      clock,
      tailProbe: async () => true,
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    // user u active every 25 minutes for 8 days (one open session), read in one batch
    const step = 25 * MIN;
    const n = Math.floor((8 * DAY) / step);
    const last = T0 + n * step;
    now = last + MIN;
    await handler(
      kinesisEventFactory(
        records(
          Array.from({ length: n + 1 }, (_, k) => ({
            shard: 0,
            userId: 'u',
            ts: T0 + k * step,
            arrival: last,
          })),
        ),
      ),
    );
    const c1 = (await store.readWatermark({ maxOutOfOrderness: 0, idleTimeout: MIN, now }))
      .committed as number;
    // a record r of user u whose own gap end + 7 days lies 2 minutes after c1 (inside u's session)
    const c2 = c1 + 2 * MIN;
    const t = c2 - 7 * DAY - 30 * MIN;
    const batch = records([{ shard: 1, userId: 'u', ts: t, arrival: now }]);

    // WHEN D1 starts (reads c1) and waits; another user's record moves the committed watermark to c2
    const d1 = handlerD1(kinesisEventFactory(batch));
    await new Promise((r) => setTimeout(r, 200));
    now = c2 + 10 * SEC;
    await handler(
      kinesisEventFactory(records([{ shard: 0, userId: 'v', ts: c2 + 5 * SEC, arrival: now }])),
    );
    const c2read = (await store.readWatermark({ maxOutOfOrderness: 0, idleTimeout: MIN, now }))
      .committed as number;
    // D2, the duplicate, runs to its end (reads c2: r is EXPIRED), then D1 goes on
    await handler(kinesisEventFactory(batch));
    release();
    await d1;
    // and u's session closes
    now = last + 10 * DAY;
    await sweeper();

    // THEN r is either counted in u's one session or in the failure stream, never both (the
    // failure stream is at-least-once: both invocations may report the same refusal)
    const sessions = output.sent
      .map((r) => parsed<WindowResult>(r.data))
      .filter((r) => r.final && r.key === 'u');
    const refusedR = failureSink.sent
      .map((r) => parsed<Record<string, unknown>>(r.data))
      .filter((f) => f.sequenceNumber === batch[0]?.kinesis.sequenceNumber);
    expect(c2read).toBe(c2);
    expect(sessions).toHaveLength(1);
    const pages = sessions[0]?.values.pages;
    expect([n + 1, n + 2]).toContain(pages);
    const countedR = pages === n + 2;
    expect([...new Set(refusedR.map((f) => f.reason))]).toEqual(countedR ? [] : ['EXPIRED']);
  });
});

describe('event-time review: a fanned-out record of many refused elements', () => {
  it('R3: one fanned-out record whose 80,000 elements are all LATE for one session key is refused and reported, and its batch succeeds', async () => {
    // GIVEN sessions of a pipeline that fans each record out into N elements
    const N = 80_000;
    const fanned = pipeline('fan-sessions')
      .from('clicks', { schema: pageViews.schema })
      .flatMap((e) => Array.from({ length: N }, () => ({ ...e, ts: Number(e.ts) })))
      .keyBy((e) => e.userId)
      .window(session('30m'), { eventTime: (e) => e.ts })
      .aggregate({ pages: count() })
      .emit('final')
      .to('fan-sessions-out') as unknown as AnyWindowedPipelineDefinition;
    const s = setup(fanned);
    // a first record moves the committed watermark to 12:00 (sessions commit to the minute)
    s.setNow(T0 + 2 * 60 * MIN);
    await s.handle([{ shard: 0, userId: 'other', ts: T0 + 2 * 60 * MIN }]);

    // WHEN a record of 10:00 for user u (2 h old: LATE, not EXPIRED) is delivered three times
    const batch = records([{ shard: 0, userId: 'u', ts: T0, arrival: T0 + 2 * 60 * MIN }]);
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await s.deliver(batch);
        outcomes.push('ok');
      } catch (error) {
        outcomes.push(`${(error as Error).name}: ${(error as Error).message.slice(0, 160)}`);
      }
    }

    // THEN every attempt succeeds, and each reports all N elements of the record as LATE
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    const refused = s.failures().filter((f) => f.partitionKey === 'u');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.map((f) => [f.reason, f.elementCount, notCounted(f)])).toEqual(
      refused.map(() => ['LATE', N, N]),
    );
  });

  it('R6: one fanned-out record whose 200,000 elements are all LATE (sliced) is reported with its elements as ranges, in a record that fits in Kinesis, and its batch succeeds', async () => {
    // GIVEN 1-minute windows of a pipeline that fans each record out into N elements; failure
    // records go to a real failure stream (KinesisSink on kinesis-mock)
    const N = 200_000;
    const fanned = pipeline('fan-views')
      .from('clicks', { schema: pageViews.schema })
      .flatMap((e) => Array.from({ length: N }, () => ({ ...e, ts: Number(e.ts) })))
      .keyBy((e) => e.page)
      .window(tumbling('1m'), { eventTime: (e) => e.ts, maxOutOfOrderness: '30s' })
      .aggregate({ views: count() })
      .emit('final')
      .to('fan-views-out') as unknown as AnyWindowedPipelineDefinition;
    const s = setup(fanned, { realFailureStream: true });
    // N elements of 10:04:40 (counted) move the committed watermark to 10:04
    s.setNow(T0 + 5 * MIN);
    await s.handle([{ shard: 0, userId: 'a', ts: T0 + 4 * MIN + 40 * SEC }]);

    // WHEN a record of 10:00:10 arrives (its slice [10:00, 10:01) is behind the watermark), twice
    const batch = records([{ shard: 0, userId: 'b', ts: T0 + 10 * SEC, arrival: T0 + 5 * MIN }]);
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await s.deliver(batch);
        outcomes.push('ok');
      } catch (error) {
        outcomes.push(`${(error as Error).name}: ${(error as Error).message.slice(0, 200)}`);
      }
    }

    // THEN every attempt succeeds; the failure stream accepted records that name all N elements
    // without listing them one by one, each within Kinesis' record size
    expect(outcomes).toEqual(['ok', 'ok']);
    const refused = s.failures().filter((f) => f.partitionKey === 'b');
    expect(refused.length).toBeGreaterThan(0);
    for (const f of refused) {
      expect(f).not.toHaveProperty('elements');
      expect([f.reason, f.elementCount, notCounted(f)]).toEqual(['LATE', N, N]);
      expect(
        Buffer.byteLength(JSON.stringify(f), 'utf8') + Buffer.byteLength(String(f.partitionKey)),
      ).toBeLessThanOrEqual(MAX_BYTES_PER_RECORD);
    }
  });
});

describe('event-time review: the reference model enforces the documented rules', () => {
  const shardId = 'shardId-000000000000';

  it('R4 (sliced): fails a batch that refuses its own out-of-order record against the watermark the batch itself produces', () => {
    // GIVEN one batch, nothing committed before it: records of 10:05:00 then 10:00:00, ooo 30 s,
    // slices of 1 min. LATE needs the slice end (10:01) <= the committed watermark "when its batch
    // writes it" — nothing is committed then, so the 10:00 record must be counted.
    const shards: ModelShard[] = [
      {
        shardId,
        open: true,
        parents: [],
        records: [
          {
            shardId,
            sequenceNumber: '1',
            arrival: T0 + 5 * MIN,
            elements: [{ t: T0 + 5 * MIN, key: 'k' }],
          },
          { shardId, sequenceNumber: '2', arrival: T0 + 5 * MIN, elements: [{ t: T0, key: 'k' }] },
        ],
      },
    ];
    const log: LogEntry[] = [
      {
        type: 'start',
        invocation: 0,
        kind: 'batch',
        records: [`${shardId}:1`, `${shardId}:2`],
        clock: T0 + 5 * MIN + SEC,
      },
      { type: 'end', invocation: 0, ok: true },
    ];
    const model = new EventTimeModel(
      {
        window: { kind: 'sliced', slideMs: MIN, sizeMs: MIN },
        maxOutOfOrderness: 30 * SEC,
        idleTimeout: MIN,
        retentionMs: 7 * DAY,
        commitGranularityMs: MIN,
        waitsForUnreported: true,
      },
      shards,
      log,
    );

    // WHEN the model judges the batch counting the first record and refusing the second as LATE
    const violations = model.judge(
      new Map([
        [`${shardId}:1:0`, 'counted'],
        [`${shardId}:2:0`, 'LATE'],
      ]),
    );

    // THEN it reports that LATE, and only it
    expect(violations).toEqual([
      expect.objectContaining({ element: `${shardId}:2:0`, decision: 'LATE' }),
    ]);
  });

  it("R4b (control for the R4 mutant): a batch's own out-of-order record within its slice is counted, not LATE", async () => {
    // GIVEN page-views, a view of 10:00 handled
    const s = setup(pageViews);
    s.setNow(T0 + 6 * MIN);
    await s.handle([{ shard: 0, userId: 'a', ts: T0 }]);
    // WHEN a batch of 10:05:00 then 10:01:10 is handled
    await s.handle([
      { shard: 0, userId: 'b', ts: T0 + 5 * MIN },
      { shard: 0, userId: 'c', ts: T0 + MIN + 10 * SEC },
    ]);
    // THEN nothing is refused
    expect(s.failures()).toEqual([]);
  });

  it('R5 (sessions): fails the refusal of a record that lies inside a still-open session (issue 13 finding 5)', () => {
    // GIVEN the scenario of eventTime.test.ts "finding 5": u1's events at 10:00, 10:20, 10:40,
    // 11:00, 11:10 (session [10:00, 11:40) open), committed 11:10 after the batch, then 10:10
    const gap = 30 * MIN;
    const times = [0, 20, 40, 60, 70].map((m) => T0 + m * MIN);
    const first = times.map((t, i) => ({
      shardId,
      sequenceNumber: String(i + 1),
      arrival: T0 + 70 * MIN,
      elements: [{ t, key: 'u1' }],
    }));
    const straggler = {
      shardId,
      sequenceNumber: '9',
      arrival: T0 + 71 * MIN,
      elements: [{ t: T0 + 10 * MIN, key: 'u1' }],
    };
    const shards: ModelShard[] = [
      { shardId, open: true, parents: [], records: [...first, straggler] },
    ];
    const log: LogEntry[] = [
      {
        type: 'start',
        invocation: 0,
        kind: 'batch',
        records: first.map((r) => `${shardId}:${r.sequenceNumber}`),
        clock: T0 + 120 * MIN,
      },
      { type: 'end', invocation: 0, ok: true },
      {
        type: 'start',
        invocation: 1,
        kind: 'batch',
        records: [`${shardId}:9`],
        clock: T0 + 120 * MIN,
      },
      { type: 'end', invocation: 1, ok: true },
    ];
    const model = new EventTimeModel(
      {
        window: { kind: 'session', gapMs: gap },
        maxOutOfOrderness: 0,
        idleTimeout: MIN,
        retentionMs: 7 * DAY,
        commitGranularityMs: MIN,
        waitsForUnreported: true,
      },
      shards,
      log,
    );
    const decisions = new Map<string, 'counted' | 'LATE' | 'EXPIRED'>(
      first.map((r) => [`${shardId}:${r.sequenceNumber}:0`, 'counted']),
    );
    decisions.set(`${shardId}:9:0`, 'LATE');

    // WHEN the model judges the straggler refused as LATE (the pre-fix behaviour of finding 5)
    const violations = model.judge(decisions);

    // THEN it reports that LATE, and only it
    expect(violations).toEqual([
      expect.objectContaining({ element: `${shardId}:9:0`, decision: 'LATE' }),
    ]);
  });
});
