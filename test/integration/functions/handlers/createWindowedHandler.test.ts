import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import type { PipelineStore } from '#handlers/types';
import { localClients } from '#local/aws/index';
import { pageViews } from '#pipelines/page-views';
import {
  type AnyWindowedPipelineDefinition,
  count,
  distinct,
  hopping,
  pipeline,
  preAggregate,
  type WindowResult,
} from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import { useEngines } from '#test/helpers/engines';
import { recordingSink } from '#test/helpers/handlerStubs';
import { kinesisEventFactory } from '#test/helpers/kinesisFactories';
import { createStateTable } from '../state/stateTable';
import {
  type ClickEvent,
  createStream,
  drainedTailProbe,
  FaultyDynamo,
  toShardRecords,
} from './harness';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const engines = useEngines();
let dynamodb: DynamoDBClient;
let kinesis: KinesisClient;
let tableName: string;
let names = 0;

beforeAll(async () => {
  const clients = localClients(engines().endpoints);
  dynamodb = clients.dynamodb;
  kinesis = clients.kinesis;
  tableName = await createStateTable(dynamodb, 'handler');
}, 180_000);

afterAll(() => {
  dynamodb?.destroy();
  kinesis?.destroy();
});

/** Metrics that record what was added per name (last invocation's values are `last`). */
const recordingMetrics = () => {
  const added: Array<Record<string, number>> = [{}];
  const metrics = {
    addMetric: (name: string, _unit: string, value: number) => {
      (added[added.length - 1] as Record<string, number>)[name] = value;
    },
    addDimension: () => undefined,
    publishStoredMetrics: () => {
      added.push({});
    },
  };
  return { metrics: metrics as unknown as Metrics, added };
};

const silentLogger = (): Logger => new Logger({ serviceName: 'test', logLevel: 'SILENT' });

const rename = (definition: AnyWindowedPipelineDefinition, name: string) => ({
  ...definition,
  name: `${name}-${process.pid}-${names++}`,
});

/** Reads every record of a stream from the start. */
async function readStream(streamName: string): Promise<WindowResult[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const out: WindowResult[] = [];
  for (const { ShardId } of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    for (let empty = 0; iterator !== undefined && empty < 3; ) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const records = page.Records ?? [];
      empty = records.length === 0 ? empty + 1 : 0;
      for (const r of records)
        out.push(JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8')));
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** Events on one shard: `perMinute` page views per minute over `minutes`, 3 pages, in order. */
const steadyEvents = (minutes: number, perMinute: number): ClickEvent[] =>
  Array.from({ length: minutes * perMinute }, (_, i) => ({
    shard: 0,
    type: 'page_view' as const,
    page: ['/home', '/a', '/b'][i % 3] as string,
    userId: `u${i % 7}`,
    ts: T0 + Math.floor((i * 60_000) / perMinute),
  }));

/** A store wrapper counting the writes of the batch's state (slices and shard watermarks). */
const countingStateWrites = (store: PipelineStore) => {
  const counts = { state: 0 };
  const around =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const before = store.stats.writeRequests;
      try {
        return await fn.apply(store, args);
      } finally {
        counts.state += store.stats.writeRequests - before;
      }
    };
  const wrapped: PipelineStore = {
    pipeline: store.pipeline,
    stats: store.stats,
    applyDeltas: around(store.applyDeltas),
    retentionMs: store.retentionMs,
    updateShardWatermark: around(store.updateShardWatermark),
    readWatermark: store.readWatermark.bind(store),
    commitWatermark: store.commitWatermark.bind(store),
    findDueWindows: store.findDueWindows.bind(store),
    closeWindows: store.closeWindows.bind(store),
    sealWindow: store.sealWindow.bind(store),
    sealWindows: store.sealWindows.bind(store),
    readWindow: store.readWindow.bind(store),
    readWindows: store.readWindows.bind(store),
    sealSlices: store.sealSlices.bind(store),
    markWindowsEmitted: store.markWindowsEmitted.bind(store),
    findClosedNotEmitted: store.findClosedNotEmitted.bind(store),
    leaveDueIndexAll: store.leaveDueIndexAll.bind(store),
  };
  return { store: wrapped, counts };
};

const nullSink = { send: async () => ({ records: 0, requests: 0, retries: 0, bytes: 0 }) };

async function runBatches(
  definition: AnyWindowedPipelineDefinition,
  events: ClickEvent[],
  batchSize: number,
) {
  const faulty = new FaultyDynamo(dynamodb);
  const store = createPipelineStore(definition, {
    client: faulty.asClient(),
    tableName,
    dueBuckets: 1,
  });
  const counted = countingStateWrites(store);
  const { metrics, added } = recordingMetrics();
  const handler = createWindowedHandler(definition, {
    store: counted.store,
    outputSink: nullSink,
    failureSink: nullSink,
    clock: () => T0,
    logger: silentLogger(),
    metrics,
  });
  const records = toShardRecords(events, 1)[0] as KinesisStreamRecord[];
  const batches: Array<{ writes: number; touched: number; closed: number }> = [];
  for (let i = 0; i < records.length; i += batchSize) {
    const batch = records.slice(i, i + batchSize);
    const before = faulty.writes;
    await handler(kinesisEventFactory(batch));
    const touched = preAggregate(definition, batch).partials.size;
    batches.push({
      writes: faulty.writes - before,
      touched,
      closed: (added[added.length - 2] as Record<string, number>).WindowsClosed ?? 0,
    });
  }
  return { batches, stateWrites: counted.counts.state, totalWrites: faulty.writes };
}

describe('createWindowedHandler write cost', () => {
  it('writes at most distinct (key, slice) + 2 per batch that closes no window', async () => {
    // GIVEN 6 minutes of page views on one shard, 20 per minute, in batches of 10
    const definition = rename(pageViews, 'pv-cost');
    // WHEN the handler processes them
    const { batches } = await runBatches(definition, steadyEvents(6, 20), 10);
    // THEN every batch that closes no window writes <= touched + 2
    const quiet = batches.filter((b) => b.closed === 0);
    expect(quiet.length).toBeGreaterThan(3);
    for (const b of quiet) expect(b.writes).toBeLessThanOrEqual(b.touched + 2);
    expect(batches.some((b) => b.closed > 0)).toBe(true);
    console.log(
      `writes per batch (touched): ${batches.map((b) => `${b.writes}(${b.touched}${b.closed ? `,closed ${b.closed}` : ''})`).join(' ')}`,
    );
  });

  it('hopping 10m/1m issues no more state writes than tumbling 1m on the same events', async () => {
    // GIVEN the same events for a tumbling 1m and a hopping 10m/1m pipeline
    const hop = pipeline('pv-hop')
      .from('clicks', { schema: pageViews.schema })
      .filter((event) => event.type === 'page_view')
      .keyBy((event) => event.page)
      .window(hopping('10m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
      .aggregate({ views: count(), users: distinct((event) => event.userId) })
      .to('page-view-counts');
    const events = steadyEvents(12, 10);
    // WHEN both process them in the same batches
    const tumbling = await runBatches(rename(pageViews, 'pv-cmp-t'), events, 8);
    const hopping10 = await runBatches(
      rename(hop as AnyWindowedPipelineDefinition, 'pv-cmp-h'),
      events,
      8,
    );
    // THEN the batch state writes (slices + watermarks) of hopping are no more than tumbling's
    console.log(
      `state writes: tumbling ${tumbling.stateWrites}, hopping ${hopping10.stateWrites}; all writes incl. closing: tumbling ${tumbling.totalWrites}, hopping ${hopping10.totalWrites}`,
    );
    expect(hopping10.stateWrites).toBeLessThanOrEqual(tumbling.stateWrites);
  });
});

describe('createSweeperHandler on idle input', () => {
  it('closes and emits a window within idleTimeout + one sweep after the last event', async () => {
    // GIVEN a page-views pipeline whose only shard goes silent after events in [T0, T0 + 1 min)
    const definition = rename(pageViews, 'pv-idle');
    const output = `idle-out-${process.pid}`;
    await createStream(kinesis, output);
    const store = createPipelineStore(definition, { client: dynamodb, tableName });
    const outputSink = new KinesisSink({ streamName: output, client: kinesis });
    const lastEventAt = T0 + 60_000; // processing time of the last batch
    const handler = createWindowedHandler(definition, {
      store,
      outputSink,
      failureSink: nullSink,
      clock: () => lastEventAt,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
    });
    const events = steadyEvents(1, 12).slice(0, 11);
    const shardRecords = toShardRecords(events, 1);
    await handler(kinesisEventFactory(shardRecords[0] as KinesisStreamRecord[]));
    let now = lastEventAt + definition.idleTimeoutMs; // the sweep at exactly idleTimeout
    const sweeper = createSweeperHandler([definition], {
      stores: { [definition.name]: store },
      outputSinks: { [definition.name]: outputSink },
      clock: () => now,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
      tailProbe: drainedTailProbe(shardRecords),
    });

    // WHEN the sweeper runs at idleTimeout (shard not idle yet), then one sweep (1 min) later
    const early = await sweeper();
    now += 60_000;
    const late = await sweeper();

    // THEN the window is closed by the second sweep and its final result is on the stream
    expect(early[0]?.closed).toBe(0);
    expect(late[0]).toMatchObject({ closed: 3, mode: 'processing-time' });
    const results = (await readStream(output)).filter((r) => r.pipeline === definition.name);
    expect(results.map((r) => [r.key, r.values, r.final]).sort()).toEqual([
      ['/a', { views: 4, users: 4 }, true],
      ['/b', { views: 3, users: 3 }, true],
      ['/home', { views: 4, users: 4 }, true],
    ]);
    expect(results.every((r) => r.window.start === new Date(T0).toISOString())).toBe(true);
  });

  it('keeps a silent shard with records left to read holding the watermark, until it is caught up', async () => {
    // GIVEN a shard silent for longer than idleTimeout whose stream still holds unread records
    // (backlogged, throttled or retrying a failing batch)
    const definition = rename(pageViews, 'pv-backlog');
    const store = createPipelineStore(definition, { client: dynamodb, tableName });
    const outputSink = recordingSink();
    const sent = (): WindowResult[] => outputSink.sent.map((r) => JSON.parse(String(r.data)));
    const handler = createWindowedHandler(definition, {
      store,
      outputSink,
      failureSink: nullSink,
      clock: () => T0 + 60_000,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
      tailProbe: null,
    });
    const records = toShardRecords(steadyEvents(1, 12), 1)[0] as KinesisStreamRecord[];
    await handler(kinesisEventFactory(records.slice(0, 6)));
    const probed: string[] = [];
    let backlog = true;
    const sweeper = createSweeperHandler([definition], {
      stores: { [definition.name]: store },
      outputSinks: { [definition.name]: outputSink },
      clock: () => T0 + 600_000,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
      tailProbe: async ({ sequenceNumber }) => {
        probed.push(sequenceNumber ?? 'start');
        return !backlog;
      },
    });

    // WHEN the sweeper runs ten minutes later with the backlog still there
    const [held] = await sweeper();

    // THEN the shard's event time holds the watermark: nothing is closed on wall-clock time
    expect(held).toMatchObject({ closed: 0, mode: 'event-time' });
    expect(sent()).toHaveLength(0);
    expect(probed).toEqual([records[5]?.kinesis.sequenceNumber]);

    // WHEN the backlog is read and the shard is caught up
    backlog = false;
    const [released] = await sweeper();

    // THEN the shard counts as idle and its windows close on processing time
    expect(released).toMatchObject({ mode: 'processing-time' });
    expect(released?.closed).toBeGreaterThan(0);
    expect(sent().length).toBeGreaterThan(0);
    expect(sent().every((r) => r.final)).toBe(true);
  });

  it('re-emits a window closed but never marked emitted, with the same id and values', async () => {
    // GIVEN a window whose closer crashed after closeWindow (before markEmitted)
    const definition = rename(pageViews, 'pv-repair');
    const faulty = new FaultyDynamo(dynamodb);
    const store = createPipelineStore(definition, { client: faulty.asClient(), tableName });
    const outputSink = recordingSink();
    const sent = (): WindowResult[] => outputSink.sent.map((r) => JSON.parse(String(r.data)));
    const handler = createWindowedHandler(definition, {
      store,
      outputSink,
      failureSink: nullSink,
      clock: () => T0 + 200_000,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
      tailProbe: null,
    });
    const records = toShardRecords(steadyEvents(3, 3), 1)[0] as KinesisStreamRecord[];
    await handler(kinesisEventFactory(records.slice(0, 3)));
    // the next batch passes the watermark over minute 0 (3 pages) and crashes when it marks them
    // emitted (writes: the 3 slices in one transaction, the shard's watermark and position in
    // one, the commit of the watermark, then one transaction each for the 3 closes, the 3 seals
    // and the emit marks)
    faulty.arm(6, false);
    await expect(handler(kinesisEventFactory(records.slice(3, 6)))).rejects.toThrow('injected');
    expect(sent()).toHaveLength(3);
    // WHEN the sweeper runs after the repair delay
    const sweeper = createSweeperHandler([definition], {
      stores: { [definition.name]: store },
      outputSinks: { [definition.name]: outputSink },
      clock: () => T0 + 400_000,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
      tailProbe: null,
    });
    const [report] = await sweeper();
    // THEN the window is re-emitted identically (same id, values) and marked emitted
    expect(report?.repaired).toBe(3);
    const again = sent().filter((r) => r.id === sent()[0]?.id);
    expect(again).toHaveLength(2);
    expect(new Set(again.map((r) => JSON.stringify(r.values))).size).toBe(1);
    const [second] = await sweeper();
    expect(second?.repaired).toBe(0);
  });
});

describe('WindowStore sealing (closed-window race)', () => {
  it('fails a slice write that lands after the window was sealed, reporting it LATE', async () => {
    // GIVEN a batch planned with a stale watermark, and a closer that sealed the window meanwhile
    const definition = rename(pageViews, 'pv-seal');
    const store = createPipelineStore(definition, { client: dynamodb, tableName });
    const failureSink = recordingSink();
    const failures = (): Array<{ reason: string; sequenceNumber: string }> =>
      failureSink.sent.map((r) => JSON.parse(String(r.data)));
    const outputSink = recordingSink();
    const deps = {
      store,
      outputSink,
      failureSink,
      clock: () => T0,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
    };
    const handler = createWindowedHandler(definition, deps);
    const shard0 = toShardRecords(
      [{ shard: 0, type: 'page_view', page: '/home', userId: 'u1', ts: T0 + 1_000 }],
      1,
    )[0] as KinesisStreamRecord[];
    await handler(kinesisEventFactory(shard0));
    const window = { key: '/home', start: T0, end: T0 + 60_000 };
    expect(await store.closeWindow(window, T0)).toBe('closed');
    await store.sealWindow(window, 60_000);
    // WHEN a record of that window from another shard arrives (the stale writer)
    const stale = toShardRecords(
      [
        { shard: 0, type: 'page_view', page: '/home', userId: 'u9', ts: T0 + 2_000 },
        { shard: 1, type: 'page_view', page: '/home', userId: 'u2', ts: T0 + 3_000 },
      ],
      2,
    )[1] as KinesisStreamRecord[];
    await handler(kinesisEventFactory(stale));
    // THEN the record is refused as LATE and the window's contents stay what was sealed
    expect(failures().map((f) => [f.reason, f.sequenceNumber])).toEqual([
      ['LATE', stale[0]?.kinesis.sequenceNumber],
    ]);
    expect((await store.readWindow('/home', T0, T0 + 60_000))?.acc.views).toBe(1);
    // and a replay of the first (absorbed) record is not reported late
    await handler(kinesisEventFactory(shard0));
    expect(failures()).toHaveLength(1);
  });

  it('refuses as LATE a record whose window is behind the committed watermark, even one that never existed', async () => {
    // GIVEN a pipeline whose watermark was committed 10 minutes past T0 (its windows closed)
    const definition = rename(pageViews, 'pv-behind');
    const store = createPipelineStore(definition, { client: dynamodb, tableName });
    const outputSink = recordingSink();
    const failureSink = recordingSink();
    const handler = createWindowedHandler(definition, {
      store,
      outputSink,
      failureSink,
      clock: () => T0 + 700_000,
      logger: silentLogger(),
      metrics: recordingMetrics().metrics,
      tailProbe: null,
    });
    expect(await store.commitWatermark(T0 + 600_000, T0 + 600_000)).toBe(true);

    // WHEN a record arrives for the minute at T0 + 2 min, which had no record before
    const behind = toShardRecords(
      [{ shard: 0, type: 'page_view', page: '/late', userId: 'u1', ts: T0 + 120_000 }],
      1,
    )[0] as KinesisStreamRecord[];
    await handler(kinesisEventFactory(behind));
    // and the same batch again (a retry)
    await handler(kinesisEventFactory(behind));

    // THEN it is refused as LATE each time, and no result is emitted for that minute
    const failures: Array<{ reason: string; sequenceNumber: string }> = failureSink.sent.map((r) =>
      JSON.parse(String(r.data)),
    );
    const sent: WindowResult[] = outputSink.sent.map((r) => JSON.parse(String(r.data)));
    expect(failures.map((f) => [f.reason, f.sequenceNumber])).toEqual([
      ['LATE', behind[0]?.kinesis.sequenceNumber],
      ['LATE', behind[0]?.kinesis.sequenceNumber],
    ]);
    expect(sent.filter((r) => r.key === '/late')).toEqual([]);
  });

  it('fails merged (non-additive) writes into a sealed slice too', async () => {
    // GIVEN a store whose slice was read (cached) and then sealed
    const definition = rename(pageViews, 'pv-seal-merged');
    const store = createPipelineStore(definition, { client: dynamodb, tableName });
    const delta = (seq: string, users: number[]) => ({
      key: 'k',
      sliceStart: T0,
      sliceEnd: T0 + 60_000,
      lane: 'shardId-000000000000',
      firstSeq: seq,
      lastSeq: seq,
      acc: { views: 1, users: { kind: 'exact', hashes: users }, _late: 0 },
      recompute: () => undefined,
    });
    await store.applyDeltas([delta('1', [1])]);
    await store.sealWindow({ key: 'k', start: T0, end: T0 + 60_000 }, 60_000);
    // WHEN a later record of the lane is written
    const result = await store.applyDeltas([delta('2', [2])]);
    // THEN it is refused, and reported for the records above the fence
    expect(result).toMatchObject({ applied: 0, sealed: 1 });
    expect(result.rejected).toEqual([
      expect.objectContaining({ key: 'k', lane: 'shardId-000000000000', afterSeq: '1' }),
    ]);
  });
});
