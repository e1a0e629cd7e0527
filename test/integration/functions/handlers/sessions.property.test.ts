import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { localClients } from '#local/aws/index';
import { userSessions } from '#pipelines/sessions';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
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
  sessionOracle,
  toShardRecords,
} from './harness';

/** Schedules (random event streams with random faults); raise with SHARDFLOW_PROPERTY_RUNS. */
const RUNS = Number(process.env.SHARDFLOW_PROPERTY_RUNS ?? 50);
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;
const GAP = 30 * MIN;

const engines = useEngines();
let dynamodb: DynamoDBClient;
let kinesis: KinesisClient;
let tableName: string;
const OUTPUT = `user-sessions-prop-${process.pid}`;
const FAILURES = `session-failures-prop-${process.pid}`;
let schedules = 0;

beforeAll(async () => {
  const clients = localClients(engines().endpoints);
  dynamodb = clients.dynamodb;
  kinesis = clients.kinesis;
  tableName = await createStateTable(dynamodb, 'sessions-prop');
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

/**
 * Events of 1–3 users over 2–3 shards (the same user on several shards): per shard, event time
 * advances by 0–25 min (so sessions both merge and split at the 30 min gap), with out-of-order
 * jitter of up to 45 min (events that bridge stored sessions, and some that arrive too late).
 */
const scheduleArb = fc
  .record({
    shards: fc.integer({ min: 2, max: 3 }),
    events: fc.array(
      fc.record({
        shard: fc.integer({ min: 0, max: 2 }),
        step: fc.integer({ min: 0, max: 25 }),
        jitter: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 45 })),
        user: fc.integer({ min: 0, max: 2 }),
        click: fc.boolean(),
      }),
      { minLength: 3, maxLength: 18 },
    ),
  })
  .map(({ shards, events }) => {
    const clocks = [T0, T0, T0];
    const out: ClickEvent[] = events.map((e) => {
      const shard = e.shard % shards;
      clocks[shard] = (clocks[shard] as number) + e.step * MIN;
      return {
        shard,
        type: e.click ? 'click' : 'page_view',
        page: '/home',
        userId: `u${e.user}`,
        ts: Math.max(T0, (clocks[shard] as number) - e.jitter * MIN),
      };
    });
    return { shards, events: out };
  });

type Gen = fc.GeneratorValue;
type Handler = (event: { Records: KinesisStreamRecord[] }) => Promise<unknown>;

/**
 * Lambda's delivery of one shard: batches cut at random from the checkpoint; an invocation may
 * crash at the N-th DynamoDB write (before or after it takes effect) and be retried whole or
 * bisected; a committed batch may be replayed from a sequence number inside it, or delivered
 * twice at once.
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
  if (fault) faults.arm(g(fc.integer, { min: 1, max: 8 }), g(fc.boolean));
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
  schedule: { shards: number; events: ClickEvent[] },
  g: Gen,
): Promise<void> {
  const definition: AnyWindowedPipelineDefinition = {
    ...userSessions,
    name: `sessions-${process.pid}-${schedules++}`,
  };
  const faults = new FaultyDynamo(dynamodb);
  const out = new FaultyKinesis(kinesis);
  out.failRate = g(fc.constantFrom, 0, 0, 0.2);
  const sink = (streamName: string, ordered: boolean) =>
    new KinesisSink({ streamName, client: out.asClient(), ordered, sleep: async () => undefined });
  const handler = createWindowedHandler(definition, {
    store: createPipelineStore(definition, { client: faults.asClient(), tableName, dueBuckets: 1 }),
    sessionStore: createSessionStore(definition, {
      client: faults.asClient(),
      tableName,
      dueBuckets: 1,
    }),
    outputSink: sink(OUTPUT, true),
    failureSink: sink(FAILURES, false),
    clock: () => T0 + MIN,
    logger: silentLogger(),
    metrics: silentMetrics(),
  }) as Handler;
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
  // The sweeper, a day later: every shard idle, every session due; crash repair included.
  out.failRate = 0;
  const sweeper = createSweeperHandler([definition], {
    stores: {
      [definition.name]: createPipelineStore(definition, {
        client: dynamodb,
        tableName,
        dueBuckets: 1,
      }),
    },
    sessionStores: {
      [definition.name]: createSessionStore(definition, {
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
  const expected = sessionOracle(definition.name, GAP, shardRecords, refused);
  const actual = finalResultsById(out.accepted, definition.name);
  // every oracle session emitted, nothing else emitted
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, results] of actual) {
    const want = expected.get(id);
    // duplicates of an id only as at-least-once re-emission of the same result
    for (const result of results)
      expect({ id, values: result.values }).toEqual({ id, values: want?.values });
  }
  stats.refused += refused.size;
  stats.events += schedule.events.length;
  stats.sessions += expected.size;
}

const stats = { events: 0, refused: 0, sessions: 0 };

describe('createWindowedHandler with session windows under Lambda retry patterns', () => {
  it('final outputs equal the sort-and-split oracle', async () => {
    // GIVEN random events of a few users over 2-3 shards, cut into random batches, with faults
    const started = Date.now();
    // WHEN Lambda delivers them with crashes, retries, bisects, replays, duplicates, and the
    // sweeper runs
    // THEN every session is emitted with the oracle's values (over the records not refused as
    // LATE), and no id carries two different values
    await fc.assert(
      fc.asyncProperty(scheduleArb, fc.gen(), async (schedule, g) => runSchedule(schedule, g)),
      { numRuns: RUNS, endOnFailure: true },
    );
    console.log(
      `sessions: ${RUNS} schedules in ${((Date.now() - started) / 1000).toFixed(1)} s; ${stats.events} events, ${stats.sessions} sessions, ${stats.refused} LATE`,
    );
  }, 900_000);
});
