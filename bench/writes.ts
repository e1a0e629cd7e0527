import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createPipelineStore, type StateLayout } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { isSessionPipeline } from '#handlers/factories/emitWindows';
import type { EngineEndpoints } from '#local/engines/index';
import { userSessions } from '#pipelines/sessions';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
import { createTableInput } from '#state/index';
import { addCounts, countRequests, type RequestCounts } from './countRequests';
import { InMemoryWindowStore } from './InMemoryWindowStore';
import { pageViews, pageViewsHopping, resolveTrending, userActivity } from './pipelines';
import { handlerRig } from './rig';
import { msSince, round } from './stats';
import { makeBatches, pageViewEvent, recordCount, trendingEventFactory } from './workload';

/** Options of the write-cost and overlap benchmarks. */
export interface WritesOptions {
  readonly endpoints: EngineEndpoints;
  /** 1,000-record batches before measuring (windows start closing after 90 s of event time). */
  readonly warmBatches: number;
  /** Measured 1,000-record batches (a multiple of 12 = whole minutes of event time). */
  readonly batches: number;
  /** Run the contenders at once (counts only; times are then not comparable). */
  readonly parallel: boolean;
  /**
   * Records for the per-record contenders (DynamoDB Local serves them slowly), taken from the
   * measured batches in `perRecordSamples` runs of consecutive records spread evenly over them.
   * Their state items grow through each minute (a set of users per page and minute), and so does
   * the cost of each ADD: before each run, the state table is seeded (uncounted) with the items the
   * ADDs of every earlier record of the stream would have left, so each run is billed in steady
   * state, at its place in the minute.
   */
  readonly perRecordRecords: number;
  /** How many runs `perRecordRecords` is split into. */
  readonly perRecordSamples: number;
  /**
   * Measured 50-record batches of the small-batch workload (one a second: 60 is a minute of event
   * time), after 70 s of warm-up.
   */
  readonly smallBatches: number;
  /**
   * The high key cardinality workload (page views per user, 10,000 users): batches before
   * measuring and measured. Its items-layout contender writes ~900 items a batch one by one, the
   * slowest run of the section: the smoke test runs a few batches (the ratio is not close).
   */
  readonly highCardinalityBatches: { readonly warm: number; readonly measured: number };
  /**
   * The sessions workload (page views, 10,000 users, session windows with a 30-minute gap):
   * batches before measuring (every user has a session after ~60 s) and measured; absent, not run.
   */
  readonly sessionBatches?: { readonly warm: number; readonly measured: number } | undefined;
  /** Table names are unique per run. */
  readonly runId: string;
}

/** How the cost model's units compare with what DynamoDB Local reported, request by request. */
export interface CapacityCheck {
  /** Requests whose units were computed and compared. */
  readonly checkedRequests: number;
  /** Requests whose reported capacity differs from the model's prediction (must be 0). */
  readonly mismatches: number;
  /** Requests the model does not cover (must be 0). */
  readonly unmodelledRequests: number;
  /** Write units DynamoDB Local reported, and what the model predicted it would report. */
  readonly localReportedWcu: number;
  readonly localModelledWcu: number;
  /** The same for reads. */
  readonly localReportedRcu: number;
  readonly localModelledRcu: number;
  /** The first disagreements, if any. */
  readonly samples: RequestCounts['mismatchSamples'];
}

/** One contender's DynamoDB cost on the reference workload. */
export interface WriteCost {
  readonly records: number;
  readonly writeRequests: number;
  readonly readRequests: number;
  readonly writesPer1k: number;
  readonly readsPer1k: number;
  /** Write request units DynamoDB bills per 1,000 records (bench/billing.ts, from item sizes). */
  readonly wruPer1k: number;
  /** Of `wruPer1k`: on the state table's global secondary index. */
  readonly indexWruPer1k: number;
  /** Read request units DynamoDB bills per 1,000 records. */
  readonly rruPer1k: number;
  /** Write capacity units DynamoDB Local reported per 1,000 records (not a billed figure). */
  readonly localReportedWcuPer1k: number;
  readonly check: CapacityCheck;
  readonly conditionFailures: number;
  readonly cancelledTransactions: number;
  /**
   * Uncounted reads the bench made to size items, and the wall-clock time during which at least
   * one was in flight.
   */
  readonly sideReads: number;
  readonly sideReadMs: number;
  /** Wall-clock time of the run, side reads included. */
  readonly ms: number;
  readonly byCommand: Record<string, number>;
}

/**
 * A DynamoDB client on DynamoDB Local with the SDK's Lambda defaults (50 sockets, no connection
 * timeout), signing with the run's credentials: the local clients' 2 s connection timeout fails
 * Powertools' 1,000 parallel records while they queue for a socket.
 */
function benchClient(endpoints: EngineEndpoints): DynamoDBClient {
  return new DynamoDBClient({
    region: endpoints.region,
    credentials: {
      accessKeyId: endpoints.credentials.accessKeyId,
      secretAccessKey: endpoints.credentials.secretAccessKey,
    },
    endpoint: endpoints.dynamodb,
    maxAttempts: 5,
    requestHandler: new NodeHttpHandler({ httpAgent: { maxSockets: 50 } }),
  });
}

const per1k = (n: number, records: number): number => round((n / records) * 1000, 1);

const cost = (counts: RequestCounts, records: number, ms: number): WriteCost => ({
  records,
  writeRequests: counts.writeRequests,
  readRequests: counts.readRequests,
  writesPer1k: per1k(counts.writeRequests, records),
  readsPer1k: per1k(counts.readRequests, records),
  wruPer1k: per1k(counts.billedWriteUnits, records),
  indexWruPer1k: per1k(counts.billedIndexWriteUnits, records),
  rruPer1k: per1k(counts.billedReadUnits, records),
  localReportedWcuPer1k: per1k(counts.writeCapacityUnits, records),
  check: {
    checkedRequests: counts.checkedRequests,
    mismatches: counts.mismatches,
    unmodelledRequests: counts.unmodelledRequests,
    localReportedWcu: round(counts.writeCapacityUnits, 1),
    localModelledWcu: round(counts.modelledLocalWriteUnits, 1),
    localReportedRcu: round(counts.readCapacityUnits, 1),
    localModelledRcu: round(counts.modelledLocalReadUnits, 1),
    samples: counts.mismatchSamples,
  },
  conditionFailures: counts.conditionFailures,
  cancelledTransactions: counts.cancelledTransactions,
  sideReads: counts.sideReads,
  sideReadMs: Math.round(counts.sideReadMs),
  ms: Math.round(ms),
  byCommand: counts.byCommand,
});

interface PageViewPayload {
  readonly type: string;
  readonly page: string;
  readonly userId: string;
  readonly ts: number;
}

const decode = (record: KinesisStreamRecord): PageViewPayload =>
  JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as PageViewPayload;

/** The state item of a view: its page and minute. */
const viewItemId = (event: PageViewPayload): string =>
  `${event.page}#${Math.floor(event.ts / 60_000) * 60_000}`;

/** The state update both per-record contenders make: one ADD of the view and the user. */
const addView = (client: DynamoDBClient, tableName: string, event: PageViewPayload) =>
  client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { id: { S: viewItemId(event) } },
      UpdateExpression: 'ADD #views :one, #users :user',
      ExpressionAttributeNames: { '#views': 'views', '#users': 'users' },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':user': { SS: [event.userId] } },
    }),
  );

/**
 * (a) The naive handler: for every page view, one UpdateItem ADD on its (page, minute) item,
 * all records of the batch in parallel. At-least-once: a retried batch counts twice.
 */
export function naiveHandler(client: DynamoDBClient, tableName: string) {
  return async (event: KinesisStreamEvent) => {
    await Promise.all(
      event.Records.map(async (record) => {
        const view = decode(record);
        if (view.type === 'page_view') await addView(client, tableName, view);
      }),
    );
    return { batchItemFailures: [] };
  };
}

/**
 * (b) The Powertools pattern from its docs: `BatchProcessor` + `processPartialResponse`, each
 * record made idempotent with `makeIdempotent` on a `DynamoDBPersistenceLayer` (key: the
 * record's eventID), then its state update.
 */
export function powertoolsHandler(
  client: DynamoDBClient,
  stateTable: string,
  idempotencyTable: string,
) {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: idempotencyTable,
    awsSdkV3Client: client,
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'eventID' });
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
    const view = decode(record);
    if (view.type === 'page_view') await addView(client, stateTable, view);
  };
  const processRecord = makeIdempotent(recordHandler, { persistenceStore, config });
  return async (event: KinesisStreamEvent, context: Context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, processRecord, processor, { context });
  };
}

const fakeContext = (): Context =>
  ({
    functionName: 'bench-powertools',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-powertools',
    memoryLimitInMB: '512',
    awsRequestId: 'bench',
    logGroupName: '/aws/lambda/bench-powertools',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

/** A table keyed by `id` alone, as the naive handler and Powertools' persistence layer use. */
const idTableInput = (tableName: string): CreateTableCommandInput => ({
  TableName: tableName,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
});

/** One shardflow run: from empty state (`cold`) and after the warm-up batches (`steady`). */
interface ShardflowRun {
  readonly steady: WriteCost;
  readonly cold: WriteCost;
  /**
   * Modelled writes (in-memory store) of the measured batches, for comparison; sliced windows
   * only (the model has no sessions).
   */
  readonly modelSteadyWrites: number | undefined;
  readonly outputs: number;
}

/**
 * shardflow's windowed handler with its real store (lane packs by default) on DynamoDB Local: the warm-up
 * batches (until windows close at their steady rate), then the measured ones, counted apart.
 */
async function runShardflow(
  definition: AnyWindowedPipelineDefinition,
  endpoints: EngineEndpoints,
  tableName: string,
  warm: readonly KinesisStreamEvent[],
  measured: readonly KinesisStreamEvent[],
  layout: { readonly layout?: StateLayout; readonly groupWrites?: boolean } = {},
): Promise<ShardflowRun> {
  const dynamodb = benchClient(endpoints);
  const side = benchClient(endpoints);
  try {
    const table = createTableInput(tableName);
    await dynamodb.send(new CreateTableCommand(table));
    const counter = countRequests(dynamodb, { side, tables: [table] });
    const sessions = isSessionPipeline(definition);
    const rig = handlerRig(
      definition,
      createPipelineStore(definition, { client: dynamodb, tableName, ...layout }),
      sessions ? createSessionStore(definition, { client: dynamodb, tableName }) : undefined,
    );
    counter.reset();
    let start = process.hrtime.bigint();
    await rig.run(warm);
    const warmMs = msSince(start);
    const warmCounts = counter.reset();
    const outputsBefore = rig.output.records;
    start = process.hrtime.bigint();
    await rig.run(measured);
    const ms = msSince(start);
    const counts = counter.reset();
    // The same batches through the in-memory store (which models grouped writes of sliced
    // windows): its modelled write count, for comparison.
    const modelSteadyWrites = sessions
      ? undefined
      : await modelledWrites(definition, warm, measured);
    return {
      steady: cost(counts, recordCount(measured), ms),
      cold: cost(
        addCounts(warmCounts, counts),
        recordCount(warm) + recordCount(measured),
        warmMs + ms,
      ),
      modelSteadyWrites,
      outputs: rig.output.records - outputsBefore,
    };
  } finally {
    dynamodb.destroy();
    side.destroy();
  }
}

/** The in-memory model's write requests for `measured`, after `warm`. */
async function modelledWrites(
  definition: AnyWindowedPipelineDefinition,
  warm: readonly KinesisStreamEvent[],
  measured: readonly KinesisStreamEvent[],
): Promise<number> {
  const memory = new InMemoryWindowStore(definition);
  const memoryRig = handlerRig(definition, memory);
  await memoryRig.run(warm);
  const before = memory.stats.writeRequests;
  await memoryRig.run(measured);
  return memory.stats.writeRequests - before;
}

/** One run of consecutive records for the per-record contenders, and the state it starts from. */
interface PerRecordSample {
  readonly event: KinesisStreamEvent;
  /** The state items its records touch, as the ADDs of every earlier record left them. */
  readonly seed: readonly Record<string, AttributeValue>[];
}

/**
 * Splits `perRecordRecords` of `measured` into `samples` runs spread evenly over it, each with the
 * per-record contenders' state before it: per (page, minute) item touched by the run, the views
 * and distinct users of every earlier page view of the stream (`earlier` included), exactly what
 * their `ADD views :1, users :{user}` left (absent: no item yet).
 */
function perRecordSamples(
  earlier: readonly KinesisStreamEvent[],
  measured: readonly KinesisStreamEvent[],
  records: number,
  samples: number,
): PerRecordSample[] {
  const all = measured.flatMap((e) => e.Records);
  const size = Math.max(1, Math.floor(records / samples));
  const state = new Map<string, { views: number; users: Set<string> }>();
  const fold = (record: KinesisStreamRecord) => {
    const view = decode(record);
    if (view.type !== 'page_view') return;
    const id = viewItemId(view);
    const item = state.get(id) ?? { views: 0, users: new Set<string>() };
    item.views++;
    item.users.add(view.userId);
    state.set(id, item);
  };
  for (const event of earlier) for (const record of event.Records) fold(record);
  const out: PerRecordSample[] = [];
  let next = 0;
  for (let s = 0; s < samples; s++) {
    const start = Math.floor((s * all.length) / samples);
    const run = all.slice(start, Math.min(start + size, all.length));
    if (run.length === 0) break;
    for (; next < start; next++) fold(all[next] as KinesisStreamRecord);
    const ids = new Set(
      run
        .map(decode)
        .filter((v) => v.type === 'page_view')
        .map(viewItemId),
    );
    const seed = [...ids].flatMap((id) => {
      const item = state.get(id);
      return item === undefined
        ? []
        : [{ id: { S: id }, views: { N: String(item.views) }, users: { SS: [...item.users] } }];
    });
    out.push({ event: { Records: run }, seed });
    for (const record of run) fold(record);
    next = start + run.length;
  }
  return out;
}

/** Puts items with an uncounted client (BatchWriteItem, 25 at a time, retrying the unprocessed). */
async function putItems(
  client: DynamoDBClient,
  tableName: string,
  items: readonly Record<string, AttributeValue>[],
): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  }
}

/**
 * A per-record contender (naive or Powertools) on its own tables and client: each sample's seed
 * put into `stateTable` (uncounted), then its records through the handler (counted and timed).
 */
async function runPerRecord(
  endpoints: EngineEndpoints,
  tables: readonly string[],
  stateTable: string,
  make: (client: DynamoDBClient) => (event: KinesisStreamEvent) => Promise<{
    batchItemFailures: readonly unknown[];
  }>,
  samples: readonly PerRecordSample[],
): Promise<WriteCost> {
  const client = benchClient(endpoints);
  const side = benchClient(endpoints);
  try {
    const inputs = tables.map(idTableInput);
    for (const input of inputs) await client.send(new CreateTableCommand(input));
    const counter = countRequests(client, { side, tables: inputs });
    const handler = make(client);
    counter.reset();
    let ms = 0;
    let failed = 0;
    for (const sample of samples) {
      await putItems(side, stateTable, sample.seed);
      const start = process.hrtime.bigint();
      failed += (await handler(sample.event)).batchItemFailures.length;
      ms += msSince(start);
    }
    const result = cost(counter.reset(), recordCount(samples.map((s) => s.event)), ms);
    if (failed > 0) throw new Error(`${failed} records reported as failed`);
    return result;
  } finally {
    client.destroy();
    side.destroy();
  }
}

/**
 * DynamoDB write cost on the reference workload (1,000-record batches, 50 keys Zipf s = 1,
 * tumbling 1 min, event time 200 events/s) — shardflow vs the naive and Powertools handlers —
 * and the window-overlap cost (hopping 10 min / 1 min vs tumbling 1 min on the same events), all
 * on DynamoDB Local, counted by a client middleware that also bills every request from the sizes
 * of the items it read or wrote (`countRequests` with `billing.ts`) and checks each against the
 * capacity DynamoDB Local reported. shardflow's figures are steady state: the first `warmBatches`
 * (until windows close at their steady rate) are counted apart (`cold` includes them). With
 * `parallel`, the five contenders run at once (counts are unaffected, times are not comparable).
 */
export async function runWrites(options: WritesOptions) {
  const all = makeBatches(
    { batchSize: 1000, batches: options.warmBatches + options.batches, keys: 50 },
    pageViewEvent,
  );
  const warm = all.slice(0, options.warmBatches);
  const measured = all.slice(options.warmBatches);
  const samples = perRecordSamples(
    warm,
    measured,
    options.perRecordRecords,
    options.perRecordSamples,
  );
  const { endpoints, runId } = options;

  const contenders = [
    () => runShardflow(pageViews, endpoints, `bench-sf-${runId}`, warm, measured),
    () => runShardflow(pageViewsHopping, endpoints, `bench-hop-${runId}`, warm, measured),
    // The earlier layout, one item per (key, slice) written item by item: the bar no workload
    // may cost more than (issue 14).
    () =>
      runShardflow(pageViews, endpoints, `bench-sf1-${runId}`, warm, measured, {
        layout: 'items',
        groupWrites: false,
      }),
    // The items layout with grouped writes: what the in-memory model (core, scaling) stands for,
    // checked request by request against it.
    () =>
      runShardflow(pageViews, endpoints, `bench-sfg-${runId}`, warm, measured, {
        layout: 'items',
        groupWrites: true,
      }),
    () =>
      runPerRecord(
        endpoints,
        [`bench-naive-${runId}`],
        `bench-naive-${runId}`,
        (client) => naiveHandler(client, `bench-naive-${runId}`),
        samples,
      ),
    () =>
      runPerRecord(
        endpoints,
        [`bench-pt-${runId}`, `bench-pt-idem-${runId}`],
        `bench-pt-${runId}`,
        (client) => {
          const handler = powertoolsHandler(client, `bench-pt-${runId}`, `bench-pt-idem-${runId}`);
          return (event) => handler(event, fakeContext());
        },
        samples,
      ),
  ] as const;
  // With `parallel`, alongside the others (counts only); else after them, so times stay apart.
  const workloads = options.parallel ? otherWorkloads(options) : undefined;
  const sessionRun = (b: NonNullable<WritesOptions['sessionBatches']>) =>
    sessionsWorkload(options, b);
  const sessionsEarly =
    options.parallel && options.sessionBatches !== undefined
      ? sessionRun(options.sessionBatches)
      : undefined;
  let shardflow: ShardflowRun;
  let hopping: ShardflowRun;
  let single: ShardflowRun;
  let itemsGrouped: ShardflowRun;
  let naiveCost: WriteCost;
  let ptCost: WriteCost;
  if (options.parallel) {
    [shardflow, hopping, single, itemsGrouped, naiveCost, ptCost] = await Promise.all([
      contenders[0](),
      contenders[1](),
      contenders[2](),
      contenders[3](),
      contenders[4](),
      contenders[5](),
    ]);
  } else {
    shardflow = await contenders[0]();
    naiveCost = await contenders[4]();
    ptCost = await contenders[5]();
    hopping = await contenders[1]();
    single = await contenders[2]();
    itemsGrouped = await contenders[3]();
  }
  const sf = shardflow.steady;
  const compared = await (workloads ?? otherWorkloads(options));
  const sessions =
    options.sessionBatches === undefined
      ? undefined
      : await (sessionsEarly ?? sessionRun(options.sessionBatches));
  const payloadBytes = measured.flatMap((e) =>
    e.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').length),
  );
  const withoutSideReads = (c: WriteCost): number => Math.max(0, c.ms - c.sideReadMs);
  return {
    workload: {
      batchSize: 1000,
      keys: 50,
      zipfS: 1,
      eventsPerSecond: 200,
      warmBatches: warm.length,
      measuredBatches: measured.length,
      perRecordRecords: recordCount(samples.map((x) => x.event)),
      perRecordSamples: samples.length,
      parallel: options.parallel,
      windowSeconds: 60,
      /** Mean bytes of a record's data (what Kinesis stores; ingest is billed per started KB). */
      recordBytes: round(
        payloadBytes.reduce((a, b) => a + b, 0) / Math.max(1, payloadBytes.length),
        1,
      ),
    },
    shardflow: { ...sf, cold: shardflow.cold },
    shardflowItemsGrouped: {
      ...itemsGrouped.steady,
      modelWritesPer1k: round(
        ((itemsGrouped.modelSteadyWrites ?? Number.NaN) / itemsGrouped.steady.records) * 1000,
        1,
      ),
    },
    shardflowItemByItem: { ...single.steady, cold: single.cold },
    shardflowHopping: { ...hopping.steady, cold: hopping.cold },
    naive: naiveCost,
    powertools: ptCost,
    workloads: compared,
    sessions,
    // Requests per 1,000 records: information (latency, Lambda duration), not the bill.
    shardflowPer1k: sf.writesPer1k,
    naivePer1k: naiveCost.writesPer1k,
    powertoolsPer1k: ptCost.writesPer1k,
    vsNaive: round(naiveCost.writesPer1k / sf.writesPer1k, 1),
    vsPowertools: round(ptCost.writesPer1k / sf.writesPer1k, 1),
    // Billed write request units: what users pay.
    wruVsNaive: round(naiveCost.wruPer1k / sf.wruPer1k, 2),
    wruVsPowertools: round(ptCost.wruPer1k / sf.wruPer1k, 2),
    overlap: {
      tumblingWrites: sf.writeRequests,
      hoppingWrites: hopping.steady.writeRequests,
      ratio: round(hopping.steady.writeRequests / sf.writeRequests, 3),
      coldTumblingWrites: shardflow.cold.writeRequests,
      coldHoppingWrites: hopping.cold.writeRequests,
      coldRatio: round(hopping.cold.writeRequests / shardflow.cold.writeRequests, 3),
      tumblingMs: sf.ms,
      hoppingMs: hopping.steady.ms,
      timeRatio: round(hopping.steady.ms / sf.ms, 3),
      // The same without the bench's own side reads (both runs are billed, so both carry them).
      timeRatioWithoutSideReads: round(withoutSideReads(hopping.steady) / withoutSideReads(sf), 3),
      tumblingReads: sf.readRequests,
      hoppingReads: hopping.steady.readRequests,
      tumblingOutputs: shardflow.outputs,
      hoppingOutputs: hopping.outputs,
      tumblingByCommand: sf.byCommand,
      hoppingByCommand: hopping.steady.byCommand,
    },
  };
}

/** The sessions workload's billed units per 1,000 records. */
export interface SessionsCost {
  readonly users: number;
  readonly records: number;
  readonly wruPer1k: number;
  /** Of `wruPer1k`: on the due index (each update moves a session's end, so its entry). */
  readonly indexWruPer1k: number;
  readonly rruPer1k: number;
  readonly writesPer1k: number;
  readonly check: CapacityCheck;
}

/**
 * Session windows at high key cardinality (issue 14): the `sessions` pipeline (per user, 30-minute
 * gap) on the reference page views, 10,000 users, so nearly every record touches a different
 * user's open session. Session state is the session store's (one item per session, a fence item
 * per key, a transaction per key and batch), which issue 14 did not change: this run is its
 * figure, measured, with the same cost model and cross-check as the others.
 */
async function sessionsWorkload(
  options: WritesOptions,
  batches: { readonly warm: number; readonly measured: number },
): Promise<SessionsCost> {
  const all = makeBatches(
    { batchSize: 1000, batches: batches.warm + batches.measured, keys: 50, seed: 7 },
    pageViewEvent,
  );
  const run = await runShardflow(
    userSessions,
    options.endpoints,
    `bench-sessions-${options.runId}`,
    all.slice(0, batches.warm),
    all.slice(batches.warm),
  );
  const c = run.steady;
  return {
    users: 10_000,
    records: c.records,
    wruPer1k: c.wruPer1k,
    indexWruPer1k: c.indexWruPer1k,
    rruPer1k: c.rruPer1k,
    writesPer1k: c.writesPer1k,
    check: c.check,
  };
}

/** One workload's billed units per 1,000 records in both layouts. */
export interface LayoutComparison {
  readonly packs: { readonly wruPer1k: number; readonly rruPer1k: number };
  readonly items: { readonly wruPer1k: number; readonly rruPer1k: number };
  /** Packs' write units over the items layout's (item by item): at most 1 (issue 14). */
  readonly ratio: number;
}

/**
 * Issue 14's other workloads, each run through the lane packs and through the items layout
 * written item by item (the bar none may pass): trending top-k (50 categories, products drawn
 * from 1,000 per category), high key cardinality (page views per user, 10,000 users: most users
 * in every batch) and a 1-second batching window at 50 records a second (50-record batches).
 * Each starts counting once windows close at their steady rate.
 */
async function otherWorkloads(options: WritesOptions): Promise<Record<string, LayoutComparison>> {
  const { endpoints, runId } = options;
  const trendingEvent = trendingEventFactory(3);
  const trending = resolveTrending(trendingEvent(0, '1', 0, () => 0.5)).definition;
  const cases = [
    {
      name: 'trending',
      definition: trending,
      batches: makeBatches(
        { batchSize: 1000, batches: options.warmBatches + options.batches, keys: 50, seed: 3 },
        trendingEvent,
      ),
      warm: options.warmBatches,
    },
    {
      name: 'highCardinality',
      definition: userActivity,
      batches: makeBatches(
        {
          batchSize: 1000,
          batches: options.highCardinalityBatches.warm + options.highCardinalityBatches.measured,
          keys: 50,
          seed: 5,
        },
        pageViewEvent,
      ),
      warm: options.highCardinalityBatches.warm,
    },
    {
      name: 'smallBatches',
      definition: pageViews,
      batches: makeBatches(
        { batchSize: 50, batches: 70 + options.smallBatches, keys: 50, eventsPerSecond: 50 },
        pageViewEvent,
      ),
      warm: 70,
    },
  ];
  const out: Record<string, LayoutComparison> = {};
  const runs = cases.map((c) => async () => {
    const warm = c.batches.slice(0, c.warm);
    const measured = c.batches.slice(c.warm);
    const [packs, items] = await Promise.all([
      runShardflow(c.definition, endpoints, `bench-${c.name}-p-${runId}`, warm, measured),
      runShardflow(c.definition, endpoints, `bench-${c.name}-i-${runId}`, warm, measured, {
        layout: 'items',
        groupWrites: false,
      }),
    ]);
    const units = (r: ShardflowRun) => ({
      wruPer1k: r.steady.wruPer1k,
      rruPer1k: r.steady.rruPer1k,
    });
    out[c.name] = {
      packs: units(packs),
      items: units(items),
      ratio: round(packs.steady.wruPer1k / items.steady.wruPer1k, 3),
    };
  });
  if (options.parallel) await Promise.all(runs.map((run) => run()));
  else for (const run of runs) await run();
  return out;
}
