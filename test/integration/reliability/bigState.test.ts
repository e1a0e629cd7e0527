import * as v8 from 'node:v8';
import * as vm from 'node:vm';
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
import { PageView, pageViews } from '#pipelines/page-views';
import { trending } from '#pipelines/trending';
import {
  type AnyWindowedPipelineDefinition,
  count,
  distinct,
  pipeline,
  preAggregate,
  session,
  span,
  toEventTime,
  topK,
  tumbling,
  type WindowResult,
} from '#runtime/index';
import type { SendStats, SinkRecord } from '#sinks/types';
import { estimateItemSize, type RawItem } from '#state/attributes';
import { WINDOW_STORE_DEFAULTS } from '#state/index';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';
import {
  FaultyDynamo,
  silentLogger,
  silentMetrics,
  useHandlerTestbed,
} from '../functions/handlers/harness';

// Hot keys and big state (issue #8): one key taking 90 % of the traffic, a window with a million
// distinct users, a session that never closes, and aggregates that would outgrow DynamoDB's
// 400 KB item limit. CI runs a reduced scale; SHARDFLOW_FULL_SCALE=1 runs the full one.

const FULL_SCALE = process.env.SHARDFLOW_FULL_SCALE === '1';
const SCALE = {
  hotKeyEvents: FULL_SCALE ? 200_000 : 10_000,
  distinctUsers: FULL_SCALE ? 1_000_000 : 100_000,
  sessionDays: FULL_SCALE ? 365 : 30,
} as const;
const TIMEOUT_MS = FULL_SCALE ? 1_800_000 : 120_000;

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
/** DynamoDB's hard limit on an item. */
const DYNAMODB_ITEM_LIMIT = 400 * 1024;
/** Writes of a batch to its shard's watermark item (event time, processedAt, position). */
const WATERMARK_WRITES = 3;
/** HyperLogLog standard error at the default precision 12 (1.04/√4096), see distinct(). */
const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(4096);

const testbed = useHandlerTestbed('big-state', []);
let names = 0;

/** A heap measurement after full garbage collections, so before/after compare live objects. */
const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();
const liveHeapBytes = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** A sink that keeps every result it is sent. */
class CapturingSink {
  readonly results: WindowResult[] = [];
  async send(records: readonly SinkRecord[]): Promise<SendStats> {
    for (const { data } of records) {
      const text =
        typeof data === 'string'
          ? data
          : data instanceof Uint8Array
            ? Buffer.from(data).toString('utf8')
            : JSON.stringify(data);
      this.results.push(JSON.parse(text) as WindowResult);
    }
    return { records: records.length, requests: 1, retries: 0, bytes: 0 };
  }
}

/** A DynamoDB client counting writes (FaultyDynamo, never armed) and the largest write request. */
class MeasuringDynamo extends FaultyDynamo {
  largestWriteBytes = 0;

  // biome-ignore lint/suspicious/noExplicitAny: forwards any command
  override async send(command: any): Promise<any> {
    if (command instanceof UpdateItemCommand || command instanceof TransactWriteItemsCommand) {
      const bytes = Buffer.byteLength(JSON.stringify(command.input));
      this.largestWriteBytes = Math.max(this.largestWriteBytes, bytes);
    }
    return super.send(command);
  }
}

/** One page-view-like record on shard 0; it arrives when it happened. */
const record = (
  seq: number,
  payload: { type?: string; page: string; userId: string; ts: number },
): KinesisStreamRecord =>
  kinesisRecordFactory({
    sequenceNumber: String(
      49_590_338_271_490_256_608_559_692_538_361_571_095_921_575n + BigInt(seq),
    ),
    partitionKey: payload.userId,
    payload: { type: 'page_view', ...payload },
    arrivalMs: payload.ts,
  });

/** A windowed pipeline, its stores on the suite's table, handler and sweeper, capturing output. */
function setup(definition: AnyWindowedPipelineDefinition) {
  const { dynamodb, tableName } = testbed();
  const client = new MeasuringDynamo(dynamodb);
  // The items layout: these cases hold its guards on one item per (key, slice) that grows batch
  // after batch. Lane packs write each batch's partials once, and their size guard (parts, and
  // STATE_TOO_LARGE for one key's partial) is held by the PackStore suites.
  const store = createPipelineStore(definition, {
    client: client.asClient(),
    tableName,
    layout: 'items',
  });
  const sessionStore =
    definition.assigner.kind === 'session'
      ? createSessionStore(definition, { client: client.asClient(), tableName })
      : undefined;
  const sink = new CapturingSink();
  const failures = new CapturingSink();
  let now = T0;
  const clock = () => now;
  const handler = createWindowedHandler(definition, {
    store,
    sessionStore,
    outputSink: sink,
    failureSink: failures,
    clock,
    logger: silentLogger(),
    metrics: silentMetrics(),
    tailProbe: null,
  });
  const sweeper = createSweeperHandler([definition], {
    stores: { [definition.name]: store },
    ...(sessionStore ? { sessionStores: { [definition.name]: sessionStore } } : {}),
    outputSinks: { [definition.name]: sink },
    clock,
    logger: silentLogger(),
    metrics: silentMetrics(),
    repairAfterMs: 0,
    tailProbe: null,
  });
  /** Delivers one batch with processing time = its newest event (a pipeline keeping up). */
  const deliver = async (records: readonly KinesisStreamRecord[]) => {
    now = Math.max(now, ...records.map((r) => r.kinesis.approximateArrivalTimestamp * 1000));
    await handler(kinesisEventFactory(records));
  };
  /** Every item of one key's partition (slices, window statuses, sessions, fences). */
  const itemsOf = async (key: string): Promise<RawItem[]> => {
    const items: RawItem[] = [];
    let start: RawItem | undefined;
    do {
      const page = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `${definition.name}#K#${key}` } },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      items.push(...((page.Items ?? []) as RawItem[]));
      start = page.LastEvaluatedKey as RawItem | undefined;
    } while (start !== undefined);
    return items;
  };
  return {
    client,
    sink,
    /** Failure records, as `WindowResult`-typed JSON (read their fields by name). */
    failures: () => failures.results as unknown as Array<Record<string, unknown>>,
    deliver,
    itemsOf,
    sweepAt: async (t: number) => {
      now = t;
      await sweeper();
    },
  };
}

const named = (definition: AnyWindowedPipelineDefinition, prefix: string) => ({
  ...definition,
  name: `${prefix}-${process.pid}-${names++}`,
});

const sortKey = (item: RawItem): string => item.sk?.S ?? '';

describe('hot key: one page takes 90 % of the traffic', () => {
  it(
    'counts exactly and writes at most touched (key, slice) + a constant per batch',
    async () => {
      // GIVEN page-views, 10 minutes of events: 9 in 10 on /hot, the rest on 5 cold pages
      const definition = named(pageViews, 'hot');
      const s = setup(definition);
      const events = SCALE.hotKeyEvents;
      const minutes = 10;
      const payloadOf = (i: number) => ({
        page: i % 10 === 9 ? `/cold-${Math.floor(i / 10) % 5}` : '/hot',
        userId: `u${i % 40}`,
        ts: T0 + Math.floor((i * minutes * MIN) / events),
      });
      const expected = new Map<string, { views: number; users: Set<string> }>();
      for (let i = 0; i < events; i++) {
        const p = payloadOf(i);
        const id = `${p.page}@${p.ts - (p.ts % MIN)}`;
        const entry = expected.get(id) ?? { views: 0, users: new Set<string>() };
        entry.views++;
        entry.users.add(p.userId);
        expected.set(id, entry);
      }
      const heapBefore = liveHeapBytes();

      // WHEN the handler processes them in batches of 500 (the event source default)
      const batches: Array<{ writes: number; touched: number; hot: number; closed: number }> = [];
      for (let from = 0; from < events; from += 500) {
        const batch = Array.from({ length: Math.min(500, events - from) }, (_, j) =>
          record(from + j, payloadOf(from + j)),
        );
        const writesBefore = s.client.writes;
        const closedBefore = s.sink.results.length;
        await s.deliver(batch);
        batches.push({
          writes: s.client.writes - writesBefore,
          touched: preAggregate(definition, batch).partials.size,
          hot: batch.filter((_, j) => payloadOf(from + j).page === '/hot').length,
          closed: s.sink.results.length - closedBefore,
        });
      }
      const heapAfter = liveHeapBytes();
      await s.sweepAt(T0 + (minutes + 5) * MIN);

      // THEN every (page, minute) is emitted once with exact values
      const finals = s.sink.results.filter((r) => r.final);
      const actual = new Map(
        finals.map((r) => [
          `${r.key}@${Date.parse(String(r.window.start))}`,
          r.values as Record<string, number>,
        ]),
      );
      expect(finals).toHaveLength(actual.size);
      expect(Object.fromEntries(actual)).toEqual(
        Object.fromEntries(
          [...expected].map(([id, e]) => [id, { views: e.views, users: e.users.size }]),
        ),
      );
      expect(actual.get(`/hot@${T0}`)?.views).toBe(Math.ceil(events / minutes) * 0.9);
      // and a batch costs one write per touched (key, slice), however many records the hot key
      // has in it, plus the shard's watermark item (event time or processedAt ≤ 2, position 1)
      // and, for each window it closes, commit + close + seal + mark emitted + leave the due
      // index (≤ 1 + 4 per window)
      for (const b of batches) {
        expect(b.hot).toBeGreaterThanOrEqual(440);
        expect(b.writes).toBeLessThanOrEqual(
          b.touched + WATERMARK_WRITES + (b.closed > 0 ? 1 : 0) + 4 * b.closed,
        );
      }
      const quiet = batches.filter((b) => b.closed === 0);
      expect(quiet.length).toBeGreaterThan(batches.length / 2);
      console.log(
        `hot key: ${events} events, ${batches.length} batches of 500 (~${batches[0]?.hot} on /hot); ` +
          `writes per quiet batch max ${Math.max(...quiet.map((b) => b.writes))} for ≤ ${Math.max(...quiet.map((b) => b.touched))} touched slices; ` +
          `total writes ${s.client.writes}; heap ${mib(heapBefore)} → ${mib(heapAfter)}`,
      );
    },
    TIMEOUT_MS,
  );
});

describe('a window with a million distinct users', () => {
  it(
    'keeps the slice item bounded (HyperLogLog) and estimates within 3 standard errors',
    async () => {
      // GIVEN one page, one 1-hour window, N distinct users (each seen once)
      const definition = named(
        pipeline('big-users')
          .from('clicks', { schema: PageView })
          .keyBy((event) => event.page)
          .window(tumbling('1h'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
          .aggregate({ views: count(), users: distinct((event) => event.userId) })
          .emit('final')
          .to('page-view-counts') as AnyWindowedPipelineDefinition,
        'users',
      );
      const s = setup(definition);
      const users = SCALE.distinctUsers;
      const batchSize = 2000;
      const sizes = new Map<number, number>();
      const sliceSize = async () => {
        const slices = (await s.itemsOf('/home')).filter((i) => sortKey(i).startsWith('S#'));
        expect(slices).toHaveLength(1);
        return estimateItemSize(slices[0] as RawItem);
      };
      const heapBefore = liveHeapBytes();

      // WHEN the handler processes them in batches of 2,000 (records built per batch, as Lambda
      // delivers them)
      for (let from = 0; from < users; from += batchSize) {
        const batch = Array.from({ length: Math.min(batchSize, users - from) }, (_, j) =>
          record(from + j, {
            page: '/home',
            userId: `user-${from + j}`,
            ts: T0 + Math.floor(((from + j) * 59 * MIN) / users),
          }),
        );
        await s.deliver(batch);
        const seen = from + batch.length;
        if (seen === batchSize || seen === 10_000 || seen === users) {
          sizes.set(seen, await sliceSize());
        }
      }
      const heapAfter = liveHeapBytes();
      await s.sweepAt(T0 + 2 * 60 * MIN);

      // THEN the item stopped growing once distinct() switched to HyperLogLog (4,096 base64
      // characters at precision 12), far below the 400 KB limit
      const atTenThousand = sizes.get(10_000) as number;
      const atEnd = sizes.get(users) as number;
      expect(atEnd).toBeLessThan(8 * 1024);
      expect(atEnd - atTenThousand).toBeLessThanOrEqual(16);
      // the handler's heap holds no per-user state: growth stays far below one byte per user
      // above what one batch needs
      expect(heapAfter - heapBefore).toBeLessThan(32 * 1024 * 1024);
      // and the final estimate is within 3 standard errors (deterministic: fixed ids and hash)
      const finals = s.sink.results.filter((r) => r.final);
      expect(finals).toHaveLength(1);
      const values = finals[0]?.values as { views: number; users: number };
      expect(values.views).toBe(users);
      const error = Math.abs(values.users - users) / users;
      expect(error).toBeLessThanOrEqual(3 * HLL_STANDARD_ERROR);
      console.log(
        `distinct users: ${users} → estimate ${values.users} (error ${(error * 100).toFixed(2)} %, ` +
          `standard error ${(HLL_STANDARD_ERROR * 100).toFixed(2)} %); slice item ${[...sizes]
            .map(([n, bytes]) => `${bytes} B at ${n}`)
            .join(', ')}; heap ${mib(heapBefore)} → ${mib(heapAfter)}`,
      );
    },
    TIMEOUT_MS,
  );
});

describe('a session window that never closes', () => {
  it(
    'keeps one session item of bounded size over a long event-time span',
    async () => {
      // GIVEN a user active every 3 to 7 minutes (gap 30 minutes) for many days, on 500 pages
      const definition = named(
        pipeline('forever')
          .from('clicks', { schema: PageView })
          .keyBy((event) => event.userId)
          .window(session('30m'), { eventTime: (event) => event.ts })
          .aggregate({
            events: count(),
            pages: distinct((event) => event.page),
            durationMs: span((event) => toEventTime(event.ts) ?? Number.NaN),
          })
          .emit('update')
          .to('user-sessions') as AnyWindowedPipelineDefinition,
        'forever',
      );
      const s = setup(definition);
      const timestamps: number[] = [];
      for (let t = T0, i = 0; t < T0 + SCALE.sessionDays * DAY; i++) {
        timestamps.push(t);
        t += (3 + (i % 5)) * MIN;
      }
      const sessionItems = async () =>
        (await s.itemsOf('forever-user')).filter(
          (i) => sortKey(i).startsWith('X#') && sortKey(i) !== 'X#~fences',
        );
      const sizes: Array<{ day: number; bytes: number }> = [];
      const heapBefore = liveHeapBytes();

      // WHEN the handler processes the events in batches of 500
      for (let from = 0; from < timestamps.length; from += 500) {
        const batch = timestamps.slice(from, from + 500).map((ts, j) =>
          record(from + j, {
            page: `/p${(from + j) % 500}`,
            userId: 'forever-user',
            ts,
          }),
        );
        await s.deliver(batch);
        const items = await sessionItems();
        // THEN after every batch there is exactly one open session, starting at the first event
        expect(items.map(sortKey)).toEqual([`X#${String(T0).padStart(16, '0')}`]);
        const last = timestamps[Math.min(from + 500, timestamps.length) - 1] as number;
        sizes.push({ day: (last - T0) / DAY, bytes: estimateItemSize(items[0] as RawItem) });
      }
      const heapAfter = liveHeapBytes();

      // and its item does not grow: counters, a span and a fixed-size sketch
      const first = sizes[1] as { bytes: number };
      const last = sizes[sizes.length - 1] as { bytes: number };
      expect(last.bytes).toBeLessThan(8 * 1024);
      expect(last.bytes - first.bytes).toBeLessThanOrEqual(32);
      // it is never final, and its running values are exact
      expect(s.sink.results.filter((r) => r.final)).toEqual([]);
      const latest = s.sink.results[s.sink.results.length - 1] as WindowResult;
      const lastTs = timestamps[timestamps.length - 1] as number;
      expect(latest.window).toEqual({
        start: new Date(T0).toISOString(),
        end: new Date(lastTs + 30 * MIN).toISOString(),
      });
      expect(latest.values).toMatchObject({ events: timestamps.length, durationMs: lastTs - T0 });
      expect(Math.abs((latest.values as { pages: number }).pages - 500)).toBeLessThanOrEqual(
        500 * 3 * HLL_STANDARD_ERROR,
      );
      expect(heapAfter - heapBefore).toBeLessThan(32 * 1024 * 1024);
      console.log(
        `never-closing session: ${timestamps.length} events over ${SCALE.sessionDays} days, item ` +
          `${first.bytes} B after day ${(sizes[1]?.day ?? 0).toFixed(1)} → ${last.bytes} B; ` +
          `heap ${mib(heapBefore)} → ${mib(heapAfter)}`,
      );
    },
    TIMEOUT_MS,
  );
});

describe('state that would outgrow a DynamoDB item', () => {
  it(
    'seals an item that would outgrow its limit as full: what it cannot hold goes to the failure stream as STATE_TOO_LARGE, the window is emitted with the rest',
    async () => {
      // GIVEN a top-k with room for 4,000 counters of 100-character product ids: ~430 KB of JSON
      const definition = named(
        pipeline('too-big')
          .from('product-views', { schema: trending.schema })
          .keyBy((event) => event.category)
          .window(tumbling('1m'), { eventTime: (event) => event.ts })
          .aggregate({ top: topK(10, (event) => event.productId, { capacity: 4_000 }) })
          .emit('final')
          .to('trending-products') as AnyWindowedPipelineDefinition,
        'too-big',
      );
      const s = setup(definition);
      const batchOf = (n: number) =>
        Array.from({ length: 500 }, (_, j) => {
          const i = n * 500 + j;
          return kinesisRecordFactory({
            sequenceNumber: String(1_000_000 + i),
            partitionKey: `u${i}`,
            payload: {
              productId: `product-${String(i).padStart(6, '0')}-${'x'.repeat(85)}`,
              category: 'books',
              userId: `u${i}`,
              ts: T0 + i,
            },
            arrivalMs: T0 + i,
          });
        });

      // WHEN distinct products keep arriving in batches of 500 until the item is full, then one
      // more batch, and the full batch once more (a retry)
      let batches = 0;
      for (; batches < 20 && s.failures().length === 0; batches++)
        await s.deliver(batchOf(batches));
      const full = batches - 1;
      const sliceBefore = (await s.itemsOf('books')).find((i) => sortKey(i).startsWith('S#'));
      await s.deliver(batchOf(batches));
      await s.deliver(batchOf(full));
      const sliceAfter = (await s.itemsOf('books')).find((i) => sortKey(i).startsWith('S#'));

      // THEN no batch failed; the records of the batch that would not fit, and of every later
      // one, are refused as STATE_TOO_LARGE, element by element, none twice counted
      const refused = s.failures();
      expect(new Set(refused.map((f) => f.reason))).toEqual(new Set(['STATE_TOO_LARGE']));
      const refusedIds = new Set(refused.map((f) => f.sequenceNumber as string));
      expect(refusedIds.size).toBe(1_000);
      for (const f of refused) expect(f).toMatchObject({ elements: [0], elementCount: 1 });
      // the item holds what came before, is sealed as full, stays under the guard, and no write
      // request came near 400 KB; the retry changed nothing
      const stored = sliceBefore as RawItem;
      expect(stored.sealed?.BOOL).toBe(true);
      expect(stored.full?.BOOL).toBe(true);
      expect(estimateItemSize(stored)).toBeLessThanOrEqual(WINDOW_STORE_DEFAULTS.maxItemBytes);
      expect(s.client.largestWriteBytes).toBeLessThan(DYNAMODB_ITEM_LIMIT);
      const counters = JSON.parse(stored.a_top?.S ?? '{}') as { n: number; counters: unknown[] };
      expect(counters.n).toBe(full * 500);
      expect(sliceAfter).toEqual(sliceBefore);
      // and the window is emitted with exactly what the item holds
      await s.sweepAt(T0 + 86_400_000);
      const result = s.sink.results.find((r) => r.key === 'books' && r.final);
      expect(result?.values).toMatchObject({ top: expect.any(Array) });
      console.log(
        `item guard: sealed full after ${full} batches (${counters.counters.length} counters, ` +
          `${estimateItemSize(stored)} B); ${refusedIds.size} records refused as STATE_TOO_LARGE; ` +
          `largest write request ${s.client.largestWriteBytes} B`,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'never writes an item over the guard for one record with a 360 KB top-k value (shipped trending)',
    async () => {
      // GIVEN the shipped trending pipeline and a record whose productId is 360 KB (schema-valid,
      // below Kinesis's 1 MiB record limit)
      const definition = named(trending as unknown as AnyWindowedPipelineDefinition, 'trend-big');
      const s = setup(definition);
      const good = kinesisRecordFactory({
        sequenceNumber: '2000001',
        payload: { productId: 'p1', category: 'books', userId: 'u1', ts: T0 },
        arrivalMs: T0,
      });
      const huge = kinesisRecordFactory({
        sequenceNumber: '2000002',
        payload: { productId: 'p'.repeat(360 * 1024), category: 'books', userId: 'u2', ts: T0 + 1 },
        arrivalMs: T0 + 1,
      });

      // WHEN the handler gets a batch with it
      const outcome = await s.deliver([good, huge]).then(
        () => undefined,
        (error: unknown) => error,
      );

      // THEN the batch does not fail: the item is sealed as full, and what the batch brought
      // it (both records: one contribution) is refused to the failure stream as
      // STATE_TOO_LARGE; no write request reached DynamoDB's 400 KB limit
      expect(outcome).toBeUndefined();
      expect(s.failures().map((f) => [f.reason, f.sequenceNumber])).toEqual([
        ['STATE_TOO_LARGE', '2000001'],
        ['STATE_TOO_LARGE', '2000002'],
      ]);
      expect(s.client.largestWriteBytes).toBeLessThan(DYNAMODB_ITEM_LIMIT);
      for (const item of await s.itemsOf('books')) {
        expect(estimateItemSize(item)).toBeLessThanOrEqual(WINDOW_STORE_DEFAULTS.maxItemBytes);
      }
      console.log(
        `one 360 KB top-k value: ${outcome === undefined ? 'accepted/refused without failing the batch' : `batch failed with ${(outcome as Error).name}`}; largest write request ${s.client.largestWriteBytes} B`,
      );
    },
    TIMEOUT_MS,
  );
});
