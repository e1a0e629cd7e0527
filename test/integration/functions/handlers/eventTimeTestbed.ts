import type { KinesisStreamRecord } from 'aws-lambda';
import { createPipelineStore } from '#handlers/factories/createPipelineStore';
import { createSessionStore } from '#handlers/factories/createSessionStore';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import type { PipelineStore, RecordSink } from '#handlers/types';
import type { AnyWindowedPipelineDefinition, WindowResult } from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import type { OpenShardLister, ShardTailProbe } from '#state/index';
import { recordingSink } from '#test/helpers/handlerStubs';
import { kinesisEventFactory, kinesisRecordFactory } from '#test/helpers/kinesisFactories';
import { type HandlerTestbed, silentLogger, silentMetrics, useHandlerTestbed } from './harness';

/** The simulated clock's start: 2026-11-26 10:00:00 UTC, epoch ms. */
export const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
/** One second, in ms. */
export const SEC = 1_000;
/** One minute, in ms. */
export const MIN = 60 * SEC;
/** One day, in ms. */
export const DAY = 24 * 60 * MIN;

/** The sequence number before a shard's first record. */
const FIRST_SEQUENCE = 49590338271490256608559692538361571095921575989136588898n;

/** A page-views input event on a shard. */
export interface View {
  readonly shard: number;
  /** @default 'page_view' */
  readonly type?: 'page_view' | 'click';
  /** @default '/home' */
  readonly page?: string;
  readonly userId: string;
  /** Event time: epoch ms, or an ISO-8601 string. */
  readonly ts: number | string;
  /** Arrival in Kinesis. @default ts */
  readonly arrival?: number;
}

/** How {@link EventTimeTestbed.setup} wires the handler and sweeper. */
export interface SetupOptions {
  /** Answers the tail probe. @default every shard is caught up */
  readonly tailProbe?: ShardTailProbe;
  /** Lists the stream's open shards. @default none listed */
  readonly openShards?: OpenShardLister;
  /** Item size limit of the stores. @default the stores' own */
  readonly maxItemBytes?: number;
  /**
   * Sends failure records through a `KinesisSink` to the testbed's failure stream on kinesis-mock
   * (and records what it accepted). @default false: failure records are only recorded
   */
  readonly realFailureStream?: boolean;
}

/** A pipeline's handler and sweeper on the test table, driven by a clock the test moves. */
export interface Setup {
  /** The pipeline, under a name of its own. */
  readonly definition: AnyWindowedPipelineDefinition;
  /** The store the sweeper uses. */
  readonly store: PipelineStore;
  /** Hands `views` to the handler as one batch. */
  readonly handle: (views: readonly View[]) => Promise<unknown>;
  /** Hands `batch` to the handler. */
  readonly deliver: (batch: readonly KinesisStreamRecord[]) => Promise<unknown>;
  /** Runs the sweeper once. */
  readonly sweep: () => Promise<unknown>;
  /** The final results emitted so far. */
  readonly finals: () => WindowResult[];
  /** The failure records sent so far. */
  readonly failures: () => Array<Record<string, unknown>>;
  /** Sets the simulated clock (epoch ms). */
  readonly setNow: (t: number) => void;
}

/** What {@link useEventTimeTestbed} gives a suite. */
export interface EventTimeTestbed {
  /** The suite's clients and state table (inside a test or hook). */
  readonly testbed: () => HandlerTestbed;
  /** Kinesis records of `views`, with increasing sequence numbers per shard across calls. */
  readonly records: (views: readonly View[]) => KinesisStreamRecord[];
  /** `base` with the process id and a counter, so each pipeline has state of its own. */
  readonly uniqueName: (base: string) => string;
  /**
   * A fresh copy of `base`, its handler and sweeper on the test table, with recording sinks and a
   * clock (starting at {@link T0}) the test moves.
   */
  readonly setup: (base: AnyWindowedPipelineDefinition, options?: SetupOptions) => Setup;
}

/** `data` of a sent record, parsed when it is a string. */
export const parsed = <T>(data: unknown): T =>
  (typeof data === 'string' ? JSON.parse(data) : data) as T;

/** Final results by id: every id must carry one set of values. */
export function valuesById(finals: readonly WindowResult[]): Map<string, Set<string>> {
  const byId = new Map<string, Set<string>>();
  for (const r of finals) {
    const set = byId.get(r.id) ?? new Set<string>();
    set.add(JSON.stringify(r.values));
    byId.set(r.id, set);
  }
  return byId;
}

/** A sink that forwards to `sink` and keeps, in `into`, what `sink` accepted. */
const keepingAccepted = (sink: RecordSink, into: ReturnType<typeof recordingSink>): RecordSink => ({
  send: async (sent) => {
    const result = await sink.send(sent);
    into.sent.push(...sent);
    return result;
  },
});

/**
 * Starts the engines for the enclosing event-time suite with a fresh state table (`tablePrefix`)
 * and, when named, a `failureStream` on kinesis-mock; call it at the top of the test file.
 *
 * @example
 * ```ts
 * const { setup } = useEventTimeTestbed('event-time');
 * it('counts', async () => {
 *   const s = setup(pageViews);
 *   s.setNow(T0 + MIN);
 *   await s.handle([{ shard: 0, userId: 'a', ts: T0 }]);
 * });
 * ```
 */
export function useEventTimeTestbed(tablePrefix: string, failureStream?: string): EventTimeTestbed {
  const testbed = useHandlerTestbed(
    tablePrefix,
    failureStream === undefined ? [] : [failureStream],
  );
  let names = 0;
  const sequences = new Map<string, bigint>();
  const uniqueName = (base: string): string => `${base}-${process.pid}-${names++}`;

  const records = (views: readonly View[]): KinesisStreamRecord[] =>
    views.map((v) => {
      const shardId = `shardId-00000000000${v.shard}`;
      const next = (sequences.get(shardId) ?? FIRST_SEQUENCE) + 10n;
      sequences.set(shardId, next);
      return kinesisRecordFactory({
        shardId,
        sequenceNumber: String(next),
        partitionKey: v.userId,
        payload: {
          type: v.type ?? 'page_view',
          page: v.page ?? '/home',
          userId: v.userId,
          ts: v.ts,
        },
        arrivalMs: v.arrival ?? Number(v.ts),
      });
    });

  const setup = (base: AnyWindowedPipelineDefinition, options: SetupOptions = {}): Setup => {
    const definition = { ...base, name: uniqueName(base.name) };
    const { dynamodb, kinesis, tableName } = testbed();
    let now = T0;
    const clock = () => now;
    const output = recordingSink();
    const failureSink = recordingSink();
    const tailProbe = options.tailProbe ?? (async () => true);
    // The stores' clock sets the TTLs: the simulated one, so played TTL follows simulated time.
    const stores = () => ({
      store: createPipelineStore(definition, {
        client: dynamodb,
        tableName,
        dueBuckets: 1,
        clock,
        maxItemBytes: options.maxItemBytes,
      }),
      ...(base.assigner.kind === 'session'
        ? {
            sessionStore: createSessionStore(definition, {
              client: dynamodb,
              tableName,
              dueBuckets: 1,
              clock,
              maxItemBytes: options.maxItemBytes,
            }),
          }
        : {}),
    });
    if (options.realFailureStream && failureStream === undefined) {
      throw new Error(
        'setup(): realFailureStream needs useEventTimeTestbed(prefix, failureStream)',
      );
    }
    const handler = createWindowedHandler(definition, {
      ...stores(),
      outputSink: output,
      failureSink:
        options.realFailureStream && failureStream !== undefined
          ? keepingAccepted(
              new KinesisSink({ streamName: failureStream, ordered: false, client: kinesis }),
              failureSink,
            )
          : failureSink,
      clock,
      tailProbe,
      openShards: options.openShards ?? null,
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    const { store, sessionStore } = stores();
    const sweeper = createSweeperHandler([definition], {
      stores: { [definition.name]: store },
      ...(sessionStore === undefined ? {} : { sessionStores: { [definition.name]: sessionStore } }),
      outputSinks: { [definition.name]: output },
      clock,
      tailProbe,
      ...(options.openShards === undefined ? {} : { openShards: options.openShards }),
      logger: silentLogger(),
      metrics: silentMetrics(),
    });
    return {
      definition,
      store,
      handle: (views) => handler(kinesisEventFactory(records(views))),
      deliver: (batch) => handler(kinesisEventFactory(batch)),
      sweep: () => sweeper(),
      finals: () => output.sent.map((r) => parsed<WindowResult>(r.data)).filter((r) => r.final),
      failures: () => failureSink.sent.map((r) => parsed<Record<string, unknown>>(r.data)),
      setNow: (t) => {
        now = t;
      },
    };
  };

  return { testbed, records, uniqueName, setup };
}
