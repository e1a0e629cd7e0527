import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import type { AnyWindowedPipelineDefinition, WindowResult } from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import type { OpenShardLister, ShardTailProbe } from '#state/index';
import {
  type Decision,
  EventTimeModel,
  type LogEntry,
  type ModelPipeline,
  type ModelRecord,
  type ModelShard,
  type Violation,
} from '#test/helpers/eventTimeModel';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';
import { playTtl } from '#test/helpers/playTtl';
import { FaultyDynamo, FaultyKinesis, type Gen, silentLogger, silentMetrics } from './harness';

/**
 * Drives a windowed pipeline's handler and sweeper through a generated scenario on DynamoDB Local
 * the way Lambda and EventBridge would, with a simulated clock, and records the delivery log the
 * event-time model judges: crashes before and after state writes, whole and bisected retries,
 * replays and duplicate invocations, two shards at once, sweeps running alongside batches, shards
 * going idle or falling behind, days of silence with TTL played, resharding (parents read before
 * children).
 */

export const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const SEC = 1_000;
const MIN = 60 * SEC;
const DAY = 24 * 60 * MIN;

/** A page-views-like input event on a shard. */
export interface ScenarioEvent {
  readonly shard: number;
  readonly type: 'page_view' | 'click';
  readonly page: string;
  readonly userId: string;
  /** Event time, epoch ms. */
  readonly ts: number;
  /** Arrival in Kinesis, epoch ms (non-decreasing per shard). */
  readonly arrival: number;
}

/** A generated scenario: shards (some may be closed parents of the others) and events. */
export interface Scenario {
  readonly shards: number;
  /**
   * Resharding before the run (3 shards): `split` — shard 0 into 1 and 2; `merge` — 0 and 1 into
   * 2. Parents are listed closed and read to their end before their children.
   */
  readonly reshard: 'none' | 'split' | 'merge';
  readonly events: readonly ScenarioEvent[];
}

/** Each shard's parents in a scenario (none without a reshard). */
export function parentsOf(scenario: Scenario, shard: number): number[] {
  if (scenario.reshard === 'split') return shard === 0 ? [] : [0];
  if (scenario.reshard === 'merge') return shard === 2 ? [0, 1] : [];
  return [];
}

/** Options of {@link scenarioArb}. */
export interface ScenarioOptions {
  /** Aggregation keys drawn from. */
  readonly pages?: readonly string[];
  readonly users?: number;
  /** Largest event-time step between a shard's records (ms). */
  readonly maxStep?: number;
  /** Largest ordinary out-of-order delay (ms). */
  readonly maxJitter?: number;
  /** Constant lags a shard's producers may have (ms), one drawn per shard. */
  readonly lags?: readonly number[];
  /**
   * Event time runs this many times faster than arrival (a replay): 60 puts an hour of events
   * into a minute of arrivals, so shards stay active while event time spans sessions.
   * @default 1
   */
  readonly eventTimeScale?: number;
}

/**
 * Scenarios of 2–3 shards: per shard, arrival advances by a few seconds, sometimes by minutes
 * (shards go idle), rarely by 8 days (TTL and EXPIRED); event time trails arrival by the shard's
 * lag (0, 45 or 90 s: shards whose clocks differ) plus 0 to `maxJitter`, sometimes by minutes
 * (LATE), rarely by 8 days; sometimes it is ahead of arrival
 * (a fast producer clock: clamped, or beyond 15 minutes: FUTURE_EVENT_TIME); clicks are filtered
 * out, and sometimes a whole shard carries only clicks.
 */
export function scenarioArb(options: ScenarioOptions = {}): fc.Arbitrary<Scenario> {
  const pages = options.pages ?? ['/home', '/a', '/b'];
  const users = options.users ?? 5;
  const maxStep = options.maxStep ?? 12 * SEC;
  const maxJitter = options.maxJitter ?? 40 * SEC;
  const lagChoices = options.lags ?? [0, 0, 45 * SEC, 90 * SEC];
  const scale = options.eventTimeScale ?? 1;
  return fc
    .record({
      shards: fc.integer({ min: 2, max: 3 }),
      reshard: fc.constantFrom(
        'none' as const,
        'none' as const,
        'split' as const,
        'merge' as const,
      ),
      clicksOnly: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 4 }),
      // A shard whose producers lag (buffer) by a constant: its event clock trails the others'.
      lags: fc.array(fc.constantFrom(...lagChoices), { minLength: 3, maxLength: 3 }),
      events: fc.array(
        fc.record({
          shard: fc.integer({ min: 0, max: 2 }),
          gap: fc.oneof(
            { weight: 12, arbitrary: fc.integer({ min: 0, max: maxStep }) },
            { weight: 2, arbitrary: fc.integer({ min: 60 * SEC, max: 5 * MIN }) },
            { weight: 1, arbitrary: fc.constant(8 * DAY) },
          ),
          delay: fc.oneof(
            { weight: 6, arbitrary: fc.constant(0) },
            { weight: 6, arbitrary: fc.integer({ min: 0, max: maxJitter }) },
            { weight: 2, arbitrary: fc.integer({ min: maxJitter, max: maxJitter + 5 * MIN }) },
            { weight: 1, arbitrary: fc.integer({ min: -14 * MIN, max: -1 }) },
            { weight: 1, arbitrary: fc.constantFrom(8 * DAY, -16 * MIN) },
          ),
          page: fc.integer({ min: 0, max: pages.length - 1 }),
          user: fc.integer({ min: 0, max: users - 1 }),
          click: fc.integer({ min: 0, max: 9 }),
        }),
        { minLength: 4, maxLength: 24 },
      ),
    })
    .map(({ shards, reshard, clicksOnly, lags, events }) => {
      const arrivals = [T0, T0, T0];
      const out = events.map((e): ScenarioEvent => {
        const shard = e.shard % shards;
        const arrival = (arrivals[shard] as number) + e.gap;
        arrivals[shard] = arrival;
        const allClicks = clicksOnly !== undefined && clicksOnly % shards === shard;
        return {
          shard,
          type: e.click === 0 || allClicks ? 'click' : 'page_view',
          page: pages[e.page] as string,
          userId: `u${e.user}`,
          ts: T0 + (arrival - T0) * scale - (lags[shard] as number) - e.delay,
          arrival,
        };
      });
      if (reshard === 'none' || shards !== 3) return { shards, reshard: 'none', events: out };
      // A parent takes no record after the reshard, so every child's record arrives after the
      // parents' last one.
      const scenario: Scenario = { shards, reshard, events: out };
      const isChild = (shard: number) => parentsOf(scenario, shard).length > 0;
      const parents = out.filter((e) => !isChild(e.shard));
      const children = out.filter((e) => isChild(e.shard));
      const cut = Math.max(T0, ...parents.map((e) => e.arrival));
      const shift = Math.max(0, cut - Math.min(...children.map((e) => e.arrival)) + 1);
      return {
        ...scenario,
        events: out.map((e) =>
          isChild(e.shard) ? { ...e, arrival: e.arrival + shift, ts: e.ts + shift } : e,
        ),
      };
    });
}

/** What a pipeline under test is, for the driver and the model. */
export interface PipelineUnderTest {
  readonly definition: AnyWindowedPipelineDefinition;
  /** The elements an event becomes (the pipeline's filter and fan-out, restated by the test). */
  readonly elementsOf: (event: ScenarioEvent) => ReadonlyArray<{ t: number; key: string }>;
  /** The model's view of its settings. */
  readonly model: Omit<ModelPipeline, 'waitsForUnreported'>;
}

/** What a run produced. */
export interface RunOutcome {
  readonly shardRecords: readonly KinesisStreamRecord[][];
  readonly modelShards: readonly ModelShard[];
  readonly log: readonly LogEntry[];
  readonly finals: ReadonlyMap<string, readonly WindowResult[]>;
  /** Every element of a valid record: `shardId:sequenceNumber:ordinal` → its decision(s). */
  readonly decisions: ReadonlyMap<string, readonly Decision[]>;
  /** Records refused as a whole, by reason (`shardId:sequenceNumber`). */
  readonly refusedRecords: ReadonlyMap<string, string>;
  /** The model of this run. */
  readonly model: EventTimeModel;
  /** Events by `shardId:sequenceNumber`. */
  readonly events: ReadonlyMap<string, ScenarioEvent>;
}

const SEQUENCE_BASE = 49590338271490256608559692538361571095921575989136588898n;

const shardIdOf = (shard: number): string => `shardId-00000000000${shard}`;

/** Records the handler sees, per shard, in sequence order. */
function toRecords(scenario: Scenario): KinesisStreamRecord[][] {
  const perShard: KinesisStreamRecord[][] = Array.from({ length: scenario.shards }, () => []);
  for (const event of scenario.events) {
    const list = perShard[event.shard] as KinesisStreamRecord[];
    list.push(
      kinesisRecordFactory({
        shardId: shardIdOf(event.shard),
        sequenceNumber: String(SEQUENCE_BASE + BigInt(list.length * 7 + event.shard)),
        partitionKey: event.userId,
        payload: { type: event.type, page: event.page, userId: event.userId, ts: event.ts },
        arrivalMs: event.arrival,
      }),
    );
  }
  return perShard;
}

const idOf = (record: KinesisStreamRecord): string =>
  `${record.eventID.split(':')[0]}:${record.kinesis.sequenceNumber}`;

/** The clients and table the driver works on. */
export interface DriverTestbed {
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
  readonly tableName: string;
  readonly output: string;
  readonly failures: string;
}

/**
 * Runs `scenario` through `pipeline`'s handler and sweeper (randomness from `g`), then returns
 * what the outputs and the failure stream say was decided, and the model of the run.
 */
export async function runScenario(
  testbed: DriverTestbed,
  pipeline: PipelineUnderTest,
  scenario: Scenario,
  g: Gen,
): Promise<RunOutcome> {
  const { dynamodb, kinesis, tableName } = testbed;
  const { definition } = pipeline;
  let now = T0;
  const clock = () => now;
  const faults = new FaultyDynamo(dynamodb);
  const out = new FaultyKinesis(kinesis);
  out.failRate = g(fc.constantFrom, 0, 0, 0.2);
  const sink = (streamName: string, ordered: boolean) =>
    new KinesisSink({ streamName, client: out.asClient(), ordered, sleep: async () => undefined });
  const shardRecords = toRecords(scenario);
  const arrivalOf = (record: KinesisStreamRecord): number =>
    Math.round(record.kinesis.approximateArrivalTimestamp * 1000);
  // Kinesis's answers: a shard is caught up once every record that has arrived by now was read
  // (or the first unread one is fresh enough, when asked); the open shards and their parents.
  const tailProbe: ShardTailProbe = async ({ shardId, sequenceNumber, freshSince }) => {
    const records = shardRecords[Number(shardId.slice(-1))] ?? [];
    const unread = records.find(
      (r) =>
        arrivalOf(r) <= now &&
        (sequenceNumber === undefined || BigInt(r.kinesis.sequenceNumber) > BigInt(sequenceNumber)),
    );
    if (unread === undefined) return true;
    return freshSince !== undefined && arrivalOf(unread) >= freshSince;
  };
  const shardIndexes = Array.from({ length: scenario.shards }, (_, i) => i);
  const closed = new Set(shardIndexes.flatMap((i) => parentsOf(scenario, i)));
  const openIds = shardIndexes.filter((i) => !closed.has(i)).map(shardIdOf);
  const openShards: OpenShardLister = async () =>
    shardIndexes
      .filter((i) => !closed.has(i))
      .map((i) => ({ shardId: shardIdOf(i), parents: parentsOf(scenario, i).map(shardIdOf) }));
  const session = definition.assigner.kind === 'session';
  const stores = (client: DynamoDBClient) => ({
    store: createPipelineStore(definition, { client, tableName, dueBuckets: 1, clock }),
    ...(session
      ? {
          sessionStore: createSessionStore(definition, {
            client,
            tableName,
            dueBuckets: 1,
            clock,
          }),
        }
      : {}),
  });
  const log: LogEntry[] = [];
  let invocations = 0;
  const logged = async (
    kind: 'batch' | 'sweep',
    records: readonly KinesisStreamRecord[],
    run: () => Promise<unknown>,
  ): Promise<void> => {
    const invocation = invocations++;
    log.push({ type: 'start', invocation, kind, records: records.map(idOf), clock: now });
    try {
      await run();
      log.push({ type: 'end', invocation, ok: true });
    } catch (error) {
      log.push({ type: 'end', invocation, ok: false });
      throw error;
    }
  };
  const handler = createWindowedHandler(definition, {
    ...stores(faults.asClient()),
    outputSink: sink(testbed.output, true),
    failureSink: sink(testbed.failures, false),
    clock,
    tailProbe,
    openShards,
    logger: silentLogger(),
    metrics: silentMetrics(),
  });
  const clean = stores(dynamodb);
  const sweeper = createSweeperHandler([definition], {
    stores: { [definition.name]: clean.store },
    ...(clean.sessionStore === undefined
      ? {}
      : { sessionStores: { [definition.name]: clean.sessionStore } }),
    outputSinks: { [definition.name]: sink(testbed.output, true) },
    clock,
    tailProbe,
    openShards,
    logger: silentLogger(),
    metrics: silentMetrics(),
  });
  // A failed sweep (PutRecords failures injected) is simply followed by the next one, as in AWS.
  const sweep = () => logged('sweep', [], () => sweeper()).catch(() => undefined);
  const invoke = (batch: readonly KinesisStreamRecord[]) =>
    logged('batch', batch, () => handler(kinesisEventFactory(batch)));

  /** One batch until it succeeds: faults above depth 3 are off; a failure retries or bisects. */
  const deliver = async (batch: readonly KinesisStreamRecord[], depth: number): Promise<void> => {
    if (batch.length === 0) return;
    const fault = depth >= 3 ? false : g(fc.integer, { min: 0, max: 3 }) === 0;
    if (fault) faults.arm(g(fc.integer, { min: 1, max: 12 }), g(fc.boolean));
    try {
      await invoke(batch);
      faults.disarm();
      return;
    } catch {
      faults.disarm();
    }
    if (batch.length > 1 && g(fc.boolean)) {
      const half = Math.ceil(batch.length / 2);
      await deliver(batch.slice(0, half), depth + 1);
      await deliver(batch.slice(half), depth + 1);
    } else {
      await deliver(batch, depth + 1);
    }
  };

  const checkpoints = shardRecords.map(() => 0);
  const done = (i: number): boolean =>
    (checkpoints[i] as number) >= (shardRecords[i] as KinesisStreamRecord[]).length;
  /** Shards Lambda reads now: not done, and (children) their parents are done. */
  const readable = (): number[] =>
    shardRecords.map((_, i) => i).filter((i) => !done(i) && parentsOf(scenario, i).every(done));
  const nextArrival = (i: number): number =>
    arrivalOf(
      (shardRecords[i] as KinesisStreamRecord[])[checkpoints[i] as number] as KinesisStreamRecord,
    );

  /** Lambda's delivery of one shard: a batch from the checkpoint of what has arrived. */
  const deliverShard = async (i: number): Promise<void> => {
    const records = shardRecords[i] as KinesisStreamRecord[];
    const from = checkpoints[i] as number;
    let to = from + 1;
    const size = g(fc.integer, { min: 1, max: 6 });
    while (
      to < records.length &&
      to - from < size &&
      arrivalOf(records[to] as KinesisStreamRecord) <= now
    )
      to++;
    const batch = records.slice(from, to);
    if (batch.length > 1 && g(fc.integer, { min: 0, max: 2 }) === 0) {
      // An earlier invocation of a shorter batch crashed after some writes; Lambda re-cuts it.
      faults.arm(g(fc.integer, { min: 1, max: 4 }), true);
      await invoke(batch.slice(0, g(fc.integer, { min: 1, max: batch.length - 1 }))).catch(
        () => undefined,
      );
      faults.disarm();
    }
    await deliver(batch, 0);
    checkpoints[i] = to;
    const extra = g(fc.constantFrom, 'none', 'none', 'replay', 'duplicate');
    if (extra === 'replay') {
      await deliver(batch.slice(g(fc.integer, { min: 0, max: batch.length - 1 })), 3);
    } else if (extra === 'duplicate') {
      await Promise.all([deliver(batch, 3), deliver(batch, 3)]);
    }
  };

  const idle = pipeline.model.idleTimeout;
  for (;;) {
    const shards = readable();
    if (shards.length === 0) break;
    let ready = shards.filter((i) => nextArrival(i) <= now);
    if (ready.length === 0) {
      // Nothing has arrived: time passes to the next arrival, with the sweeper running meanwhile
      // (every minute in AWS: here once the shards went idle, once just before) and TTL doing
      // its work over long silences.
      const next = Math.min(...shards.map(nextArrival));
      for (const after of [idle + g(fc.integer, { min: 1, max: 60 }) * SEC, 20 * MIN, DAY]) {
        if (now + after >= next) break;
        now += after;
        await sweep();
      }
      if (next - now > DAY) {
        now = next - MIN;
        await playTtl(dynamodb, tableName, now);
        await sweep();
      }
      now = Math.max(now, next);
      ready = shards.filter((i) => nextArrival(i) <= now);
    }
    // Processing takes a moment; sometimes the function falls behind (silent, not caught up).
    now += g(fc.constantFrom, 0, 0, 200, 1_000, 3_000, idle + 5 * SEC);
    const pick = ready[g(fc.integer, { min: 0, max: ready.length - 1 })] as number;
    const other = ready.find((i) => i !== pick);
    const alongside = g(fc.integer, { min: 0, max: 5 });
    await Promise.all([
      deliverShard(pick),
      alongside === 0 && other !== undefined ? deliverShard(other) : undefined,
      alongside === 1 ? sweep() : undefined,
    ]);
  }
  // A day later the sweeper closes everything (every shard idle) and repairs crashed closers.
  out.failRate = 0;
  now += DAY;
  await sweep();

  // What the outputs and the failure stream say.
  const finals = new Map<string, WindowResult[]>();
  const decisions = new Map<string, Decision[]>();
  const refusedRecords = new Map<string, string>();
  const refusals = new Map<string, Set<Decision>>();
  for (const { stream, data } of out.accepted) {
    if (stream === testbed.output) {
      const result = data as WindowResult;
      if (result.pipeline !== definition.name || !result.final) continue;
      const list = finals.get(result.id) ?? [];
      list.push(result);
      finals.set(result.id, list);
      continue;
    }
    const failure = data as {
      pipeline: string;
      reason: string;
      shardId: string;
      sequenceNumber: string;
      elements?: number[];
    };
    if (failure.pipeline !== definition.name) continue;
    const record = `${failure.shardId}:${failure.sequenceNumber}`;
    if (failure.elements === undefined) {
      refusedRecords.set(record, failure.reason);
      continue;
    }
    for (const ordinal of failure.elements) {
      const id = `${record}:${ordinal}`;
      const set = refusals.get(id) ?? new Set<Decision>();
      set.add(failure.reason as Decision);
      refusals.set(id, set);
    }
  }
  const events = new Map<string, ScenarioEvent>();
  const modelShards: ModelShard[] = shardRecords.map((records, i) => ({
    shardId: shardIdOf(i),
    open: openIds.includes(shardIdOf(i)),
    parents: parentsOf(scenario, i).map(shardIdOf),
    records: records.map((record): ModelRecord => {
      const id = idOf(record);
      const event = scenario.events.filter((e) => e.shard === i)[
        records.indexOf(record)
      ] as ScenarioEvent;
      events.set(id, event);
      const elements = pipeline.elementsOf(event);
      return {
        shardId: shardIdOf(i),
        sequenceNumber: record.kinesis.sequenceNumber,
        arrival: event.arrival,
        elements: isFuture(event, elements) ? [] : elements,
      };
    }),
  }));
  for (const shard of modelShards) {
    for (const record of shard.records) {
      record.elements.forEach((_, ordinal) => {
        const id = `${record.shardId}:${record.sequenceNumber}:${ordinal}`;
        decisions.set(id, [...(refusals.get(id) ?? new Set<Decision>(['counted']))]);
      });
    }
  }
  const model = new EventTimeModel(
    { ...pipeline.model, waitsForUnreported: true },
    modelShards,
    log,
  );
  return {
    shardRecords,
    modelShards,
    log,
    finals,
    decisions,
    refusedRecords,
    model,
    events,
  };
}

/**
 * Whether a record is refused whole as FUTURE_EVENT_TIME: one of its elements is dated more than
 * 15 minutes after the record's arrival.
 */
export const isFuture = (
  event: ScenarioEvent,
  elements: ReadonlyArray<{ readonly t: number }>,
): boolean => elements.some((e) => e.t > event.arrival + 15 * MIN);

/**
 * For the enclosing suite, the mappings read from TRIM_HORIZON (the construct's default): an open
 * shard that has not reported and holds records holds the watermark (the model's
 * `waitsForUnreported`). Restores the variable after the suite.
 */
export function useTrimHorizon(): void {
  const before = process.env.SHARDFLOW_STARTING_POSITION;
  beforeAll(() => {
    process.env.SHARDFLOW_STARTING_POSITION = 'TRIM_HORIZON';
  });
  afterAll(() => {
    if (before === undefined) delete process.env.SHARDFLOW_STARTING_POSITION;
    else process.env.SHARDFLOW_STARTING_POSITION = before;
  });
}

/** Replays one failing schedule: SHARDFLOW_PROPERTY_SEED and SHARDFLOW_PROPERTY_PATH from its report. */
export const replayOptions: { seed?: number; path?: string } =
  process.env.SHARDFLOW_PROPERTY_SEED === undefined
    ? {}
    : {
        seed: Number(process.env.SHARDFLOW_PROPERTY_SEED),
        path: process.env.SHARDFLOW_PROPERTY_PATH,
      };

/** The model's verdicts on every decision of a run (an element with two reasons: both judged). */
export function judgeRun(
  run: RunOutcome,
  closedSessions?: ReadonlyMap<string, ReadonlyArray<{ start: number; end: number }>>,
): Violation[] {
  const violations: Violation[] = [];
  for (let k = 0; ; k++) {
    const round = new Map<string, Decision>();
    for (const [id, list] of run.decisions) {
      const decision = list[k];
      if (decision !== undefined) round.set(id, decision);
    }
    if (round.size === 0) break;
    violations.push(...run.model.judge(round, closedSessions));
  }
  return violations;
}

/** Elements the run counted, with their event, by `shardId:sequenceNumber:ordinal`. */
export function countedElements(
  run: RunOutcome,
  pipeline: PipelineUnderTest,
): Array<{ id: string; event: ScenarioEvent; t: number; key: string; ordinal: number }> {
  const out: Array<{ id: string; event: ScenarioEvent; t: number; key: string; ordinal: number }> =
    [];
  for (const shard of run.modelShards) {
    for (const record of shard.records) {
      const event = run.events.get(`${record.shardId}:${record.sequenceNumber}`) as ScenarioEvent;
      pipeline.elementsOf(event).forEach((element, ordinal) => {
        const id = `${record.shardId}:${record.sequenceNumber}:${ordinal}`;
        if (run.decisions.get(id)?.[0] === 'counted')
          out.push({ id, event, t: element.t, key: element.key, ordinal });
      });
    }
  }
  return out;
}
