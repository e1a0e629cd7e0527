import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  type DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import { localClients } from '#local/aws/index';
import type { AnyWindowedPipelineDefinition, WindowResult } from '#runtime/index';
import { recordMeta, resultId } from '#runtime/index';
import type { ShardTailProbe } from '#state/index';
import { useEngines } from '#test/helpers/engines';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';
import { createStateTable } from '../state/stateTable';

/** An injected crash of the invocation. */
export class InjectedCrash extends Error {
  constructor(what: string) {
    super(`injected crash: ${what}`);
    this.name = 'InjectedCrash';
  }
}

/**
 * A DynamoDB client whose N-th write (UpdateItem or TransactWriteItems, counted from `arm`)
 * crashes the invocation, either before the write reaches DynamoDB or after it took effect.
 * Counts every such write.
 */
export class FaultyDynamo {
  writes = 0;
  #failAt: number | undefined;
  #afterWrite = false;

  constructor(private readonly inner: DynamoDBClient) {}

  arm(nth: number, afterWrite: boolean): void {
    this.#failAt = this.writes + nth;
    this.#afterWrite = afterWrite;
  }

  disarm(): void {
    this.#failAt = undefined;
  }

  // biome-ignore lint/suspicious/noExplicitAny: forwards any command
  async send(command: any): Promise<any> {
    const isWrite =
      command instanceof UpdateItemCommand || command instanceof TransactWriteItemsCommand;
    if (isWrite) {
      this.writes++;
      if (this.writes === this.#failAt) {
        this.#failAt = undefined;
        if (this.#afterWrite) await this.#forward(command);
        throw new InjectedCrash(`UpdateItem #${this.writes}`);
      }
    }
    return this.inner.send(command);
  }

  asClient(): DynamoDBClient {
    return this as unknown as DynamoDBClient;
  }

  #forward(command: unknown): Promise<unknown> {
    return (this.inner as unknown as { send(c: unknown): Promise<unknown> }).send(command);
  }
}

/**
 * A Kinesis client that fails a fraction of PutRecords entries (as throttled) without sending
 * them, and records every entry Kinesis accepted: the output the stream really holds.
 */
export class FaultyKinesis {
  failRate = 0;
  readonly accepted: Array<{ stream: string; partitionKey: string; data: unknown }> = [];

  constructor(
    private readonly inner: KinesisClient,
    private readonly random: () => number = Math.random,
  ) {}

  // biome-ignore lint/suspicious/noExplicitAny: forwards any command
  async send(command: any): Promise<any> {
    if (!(command instanceof PutRecordsCommand)) return this.inner.send(command);
    const entries = command.input.Records ?? [];
    const fail = entries.map(() => this.random() < this.failRate);
    const sent = entries.filter((_, i) => !fail[i]);
    const out =
      sent.length === 0
        ? { Records: [], FailedRecordCount: 0 }
        : await this.inner.send(new PutRecordsCommand({ ...command.input, Records: sent }));
    const results: PutRecordsResultEntry[] = [];
    let j = 0;
    let failed = out.FailedRecordCount ?? 0;
    entries.forEach((entry, i) => {
      if (fail[i]) {
        failed++;
        results.push({
          ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: 'injected',
        });
        return;
      }
      const result = out.Records?.[j++] ?? {};
      results.push(result);
      if (result.ErrorCode === undefined) {
        this.accepted.push({
          stream: command.input.StreamName ?? '',
          partitionKey: entry.PartitionKey ?? '',
          data: JSON.parse(Buffer.from(entry.Data ?? new Uint8Array()).toString('utf8')),
        });
      }
    });
    return { ...out, Records: results, FailedRecordCount: failed };
  }

  asClient(): KinesisClient {
    return this as unknown as KinesisClient;
  }
}

/** Creates a one-shard stream and waits until it is ACTIVE. */
export async function createStream(
  kinesis: KinesisClient,
  streamName: string,
  shardCount = 1,
): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  for (let i = 0; i < 200; i++) {
    const { StreamDescription } = await kinesis.send(
      new DescribeStreamCommand({ StreamName: streamName }),
    );
    if (StreamDescription?.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

/** The clients, state table and streams of a handler suite. */
export interface HandlerTestbed {
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
  readonly tableName: string;
}

/**
 * Starts the engines for the enclosing suite, creates a fresh state table (`tablePrefix`) and the
 * one-shard `streams` (beforeAll); destroys the clients after it (afterAll). Call the returned
 * function inside tests or hooks.
 *
 * @example
 * ```ts
 * const testbed = useHandlerTestbed('sessions', [OUTPUT, FAILURES]);
 * it('emits', async () => {
 *   const { dynamodb, kinesis, tableName } = testbed();
 * });
 * ```
 */
export function useHandlerTestbed(
  tablePrefix: string,
  streams: readonly string[],
): () => HandlerTestbed {
  const engines = useEngines();
  let testbed: HandlerTestbed | undefined;
  let clients: { dynamodb: DynamoDBClient; kinesis: KinesisClient } | undefined;
  beforeAll(async () => {
    clients = localClients(engines().endpoints);
    const { dynamodb, kinesis } = clients;
    const tableName = await createStateTable(dynamodb, tablePrefix);
    for (const stream of streams) await createStream(kinesis, stream);
    testbed = { dynamodb, kinesis, tableName };
  }, 180_000);
  afterAll(() => {
    clients?.dynamodb.destroy();
    clients?.kinesis.destroy();
  });
  return () => {
    if (testbed === undefined) {
      throw new Error('useHandlerTestbed(): use the getter inside a test or hook');
    }
    return testbed;
  };
}

/** A powertools logger that logs nothing. */
export const silentLogger = (): Logger => new Logger({ serviceName: 'test', logLevel: 'SILENT' });

/** A powertools metrics instance that publishes nothing. */
export const silentMetrics = (): Metrics => {
  const metrics = new Metrics({ namespace: 'test', serviceName: 'test' });
  metrics.publishStoredMetrics = () => metrics;
  return metrics;
};

/** A fast-check generator of choices, drawn as a schedule runs. */
export type Gen = fc.GeneratorValue;

/** A handler under test, invoked with a Kinesis event. */
export type BatchHandler = (event: { Records: KinesisStreamRecord[] }) => Promise<unknown>;

/** How {@link deliverShards} injects faults. */
export interface DeliveryFaults {
  readonly dynamo: FaultyDynamo;
  /** A crashed invocation crashes at a random DynamoDB write from 1 to this. */
  readonly maxFaultWrite: number;
}

/**
 * Lambda's delivery of every shard, until each shard's checkpoint passed all its records: a
 * random shard at a time, sometimes two shards at once (see {@link deliverShard}).
 */
export async function deliverShards(
  g: Gen,
  handler: BatchHandler,
  shardRecords: readonly KinesisStreamRecord[][],
  faults: DeliveryFaults,
): Promise<void> {
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
}

/**
 * Lambda's delivery of one shard: batches cut at random from the checkpoint; an invocation may
 * crash (an injected fault at the N-th DynamoDB write, before or after it takes effect), then
 * be retried whole or bisected; a committed batch may be replayed from a sequence number inside
 * it or delivered twice at once.
 */
export async function deliverShard(
  g: Gen,
  handler: BatchHandler,
  records: readonly KinesisStreamRecord[],
  state: { checkpoint: number },
  faults: DeliveryFaults,
): Promise<void> {
  const size = g(fc.integer, { min: 1, max: 6 });
  const batch = records.slice(state.checkpoint, state.checkpoint + size);
  if (batch.length > 1 && g(fc.integer, { min: 0, max: 2 }) === 0) {
    // An earlier invocation of a shorter batch crashed after some writes; Lambda re-cuts the batch.
    faults.dynamo.arm(g(fc.integer, { min: 1, max: 4 }), true);
    await handler(
      kinesisEventFactory(batch.slice(0, g(fc.integer, { min: 1, max: batch.length - 1 }))),
    ).catch(() => undefined);
    faults.dynamo.disarm();
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

/** One batch until it succeeds: faults above `depth` 3 are off; a failure retries or bisects. */
async function deliver(
  g: Gen,
  handler: BatchHandler,
  batch: readonly KinesisStreamRecord[],
  faults: DeliveryFaults,
  depth: number,
): Promise<void> {
  if (batch.length === 0) return;
  const fault = depth >= 3 ? false : g(fc.integer, { min: 0, max: 3 }) === 0;
  if (fault) faults.dynamo.arm(g(fc.integer, { min: 1, max: faults.maxFaultWrite }), g(fc.boolean));
  try {
    await handler(kinesisEventFactory(batch));
    faults.dynamo.disarm();
    return;
  } catch {
    faults.dynamo.disarm();
  }
  if (batch.length > 1 && g(fc.boolean)) {
    const half = Math.ceil(batch.length / 2);
    await deliver(g, handler, batch.slice(0, half), faults, depth + 1);
    await deliver(g, handler, batch.slice(half), faults, depth + 1);
  } else {
    await deliver(g, handler, batch, faults, depth + 1);
  }
}

/** `shardId:sequenceNumber` of every record of `pipeline` sent to `failuresStream` as LATE. */
export function lateRecords(
  accepted: FaultyKinesis['accepted'],
  failuresStream: string,
  pipeline: string,
): string[] {
  return accepted
    .filter((a) => a.stream === failuresStream)
    .map(
      (a) =>
        a.data as { pipeline: string; reason: string; shardId: string; sequenceNumber: string },
    )
    .filter((f) => f.pipeline === pipeline && f.reason === 'LATE')
    .map((f) => `${f.shardId}:${f.sequenceNumber}`);
}

/** A page-views-like input event. */
export interface ClickEvent {
  readonly shard: number;
  readonly type: 'page_view' | 'click';
  readonly page: string;
  readonly userId: string;
  readonly ts: number;
}

const SEQUENCE_BASE = 49590338271490256608559692538361571095921575989136588898n;

/** The Kinesis records of each shard's events, with increasing sequence numbers per shard. */
export function toShardRecords(
  events: readonly ClickEvent[],
  shards: number,
): KinesisStreamRecord[][] {
  const perShard: KinesisStreamRecord[][] = Array.from({ length: shards }, () => []);
  for (const event of events) {
    const list = perShard[event.shard] as KinesisStreamRecord[];
    list.push(
      kinesisRecordFactory({
        shardId: `shardId-00000000000${event.shard}`,
        sequenceNumber: String(SEQUENCE_BASE + BigInt(list.length * 7 + event.shard)),
        partitionKey: event.userId,
        payload: { type: event.type, page: event.page, userId: event.userId, ts: event.ts },
        arrivalMs: event.ts,
      }),
    );
  }
  return perShard;
}

/**
 * A tail probe faithful to the shards' records: a shard is caught up once its last record has been
 * processed (the position reported is at or after it), as Kinesis would answer.
 */
export function drainedTailProbe(shardRecords: readonly KinesisStreamRecord[][]): ShardTailProbe {
  const last = new Map<string, string>();
  for (const records of shardRecords) {
    const tail = records.at(-1);
    if (tail !== undefined) last.set(recordMeta(tail).shardId, tail.kinesis.sequenceNumber);
  }
  return async ({ shardId, sequenceNumber }) => {
    const tail = last.get(shardId);
    if (sequenceNumber === undefined) return tail === undefined; // from its start: empty?
    return tail === undefined || compareSequenceNumbers(sequenceNumber, tail) >= 0;
  };
}

/** An expected final result: id, values and late count. */
export interface ExpectedResult {
  readonly id: string;
  readonly key: string;
  readonly start: number;
  readonly values: { readonly views: number; readonly users: number };
  readonly late: number;
}

/**
 * Brute-force oracle of a page-views-like pipeline: every page_view event except those refused as
 * LATE, in every window of the assigner that contains it; `late` counts events whose slice had
 * ended before the max event time of the earlier records of their shard.
 */
export function oracle(
  definition: AnyWindowedPipelineDefinition,
  shardRecords: readonly KinesisStreamRecord[][],
  refused: ReadonlySet<string>,
): Map<string, ExpectedResult> {
  const assigner = definition.assigner;
  if (assigner.kind === 'session') throw new Error('sliced only');
  const acc = new Map<
    string,
    { key: string; start: number; end: number; views: number; users: Set<string>; late: number }
  >();
  for (const records of shardRecords) {
    let max = Number.NEGATIVE_INFINITY;
    for (const record of records) {
      const event = JSON.parse(
        Buffer.from(record.kinesis.data, 'base64').toString('utf8'),
      ) as ClickEvent;
      if (event.type !== 'page_view') continue;
      const wasLate = assigner.sliceOf(event.ts) + assigner.sliceMs <= max;
      max = Math.max(max, event.ts);
      if (refused.has(`${record.eventID}`)) continue;
      for (const w of assigner.windowsOf(event.ts)) {
        const id = resultId(definition.name, event.page, w, true);
        let entry = acc.get(id);
        if (entry === undefined) {
          entry = {
            key: event.page,
            start: w.start,
            end: w.end,
            views: 0,
            users: new Set(),
            late: 0,
          };
          acc.set(id, entry);
        }
        entry.views++;
        entry.users.add(event.userId);
        if (wasLate) entry.late++;
      }
    }
  }
  const expected = new Map<string, ExpectedResult>();
  for (const [id, e] of acc) {
    expected.set(id, {
      id,
      key: e.key,
      start: e.start,
      values: { views: e.views, users: e.users.size },
      late: e.late,
    });
  }
  return expected;
}

/** Final results captured on the output stream, grouped by id. */
export function finalResultsById(
  accepted: FaultyKinesis['accepted'],
  pipeline: string,
): Map<string, WindowResult[]> {
  const byId = new Map<string, WindowResult[]>();
  for (const { data } of accepted) {
    const result = data as WindowResult;
    if (result.pipeline !== pipeline || !result.final) continue;
    const list = byId.get(result.id) ?? [];
    list.push(result);
    byId.set(result.id, list);
  }
  return byId;
}

/** An expected final session result. */
export interface ExpectedSession {
  readonly id: string;
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly values: { readonly pages: number; readonly clicks: number; readonly durationMs: number };
}

/**
 * Brute-force oracle of a sessions-like pipeline (key userId, gap `gapMs`): per user, the events
 * not refused as LATE sorted by time and split wherever the next event is more than `gapMs`
 * after the previous one.
 */
export function sessionOracle(
  pipelineName: string,
  gapMs: number,
  shardRecords: readonly KinesisStreamRecord[][],
  refused: ReadonlySet<string>,
): Map<string, ExpectedSession> {
  const byUser = new Map<string, ClickEvent[]>();
  for (const records of shardRecords) {
    for (const record of records) {
      if (refused.has(record.eventID)) continue;
      const event = JSON.parse(
        Buffer.from(record.kinesis.data, 'base64').toString('utf8'),
      ) as ClickEvent;
      const list = byUser.get(event.userId) ?? [];
      list.push(event);
      byUser.set(event.userId, list);
    }
  }
  const expected = new Map<string, ExpectedSession>();
  for (const [user, events] of byUser) {
    events.sort((a, b) => a.ts - b.ts);
    let current: ClickEvent[] = [];
    const close = (): void => {
      const first = (current[0] as ClickEvent).ts;
      const last = (current[current.length - 1] as ClickEvent).ts;
      const window = { start: first, end: last + gapMs };
      const id = resultId(pipelineName, user, window, true);
      expected.set(id, {
        id,
        key: user,
        ...window,
        values: {
          pages: current.filter((e) => e.type === 'page_view').length,
          clicks: current.filter((e) => e.type === 'click').length,
          durationMs: last - first,
        },
      });
    };
    for (const event of events) {
      const previous = current[current.length - 1];
      if (previous !== undefined && event.ts > previous.ts + gapMs) {
        close();
        current = [];
      }
      current.push(event);
    }
    if (current.length > 0) close();
  }
  return expected;
}
