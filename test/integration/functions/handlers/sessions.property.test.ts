import fc from 'fast-check';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { userSessions } from '#pipelines/sessions';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import {
  type BatchHandler,
  type ClickEvent,
  deliverShards,
  drainedTailProbe,
  FaultyDynamo,
  FaultyKinesis,
  finalResultsById,
  type Gen,
  lateRecords,
  sessionOracle,
  silentLogger,
  silentMetrics,
  toShardRecords,
  useHandlerTestbed,
} from './harness';

/** Schedules (random event streams with random faults); raise with SHARDFLOW_PROPERTY_RUNS. */
const RUNS = Number(process.env.SHARDFLOW_PROPERTY_RUNS ?? 50);
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;
const GAP = 30 * MIN;

const OUTPUT = `user-sessions-prop-${process.pid}`;
const FAILURES = `session-failures-prop-${process.pid}`;
const testbed = useHandlerTestbed('sessions-prop', [OUTPUT, FAILURES]);
let schedules = 0;

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

async function runSchedule(
  schedule: { shards: number; events: ClickEvent[] },
  g: Gen,
): Promise<void> {
  const { dynamodb, kinesis, tableName } = testbed();
  const definition: AnyWindowedPipelineDefinition = {
    ...userSessions,
    name: `sessions-${process.pid}-${schedules++}`,
  };
  const faults = new FaultyDynamo(dynamodb);
  const out = new FaultyKinesis(kinesis);
  out.failRate = g(fc.constantFrom, 0, 0, 0.2);
  const sink = (streamName: string, ordered: boolean) =>
    new KinesisSink({ streamName, client: out.asClient(), ordered, sleep: async () => undefined });
  const shardRecords = toShardRecords(schedule.events, schedule.shards);
  // Kinesis's answer: a shard is caught up once its last record was processed.
  const tailProbe = drainedTailProbe(shardRecords);
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
    tailProbe,
    logger: silentLogger(),
    metrics: silentMetrics(),
  }) as BatchHandler;
  await deliverShards(g, handler, shardRecords, { dynamo: faults, maxFaultWrite: 8 });
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
    tailProbe,
    logger: silentLogger(),
    metrics: silentMetrics(),
  });
  await sweeper();

  const refused = new Set(lateRecords(out.accepted, FAILURES, definition.name));
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
