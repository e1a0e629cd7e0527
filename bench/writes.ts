import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import type { EngineEndpoints } from '#local/engines/index';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
import { createTableInput } from '#state/index';
import { countRequests, type RequestCounts } from './countRequests';
import { InMemoryWindowStore } from './InMemoryWindowStore';
import { pageViews, pageViewsHopping } from './pipelines';
import { handlerRig } from './rig';
import { msSince, round } from './stats';
import { makeBatches, pageViewEvent, recordCount } from './workload';

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
   * Records for the per-record contenders, from the start of the measured batches, in batches of
   * up to 1,000 (their cost is a constant per record; DynamoDB Local serves them slowly).
   */
  readonly perRecordRecords: number;
  /** Table names are unique per run. */
  readonly runId: string;
}

/** One contender's DynamoDB cost on the reference workload. */
export interface WriteCost {
  readonly records: number;
  readonly writeRequests: number;
  readonly readRequests: number;
  readonly writeCapacityUnits: number;
  readonly writesPer1k: number;
  readonly readsPer1k: number;
  readonly wcuPer1k: number;
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

const cost = (counts: RequestCounts, records: number, ms: number): WriteCost => ({
  records,
  writeRequests: counts.writeRequests,
  readRequests: counts.readRequests,
  writeCapacityUnits: round(counts.writeCapacityUnits, 1),
  writesPer1k: round((counts.writeRequests / records) * 1000, 1),
  readsPer1k: round((counts.readRequests / records) * 1000, 1),
  wcuPer1k: round((counts.writeCapacityUnits / records) * 1000, 1),
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

/** The state update both per-record contenders make: one ADD of the view and the user. */
const addView = (client: DynamoDBClient, tableName: string, event: PageViewPayload) =>
  client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { id: { S: `${event.page}#${Math.floor(event.ts / 60_000) * 60_000}` } },
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

async function createIdTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
}

/** One shardflow run: from empty state (`cold`) and after the warm-up batches (`steady`). */
interface ShardflowRun {
  readonly steady: WriteCost;
  readonly cold: WriteCost;
  /** Modelled writes (in-memory store) of the measured batches, for comparison. */
  readonly modelSteadyWrites: number;
  readonly outputs: number;
}

const sum = (a: RequestCounts, b: RequestCounts): RequestCounts => ({
  writeRequests: a.writeRequests + b.writeRequests,
  readRequests: a.readRequests + b.readRequests,
  writeCapacityUnits: a.writeCapacityUnits + b.writeCapacityUnits,
  readCapacityUnits: a.readCapacityUnits + b.readCapacityUnits,
  conditionFailures: a.conditionFailures + b.conditionFailures,
  byCommand: Object.fromEntries(
    [...new Set([...Object.keys(a.byCommand), ...Object.keys(b.byCommand)])].map((k) => [
      k,
      (a.byCommand[k] ?? 0) + (b.byCommand[k] ?? 0),
    ]),
  ),
});

/**
 * shardflow's windowed handler with its real `WindowStore` on DynamoDB Local: the warm-up
 * batches (until windows close at their steady rate), then the measured ones, counted apart.
 */
async function runShardflow(
  definition: AnyWindowedPipelineDefinition,
  endpoints: EngineEndpoints,
  tableName: string,
  warm: readonly KinesisStreamEvent[],
  measured: readonly KinesisStreamEvent[],
  groupWrites = true,
): Promise<ShardflowRun> {
  const dynamodb = benchClient(endpoints);
  try {
    await dynamodb.send(new CreateTableCommand(createTableInput(tableName)));
    const counter = countRequests(dynamodb);
    const rig = handlerRig(
      definition,
      createPipelineStore(definition, { client: dynamodb, tableName, groupWrites }),
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
    // The same batches through the in-memory store (which models grouped writes): its modelled
    // write count, for comparison.
    const memory = new InMemoryWindowStore(definition);
    const memoryRig = handlerRig(definition, memory);
    await memoryRig.run(warm);
    const modelBefore = memory.stats.writeRequests;
    await memoryRig.run(measured);
    return {
      steady: cost(counts, recordCount(measured), ms),
      cold: cost(sum(warmCounts, counts), recordCount(warm) + recordCount(measured), warmMs + ms),
      modelSteadyWrites: memory.stats.writeRequests - modelBefore,
      outputs: rig.output.records - outputsBefore,
    };
  } finally {
    dynamodb.destroy();
  }
}

/** A per-record contender (naive or Powertools) on its own tables and client. */
async function runPerRecord(
  endpoints: EngineEndpoints,
  tables: readonly string[],
  make: (client: DynamoDBClient) => (event: KinesisStreamEvent) => Promise<{
    batchItemFailures: readonly unknown[];
  }>,
  events: readonly KinesisStreamEvent[],
): Promise<WriteCost> {
  const client = benchClient(endpoints);
  try {
    for (const table of tables) await createIdTable(client, table);
    const counter = countRequests(client);
    const handler = make(client);
    counter.reset();
    const start = process.hrtime.bigint();
    let failed = 0;
    for (const event of events) failed += (await handler(event)).batchItemFailures.length;
    const result = cost(counter.reset(), recordCount(events), msSince(start));
    if (failed > 0) throw new Error(`${failed} records reported as failed`);
    return result;
  } finally {
    client.destroy();
  }
}

/**
 * DynamoDB write cost on the reference workload (1,000-record batches, 50 keys Zipf s = 1,
 * tumbling 1 min, event time 200 events/s) — shardflow vs the naive and Powertools handlers —
 * and the window-overlap cost (hopping 10 min / 1 min vs tumbling 1 min on the same events), all
 * on DynamoDB Local, counted by a client middleware. shardflow's figures are steady state: the
 * first `warmBatches` (until windows close at their steady rate) are counted apart (`cold`
 * includes them). With `parallel`, the four contenders run at once (counts are unaffected,
 * times are not comparable).
 */
export async function runWrites(options: WritesOptions) {
  const all = makeBatches(
    { batchSize: 1000, batches: options.warmBatches + options.batches, keys: 50 },
    pageViewEvent,
  );
  const warm = all.slice(0, options.warmBatches);
  const measured = all.slice(options.warmBatches);
  const perRecordEvents: KinesisStreamEvent[] = [];
  for (let left = options.perRecordRecords, b = 0; left > 0 && b < measured.length; b++) {
    const records = (measured[b] as KinesisStreamEvent).Records.slice(0, left);
    perRecordEvents.push({ Records: records });
    left -= records.length;
  }
  const { endpoints, runId } = options;

  const contenders = [
    () => runShardflow(pageViews, endpoints, `bench-sf-${runId}`, warm, measured),
    () => runShardflow(pageViewsHopping, endpoints, `bench-hop-${runId}`, warm, measured),
    () => runShardflow(pageViews, endpoints, `bench-sf1-${runId}`, warm, measured, false),
    () =>
      runPerRecord(
        endpoints,
        [`bench-naive-${runId}`],
        (client) => naiveHandler(client, `bench-naive-${runId}`),
        perRecordEvents,
      ),
    () =>
      runPerRecord(
        endpoints,
        [`bench-pt-${runId}`, `bench-pt-idem-${runId}`],
        (client) => {
          const handler = powertoolsHandler(client, `bench-pt-${runId}`, `bench-pt-idem-${runId}`);
          return (event) => handler(event, fakeContext());
        },
        perRecordEvents,
      ),
  ] as const;
  let shardflow: ShardflowRun;
  let hopping: ShardflowRun;
  let single: ShardflowRun;
  let naiveCost: WriteCost;
  let ptCost: WriteCost;
  if (options.parallel) {
    [shardflow, hopping, single, naiveCost, ptCost] = await Promise.all([
      contenders[0](),
      contenders[1](),
      contenders[2](),
      contenders[3](),
      contenders[4](),
    ]);
  } else {
    shardflow = await contenders[0]();
    naiveCost = await contenders[3]();
    ptCost = await contenders[4]();
    hopping = await contenders[1]();
    single = await contenders[2]();
  }
  // DynamoDB bills a transaction's item writes double, but DynamoDB Local reports 2 units per
  // item whatever its size: the grouped run's capacity is bounded by twice the same writes made
  // item by item (measured), and that bound is what is compared.
  const billedWcu = 2 * single.steady.writeCapacityUnits;
  const sf: WriteCost = {
    ...shardflow.steady,
    writeCapacityUnits: round(billedWcu, 1),
    wcuPer1k: round((billedWcu / shardflow.steady.records) * 1000, 1),
  };
  return {
    workload: {
      batchSize: 1000,
      keys: 50,
      zipfS: 1,
      eventsPerSecond: 200,
      warmBatches: warm.length,
      measuredBatches: measured.length,
      perRecordRecords: recordCount(perRecordEvents),
      perRecordBatches: perRecordEvents.length,
      parallel: options.parallel,
    },
    shardflow: {
      ...sf,
      wcuIsUpperBound: true,
      localReportedWcuPer1k: shardflow.steady.wcuPer1k,
      modelWritesPer1k: round((shardflow.modelSteadyWrites / sf.records) * 1000, 1),
      cold: shardflow.cold,
    },
    shardflowItemByItem: { ...single.steady, cold: single.cold },
    naive: naiveCost,
    powertools: ptCost,
    shardflowPer1k: sf.writesPer1k,
    naivePer1k: naiveCost.writesPer1k,
    powertoolsPer1k: ptCost.writesPer1k,
    vsNaive: round(naiveCost.writesPer1k / sf.writesPer1k, 1),
    vsPowertools: round(ptCost.writesPer1k / sf.writesPer1k, 1),
    wcuVsNaive: round(naiveCost.wcuPer1k / sf.wcuPer1k, 1),
    wcuVsPowertools: round(ptCost.wcuPer1k / sf.wcuPer1k, 1),
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
      tumblingReads: sf.readRequests,
      hoppingReads: hopping.steady.readRequests,
      tumblingOutputs: shardflow.outputs,
      hoppingOutputs: hopping.outputs,
      tumblingByCommand: sf.byCommand,
      hoppingByCommand: hopping.steady.byCommand,
      modelHoppingWrites: hopping.modelSteadyWrites,
    },
  };
}
