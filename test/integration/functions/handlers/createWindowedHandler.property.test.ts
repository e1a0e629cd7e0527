import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { localClients } from '#local/aws/index';
import { pageViews } from '#pipelines/page-views';
import {
  type AnyWindowedPipelineDefinition,
  count,
  distinct,
  hopping,
  pipeline,
} from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import { useEngines } from '#test/helpers/engines';
import { kinesisEventFactory } from '#test/helpers/kinesisFactories';
import { createStateTable } from '../state/stateTable';
import {
  type ClickEvent,
  createStream,
  FaultyDynamo,
  FaultyKinesis,
  finalResultsById,
  oracle,
  toShardRecords,
} from './harness';

/** Schedules per property (split between the tumbling and the hopping pipeline). */
const RUNS = Number(process.env.SHARDFLOW_PROPERTY_RUNS ?? 200);
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const PAGES = ['/home', '/a', '/b'];

const engines = useEngines();
let dynamodb: DynamoDBClient;
let kinesis: KinesisClient;
let tableName: string;
const OUTPUT = `page-view-counts-${process.pid}`;
const FAILURES = `failures-${process.pid}`;
let schedules = 0;

beforeAll(async () => {
  const clients = localClients(engines().endpoints);
  dynamodb = clients.dynamodb;
  kinesis = clients.kinesis;
  tableName = await createStateTable(dynamodb, 'handler-prop');
  await createStream(kinesis, OUTPUT);
  await createStream(kinesis, FAILURES);
}, 180_000);

afterAll(() => {
  dynamodb?.destroy();
  kinesis?.destroy();
});

const silentLogger = (): Logger => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
const silentMetrics = (): Metrics => {
  const metrics = new Metrics({ namespace: 'test', serviceName: 'test' });
  metrics.publishStoredMetrics = () => metrics;
  return metrics;
};

/** Events over 2–3 shards: event time mostly increasing per shard, some out-of-order jitter. */
const scheduleArb = fc
  .record({
    shards: fc.integer({ min: 2, max: 3 }),
    events: fc.array(
      fc.record({
        shard: fc.integer({ min: 0, max: 2 }),
        step: fc.integer({ min: 0, max: 12_000 }),
        jitter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40_000 })),
        page: fc.integer({ min: 0, max: PAGES.length - 1 }),
        user: fc.integer({ min: 0, max: 4 }),
        click: fc.integer({ min: 0, max: 9 }),
      }),
      { minLength: 4, maxLength: 24 },
    ),
  })
  .map(({ shards, events }) => {
    const clocks = [T0, T0, T0];
    const out: ClickEvent[] = events.map((e) => {
      const shard = e.shard % shards;
      clocks[shard] = (clocks[shard] as number) + e.step;
      return {
        shard,
        type: e.click === 0 ? 'click' : 'page_view',
        page: PAGES[e.page] as string,
        userId: `u${e.user}`,
        ts: Math.max(T0, (clocks[shard] as number) - e.jitter),
      };
    });
    return { shards, events: out };
  });

type Gen = fc.GeneratorValue;
type Handler = (event: { Records: KinesisStreamRecord[] }) => Promise<unknown>;

/**
 * Lambda's delivery of one shard: batches cut at random from the checkpoint; an invocation may
 * crash (an injected fault at the N-th DynamoDB write, before or after it takes effect), then
 * be retried whole or bisected; a committed batch may be replayed from a sequence number inside
 * it or delivered twice.
 */
async function deliverShard(
  g: Gen,
  handler: Handler,
  records: readonly KinesisStreamRecord[],
  state: { checkpoint: number },
  faults: FaultyDynamo,
): Promise<void> {
  const size = g(fc.integer, { min: 1, max: 6 });
  const batch = records.slice(state.checkpoint, state.checkpoint + size);
  if (batch.length > 1 && g(fc.integer, { min: 0, max: 2 }) === 0) {
    // An earlier invocation of a shorter batch crashed after some writes; Lambda re-cuts the batch.
    faults.arm(g(fc.integer, { min: 1, max: 4 }), true);
    await handler(
      kinesisEventFactory(batch.slice(0, g(fc.integer, { min: 1, max: batch.length - 1 }))),
    ).catch(() => undefined);
    faults.disarm();
  }
  await deliver(g, handler, batch, faults, 0);
  state.checkpoint += batch.length;
  const extra = g(fc.constantFrom, 'none', 'none', 'replay', 'duplicate');
  if (extra === 'replay') {
    await deliver(
      g,
      handler,
      batch.slice(g(fc.integer, { min: 0, max: batch.length - 1 })),
      faults,
      3,
    );
  } else if (extra === 'duplicate') {
    await Promise.all([
      deliver(g, handler, batch, faults, 3),
      deliver(g, handler, batch, faults, 3),
    ]);
  }
}

async function deliver(
  g: Gen,
  handler: Handler,
  batch: readonly KinesisStreamRecord[],
  faults: FaultyDynamo,
  depth: number,
): Promise<void> {
  if (batch.length === 0) return;
  const fault = depth >= 3 ? false : g(fc.integer, { min: 0, max: 3 }) === 0;
  if (fault) faults.arm(g(fc.integer, { min: 1, max: 12 }), g(fc.boolean));
  try {
    await handler(kinesisEventFactory(batch));
    faults.disarm();
    return;
  } catch {
    faults.disarm();
  }
  if (batch.length > 1 && g(fc.boolean)) {
    const half = Math.ceil(batch.length / 2);
    await deliver(g, handler, batch.slice(0, half), faults, depth + 1);
    await deliver(g, handler, batch.slice(half), faults, depth + 1);
  } else {
    await deliver(g, handler, batch, faults, depth + 1);
  }
}

async function runSchedule(
  base: AnyWindowedPipelineDefinition,
  schedule: { shards: number; events: ClickEvent[] },
  g: Gen,
): Promise<void> {
  const definition = { ...base, name: `${base.name}-${process.pid}-${schedules++}` };
  const faults = new FaultyDynamo(dynamodb);
  const out = new FaultyKinesis(kinesis);
  out.failRate = g(fc.constantFrom, 0, 0, 0.2);
  const store = createPipelineStore(definition, {
    client: faults.asClient(),
    tableName,
    dueBuckets: 1,
  });
  const sink = (streamName: string, ordered: boolean) =>
    new KinesisSink({ streamName, client: out.asClient(), ordered, sleep: async () => undefined });
  const deps = {
    store,
    outputSink: sink(OUTPUT, true),
    failureSink: sink(FAILURES, false),
    clock: () => T0 + 60_000,
    logger: silentLogger(),
    metrics: silentMetrics(),
  };
  const handler = createWindowedHandler(definition, deps) as Handler;
  const shardRecords = toShardRecords(schedule.events, schedule.shards);
  const states = shardRecords.map(() => ({ checkpoint: 0 }));
  for (;;) {
    const pending = states
      .map((_s, i) => i)
      .filter(
        (i) =>
          (states[i] as { checkpoint: number }).checkpoint <
          (shardRecords[i] as KinesisStreamRecord[]).length,
      );
    if (pending.length === 0) break;
    const pick = pending[g(fc.integer, { min: 0, max: pending.length - 1 })] as number;
    const parallel = pending.length > 1 && g(fc.integer, { min: 0, max: 3 }) === 0;
    const other = pending.find((i) => i !== pick) as number;
    await Promise.all([
      deliverShard(
        g,
        handler,
        shardRecords[pick] as KinesisStreamRecord[],
        states[pick] as { checkpoint: number },
        faults,
      ),
      parallel
        ? deliverShard(
            g,
            handler,
            shardRecords[other] as KinesisStreamRecord[],
            states[other] as { checkpoint: number },
            faults,
          )
        : Promise.resolve(),
    ]);
  }
  // The sweeper, a day later: every shard idle, every window due; crash repair included.
  out.failRate = 0;
  const sweeper = createSweeperHandler([definition], {
    stores: {
      [definition.name]: createPipelineStore(definition, {
        client: dynamodb,
        tableName,
        dueBuckets: 1,
      }),
    },
    outputSinks: { [definition.name]: sink(OUTPUT, true) },
    clock: () => T0 + 86_400_000,
    logger: silentLogger(),
    metrics: silentMetrics(),
  });
  await sweeper();

  const refused = new Set(
    out.accepted
      .filter((a) => a.stream === FAILURES)
      .map(
        (a) =>
          a.data as { pipeline: string; reason: string; shardId: string; sequenceNumber: string },
      )
      .filter((f) => f.pipeline === definition.name && f.reason === 'LATE')
      .map((f) => `${f.shardId}:${f.sequenceNumber}`),
  );
  const expected = oracle(definition, shardRecords, refused);
  const actual = finalResultsById(out.accepted, definition.name);
  const report = JSON.stringify({ schedule: schedule.events, refused: [...refused] });
  // every oracle window emitted, nothing else emitted
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, results] of actual) {
    const want = expected.get(id);
    for (const result of results) {
      // duplicates of an id only as at-least-once re-emission of the same result
      expect({ id, values: result.values, late: result.late, report: '' }).toEqual({
        id,
        values: want?.values,
        late: want?.late,
        report: '',
      });
    }
  }
  expect(report.length).toBeGreaterThan(0);
}

describe('createWindowedHandler under Lambda retry patterns (issue 3 property)', () => {
  const hoppingPageViews = pipeline('page-views-hop')
    .from('clicks', { schema: pageViews.schema })
    .filter((event) => event.type === 'page_view')
    .keyBy((event) => event.page)
    .window(hopping('2m', '1m'), { eventTime: (event) => event.ts, allowedLateness: '30s' })
    .aggregate({ views: count(), users: distinct((event) => event.userId) })
    .emit('final')
    .to('page-view-counts');

  it.each([
    ['tumbling 1m (page-views)', pageViews as AnyWindowedPipelineDefinition, Math.ceil(RUNS / 2)],
    ['hopping 2m/1m', hoppingPageViews as AnyWindowedPipelineDefinition, Math.floor(RUNS / 2)],
  ])(
    'final outputs equal the oracle: %s',
    async (_name, definition, runs) => {
      // GIVEN random events over 2-3 shards, cut into random batches, with random faults
      const started = Date.now();
      // WHEN Lambda delivers them with retries, bisects, replays, duplicates, and the sweeper runs
      // THEN every window is emitted with the oracle's values, no id with two values
      await fc.assert(
        fc.asyncProperty(scheduleArb, fc.gen(), async (schedule, g) =>
          runSchedule(definition, schedule, g),
        ),
        { numRuns: runs, endOnFailure: true },
      );
      console.log(`${_name}: ${runs} schedules in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    900_000,
  );
});
