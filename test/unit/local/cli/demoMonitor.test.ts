import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { CapturedFailure } from '#local/capture/types';
import { DemoMonitor, type MonitoredRuntime } from '#local/cli/demo/DemoMonitor';
import type { DemoPipeline } from '#local/cli/demo/types';
import type { EventSourceMappingStats } from '#local/esm/types';
import { encodePack } from '#state/index';
import { packPartition } from '#state/keys';

const MIN = 60_000;
const T10 = Date.UTC(2026, 10, 26, 10, 0);

/** Kinesis stub: each stream has one shard holding the given records, returned by the first GetRecords. */
function kinesisWith(streams: Record<string, readonly unknown[]>): KinesisClient {
  const served = new Set<string>();
  const send = async (command: {
    constructor: { name: string };
    input: Record<string, unknown>;
  }) => {
    switch (command.constructor.name) {
      case 'ListShardsCommand':
        return { Shards: [{ ShardId: 'shardId-000000000000' }] };
      case 'GetShardIteratorCommand':
        return { ShardIterator: String(command.input.StreamName) };
      case 'GetRecordsCommand': {
        const stream = String(command.input.ShardIterator);
        const first = !served.has(stream);
        served.add(stream);
        const records = first ? (streams[stream] ?? []) : [];
        return {
          NextShardIterator: stream,
          Records: records.map((data, i) => ({
            SequenceNumber: String(i + 1),
            PartitionKey: 'k',
            Data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)),
            ApproximateArrivalTimestamp: new Date(T10 + 1500),
          })),
        };
      }
      default:
        throw new Error(`unexpected ${command.constructor.name}`);
    }
  };
  return { send } as unknown as KinesisClient;
}

/**
 * DynamoDB stub: the committed watermark of page-views, and its lane packs — the slices in the due
 * index and, per slice, one pack holding the keys given for it.
 */
function stateTableWith(watermark: number, due: { key: string; start: number }[]) {
  const queries: string[] = [];
  const starts = [...new Set(due.map((slice) => slice.start))];
  const send = async (command: { input: Record<string, unknown> }) => {
    const partition = (command.input.ExpressionAttributeValues as Record<string, { S: string }>)[
      ':pk'
    ]?.S as string;
    queries.push(partition);
    if (partition === 'page-views#WM') {
      return {
        Items: [
          { pk: { S: partition }, sk: { S: 'S#shardId-000000000000' }, maxEventTime: { N: '1' } },
          { pk: { S: partition }, sk: { S: 'P#watermark' }, watermark: { N: String(watermark) } },
        ],
      };
    }
    if (partition === 'page-views#SLdue') {
      return {
        Items: starts.map((start) => ({
          sliceStart: { N: String(start) },
          sliceEnd: { N: String(start + MIN) },
        })),
      };
    }
    const start = starts.find((s) => partition === packPartition('page-views', s));
    if (start !== undefined) {
      const keys = due.filter((slice) => slice.start === start).map((slice) => slice.key);
      return { Items: [{ b: { B: encodePack(keys.map((key) => [key, { views: 1 }])) } }] };
    }
    return { Items: [] };
  };
  return { client: { send } as unknown as Pick<DynamoDBClient, 'send'>, queries, starts };
}

function mapping(
  functionName: string,
  delivered: number,
  extra: Partial<EventSourceMappingStats> = {},
): EventSourceMappingStats {
  return {
    uuid: functionName,
    functionName,
    streamName: 'in',
    state: 'Enabled',
    recordsDelivered: delivered,
    batches: 1,
    invocations: 1,
    errors: 0,
    iteratorAgeMs: 0,
    millisBehindLatest: 0,
    shards: [],
    ...extra,
  };
}

const PIPELINES: DemoPipeline[] = [
  {
    name: 'enrich',
    functionName: 'fn-enrich',
    input: 'numbers',
    output: 'numbers-doubled',
    sideOutputs: [],
    failureStream: 'enrich-failures',
  },
  {
    name: 'page-views',
    functionName: 'fn-page-views',
    input: 'clicks',
    output: 'page-view-counts',
    sideOutputs: [],
    failureStream: 'page-views-failures',
    window: { kind: 'tumbling', sizeMs: MIN, slideMs: MIN, sliceMs: MIN },
  },
  {
    name: 'error-rate',
    functionName: 'fn-error-rate',
    input: 'requests',
    output: 'service-health',
    sideOutputs: ['alerts'],
    failureStream: 'error-rate-failures',
  },
];

const windowOf = (start: number, end: number) => ({
  start: new Date(start).toISOString(),
  end: new Date(end).toISOString(),
});

const STREAMS: Record<string, unknown[]> = {
  'numbers-doubled': [
    { id: 'event-0', value: 0, sentAt: T10 + 500 },
    { id: 'event-1', value: 2, sentAt: T10 + 1000 },
    { id: 'event-0', value: 0, sentAt: T10 + 500 },
  ],
  'page-view-counts': [
    { id: 'a', key: '/home', window: windowOf(T10, T10 + MIN), values: { views: 4, users: 2 } },
    { id: 'a', key: '/home', window: windowOf(T10, T10 + MIN), values: { views: 4, users: 2 } },
    { id: 'b', key: '/cart', window: windowOf(T10, T10 + MIN), values: { views: 1, users: 1 } },
    'not a result',
  ],
  'page-views-failures': [
    { reason: 'LATE', shardId: 's0', sequenceNumber: '7' },
    { reason: 'LATE', shardId: 's0', sequenceNumber: '7' },
    { reason: 'LATE', shardId: 's1', sequenceNumber: '7' },
    { reason: 'NOT_JSON', shardId: 's0', sequenceNumber: '9' },
    { reason: 'SCHEMA', shardId: 's0', sequenceNumber: '10' },
  ],
  alerts: [
    {
      id: 'x',
      pipeline: 'error-rate',
      output: 'alerts',
      key: 'checkout',
      window: windowOf(T10 - 4 * MIN, T10 + MIN),
      service: 'checkout',
      errorRate: 0.2,
      requests: 40,
      errors: 8,
      emittedAt: new Date(T10 + 2 * MIN).toISOString(),
    },
  ],
};

function failureOf(functionName: string, records: number): CapturedFailure {
  return {
    shardflow: {
      functionName,
      records: Array.from({ length: records }, () => ({
        sequenceNumber: '1',
        partitionKey: 'k',
        data: '',
        approximateArrivalTimestamp: '',
      })),
    },
  } as unknown as CapturedFailure;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('DemoMonitor', () => {
  let monitor: DemoMonitor | undefined;

  afterEach(async () => {
    await monitor?.stop();
  });

  it('counts distinct results, alerts, LATE and invalid records, failures, lag and open windows', async () => {
    // GIVEN
    const runtime: MonitoredRuntime = {
      stats: () => [
        mapping('fn-enrich', 2),
        mapping('fn-page-views', 30, { errors: 2, iteratorAgeMs: 1800 }),
        mapping('fn-error-rate', 12, { iteratorAgeMs: 400 }),
      ],
      failures: () => [failureOf('fn-page-views', 3), failureOf('fn-enrich', 0)],
    };
    const state = stateTableWith(T10 + MIN, [
      { key: '/home', start: T10 + MIN },
      { key: '/cart', start: T10 + MIN },
      { key: '/cart', start: T10 },
    ]);
    monitor = new DemoMonitor({
      pipelines: PIPELINES,
      runtime,
      kinesis: kinesisWith(STREAMS),
      dynamodb: state.client,
      stateTable: 'state',
      clock: () => T10 + 3 * MIN,
    });
    monitor.recordSent('numbers', 2);
    monitor.recordSent('clicks', 30);

    // WHEN
    monitor.start();
    await monitor.refresh();
    const m = monitor;
    await until(() => {
      const s = m.snapshot({ phase: 'running', startedAt: T10 });
      return (
        s.enrich?.duplicates === 1 && s.pipelines[1]?.invalid === 2 && s.pipelines[2]?.alerts === 1
      );
    });
    const snapshot = monitor.snapshot({ phase: 'running', startedAt: T10, durationMs: MIN });

    // THEN
    expect(snapshot.elapsedMs).toBe(3 * MIN);
    expect(snapshot.enrich).toEqual({
      sent: 2,
      received: 2,
      duplicates: 1,
      p50Ms: 500,
      p99Ms: 1000,
    });
    const [enrich, pageViews, errorRate] = snapshot.pipelines;
    expect(enrich).toMatchObject({
      name: 'enrich',
      sent: 2,
      recordsIn: 2,
      recordsOut: 2,
      failed: 0,
    });
    expect(pageViews).toMatchObject({
      sent: 30,
      recordsIn: 30,
      recordsOut: 2,
      late: 2,
      invalid: 2,
      failed: 3,
      errors: 2,
      lagMs: 1800,
      watermark: T10 + MIN,
      // slices after the watermark: /home and /cart at 10:01; /cart at 10:00 is closed
      openWindows: 2,
    });
    expect(pageViews?.recent.map((r) => r.key)).toEqual(['/home', '/cart']);
    expect(errorRate?.alerts).toBe(1);
    expect(errorRate?.recentAlerts[0]).toMatchObject({
      key: 'checkout',
      values: { service: 'checkout', errorRate: 0.2, requests: 40, errors: 8 },
    });
    expect(errorRate?.openWindows).toBeUndefined();
    // the windowed pipeline's due slices, their packs, and its watermark partition; nothing else
    expect(new Set(state.queries)).toEqual(
      new Set([
        'page-views#WM',
        'page-views#SLdue',
        ...state.starts.map((start) => packPartition('page-views', start)),
      ]),
    );
  });

  it('is caught up only when every sent record was delivered and every enrich event is back', async () => {
    // GIVEN
    let delivered = 29;
    let pending = 0;
    const runtime: MonitoredRuntime = {
      stats: () => [
        mapping('fn-enrich', 2),
        mapping('fn-page-views', delivered, {
          shards: [
            {
              shardId: 's0',
              state: 'polling',
              recordsDelivered: delivered,
              batches: 1,
              invocations: 1,
              errors: 0,
              pendingRecords: pending,
              iteratorAgeMs: 0,
              millisBehindLatest: 0,
            },
          ],
        }),
        mapping('fn-error-rate', 0),
      ],
      failures: () => [],
    };
    monitor = new DemoMonitor({
      pipelines: PIPELINES,
      runtime,
      kinesis: kinesisWith(STREAMS),
      dynamodb: stateTableWith(0, []).client,
    });
    monitor.recordSent('numbers', 2);
    monitor.recordSent('clicks', 30);
    monitor.start();
    const m = monitor;
    await until(() => m.enrich().received === 2);

    // WHEN / THEN
    expect(monitor.caughtUp()).toBe(false);
    delivered = 30;
    pending = 5;
    expect(monitor.caughtUp()).toBe(false);
    pending = 0;
    expect(monitor.caughtUp()).toBe(true);
    monitor.recordSent('numbers', 1);
    expect(monitor.caughtUp()).toBe(false);
  });
});
