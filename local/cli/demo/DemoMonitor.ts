import { setMaxListeners } from 'node:events';
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { build, type Histogram } from 'hdr-histogram-js';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import type { CapturedFailure } from '#local/capture/types';
import type { EventSourceMappingStats } from '#local/esm/types';
import { readStream, type StreamRecord } from '#local/io/readStream';
import { ATTR, decodePack, TABLE_KEYS, WINDOW_STORE_DEFAULTS } from '#state/index';
import {
  duePartition,
  dueSlicesPartition,
  PIPELINE_WATERMARK_SORT_KEY,
  packPartition,
  watermarkPartition,
} from '#state/keys';
import { ENRICH, LATE_REASON, RECENT_LIMIT, REFRESH } from './constants';
import { countOpenWindows, type DueEntry } from './countOpenWindows';
import type {
  DemoPhase,
  DemoPipeline,
  DemoResult,
  DemoSnapshot,
  DemoWindow,
  EnrichSnapshot,
  PipelineSnapshot,
} from './types';

/** What the monitor reads from the local runtime. */
export interface MonitoredRuntime {
  stats(): EventSourceMappingStats[];
  failures(): readonly CapturedFailure[];
}

/** Options of {@link DemoMonitor}. */
export interface DemoMonitorOptions {
  readonly pipelines: readonly DemoPipeline[];
  readonly runtime: MonitoredRuntime;
  readonly kinesis: KinesisClient;
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  /** Physical name of the state table; without it open windows are not shown. */
  readonly stateTable?: string;
  /** Receives read errors of the output and failure streams. @default - ignored */
  readonly onError?: (message: string) => void;
  /** @default Date.now */
  readonly clock?: () => number;
}

interface PipelineCounters {
  readonly results: Set<string>;
  readonly alertIds: Set<string>;
  readonly failures: Set<string>;
  readonly recent: DemoResult[];
  readonly recentAlerts: DemoResult[];
  late: number;
  invalid: number;
  openWindows?: number;
  watermark?: number;
}

/**
 * Gathers what the demo view shows, apart from rendering it: reads every pipeline's output,
 * side-output and failure streams from the start (deduplicating results by `id` and rejections by
 * shard, sequence number and reason), the event source mappings' counters and captured on-failure
 * records from the runtime, and open windows and watermarks from the state table's due index.
 * `snapshot()` is a plain object for the renderers.
 */
export class DemoMonitor {
  readonly #options: DemoMonitorOptions;
  readonly #clock: () => number;
  readonly #counters = new Map<string, PipelineCounters>();
  readonly #sent = new Map<string, number>();
  readonly #controller = new AbortController();
  readonly #readers: Promise<void>[] = [];
  readonly #enrichIds = new Set<string>();
  readonly #latency: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
  });
  #enrichDuplicates = 0;
  #stateReadAt = Number.NEGATIVE_INFINITY;
  #stateReading: Promise<void> | undefined;

  public constructor(options: DemoMonitorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    // One abort listener per stream reader while it sleeps between polls.
    setMaxListeners(100, this.#controller.signal);
    for (const pipeline of options.pipelines) {
      this.#counters.set(pipeline.name, {
        results: new Set(),
        alertIds: new Set(),
        failures: new Set(),
        recent: [],
        recentAlerts: [],
        late: 0,
        invalid: 0,
      });
    }
  }

  /** Starts reading the output, side-output and failure streams (until {@link stop}). */
  public start(): void {
    for (const pipeline of this.#options.pipelines) {
      const counters = this.#counters.get(pipeline.name) as PipelineCounters;
      if (pipeline.output !== undefined) {
        const onRecord =
          pipeline.name === ENRICH.pipeline
            ? (record: StreamRecord) => this.#onEnriched(record)
            : (record: StreamRecord) => this.#onResult(counters, record);
        this.#read(pipeline.output, onRecord);
      }
      for (const side of pipeline.sideOutputs) {
        this.#read(side, (record) => this.#onAlert(counters, record));
      }
      if (pipeline.failureStream !== undefined) {
        this.#read(pipeline.failureStream, (record) => this.#onFailure(counters, record));
      }
    }
  }

  /** Counts records the demo put on a (logical) input stream. */
  public recordSent(stream: string, count: number): void {
    this.#sent.set(stream, (this.#sent.get(stream) ?? 0) + count);
  }

  /** Records put on a logical input stream so far. */
  public sent(stream: string): number {
    return this.#sent.get(stream) ?? 0;
  }

  /** The enrich contract's counters. */
  public enrich(): EnrichSnapshot {
    const received = this.#enrichIds.size;
    return {
      sent: this.sent(ENRICH.input),
      received,
      duplicates: this.#enrichDuplicates,
      ...(received > 0
        ? {
            p50Ms: this.#latency.getValueAtPercentile(50),
            p99Ms: this.#latency.getValueAtPercentile(99),
          }
        : {}),
    };
  }

  /**
   * True when every record sent so far was delivered to every pipeline reading it, nothing is
   * pending in a mapping, and every enrich event came back.
   */
  public caughtUp(): boolean {
    const stats = this.#options.runtime.stats();
    for (const pipeline of this.#options.pipelines) {
      const mappings = stats.filter((m) => m.functionName === pipeline.functionName);
      const delivered = mappings.reduce((sum, m) => sum + m.recordsDelivered, 0);
      const pending = mappings.some((m) => m.shards.some((shard) => shard.pendingRecords > 0));
      if (pending || delivered < this.sent(pipeline.input)) return false;
    }
    const enrich = this.enrich();
    return (
      !this.#options.pipelines.some((p) => p.name === ENRICH.pipeline) ||
      enrich.received >= enrich.sent
    );
  }

  /**
   * Reads open windows and watermarks from the state table, at most every {@link REFRESH}.stateMs
   * (unless `force`); a read still in flight is joined, not repeated. Never rejects.
   */
  public refresh(force = false): Promise<void> {
    const now = this.#clock();
    const table = this.#options.stateTable;
    if (this.#stateReading !== undefined) return this.#stateReading;
    if (table === undefined || (!force && now - this.#stateReadAt < REFRESH.stateMs)) {
      return Promise.resolve();
    }
    this.#stateReadAt = now;
    this.#stateReading = this.#readState(table).finally(() => {
      this.#stateReading = undefined;
    });
    return this.#stateReading;
  }

  async #readState(table: string): Promise<void> {
    for (const pipeline of this.#options.pipelines) {
      const window = pipeline.window;
      if (window === undefined) continue;
      const counters = this.#counters.get(pipeline.name) as PipelineCounters;
      try {
        const [watermark, due] = await Promise.all([
          this.#readWatermark(table, pipeline.name),
          this.#readDue(table, pipeline.name, window.kind),
        ]);
        counters.watermark = watermark;
        counters.openWindows = countOpenWindows(due, window, watermark);
      } catch (error) {
        this.#options.onError?.(
          `reading ${pipeline.name}'s state: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  /** Everything the view shows now. */
  public snapshot(view: {
    readonly phase: DemoPhase;
    readonly startedAt: number;
    readonly durationMs?: number;
    readonly notes?: readonly string[];
  }): DemoSnapshot {
    const now = this.#clock();
    const stats = this.#options.runtime.stats();
    const failures = this.#options.runtime.failures();
    const pipelines = this.#options.pipelines.map((pipeline): PipelineSnapshot => {
      const counters = this.#counters.get(pipeline.name) as PipelineCounters;
      const mappings = stats.filter((m) => m.functionName === pipeline.functionName);
      const isEnrich = pipeline.name === ENRICH.pipeline;
      return {
        name: pipeline.name,
        input: pipeline.input,
        ...(pipeline.window === undefined ? {} : { window: pipeline.window }),
        sent: this.sent(pipeline.input),
        recordsIn: mappings.reduce((sum, m) => sum + m.recordsDelivered, 0),
        recordsOut: isEnrich ? this.#enrichIds.size : counters.results.size,
        alerts: counters.alertIds.size,
        ...(counters.openWindows === undefined ? {} : { openWindows: counters.openWindows }),
        ...(counters.watermark === undefined ? {} : { watermark: counters.watermark }),
        late: counters.late,
        invalid: counters.invalid,
        failed: failures
          .filter((f) => f.shardflow?.functionName === pipeline.functionName)
          .reduce((sum, f) => sum + (f.shardflow?.records?.length ?? 0), 0),
        errors: mappings.reduce((sum, m) => sum + m.errors, 0),
        lagMs: Math.max(0, ...mappings.map((m) => m.iteratorAgeMs)),
        recent: [...counters.recent],
        recentAlerts: [...counters.recentAlerts],
      };
    });
    const hasEnrich = this.#options.pipelines.some((p) => p.name === ENRICH.pipeline);
    return {
      now,
      phase: view.phase,
      elapsedMs: Math.max(0, now - view.startedAt),
      ...(view.durationMs === undefined ? {} : { durationMs: view.durationMs }),
      pipelines,
      ...(hasEnrich ? { enrich: this.enrich() } : {}),
      ...(view.notes === undefined ? {} : { notes: view.notes }),
    };
  }

  /** Stops the stream readers and waits for them. */
  public async stop(): Promise<void> {
    this.#controller.abort();
    await Promise.all(this.#readers);
  }

  /**
   * Reads a stream from its start until stopped. A reader that fails (a busy engine timing out)
   * starts again after a second, skipping what it already handed on (per shard, by sequence
   * number), so a restart never shows up as duplicates.
   */
  #read(streamName: string, onRecord: (record: StreamRecord) => void): void {
    const signal = this.#controller.signal;
    const last = new Map<string, string>();
    const onNew = (record: StreamRecord): void => {
      const sequence = record.sequenceNumber || '0';
      const seen = last.get(record.shardId);
      if (seen !== undefined && compareSequenceNumbers(sequence, seen) <= 0) return;
      last.set(record.shardId, sequence);
      onRecord(record);
    };
    const loop = async (): Promise<void> => {
      while (!signal.aborted) {
        try {
          await readStream({
            client: this.#options.kinesis,
            streamName,
            fromStart: true,
            pollIntervalMs: REFRESH.readerPollMs,
            signal,
            onRecord: onNew,
          });
        } catch (error) {
          if (signal.aborted) return;
          this.#options.onError?.(
            `reading ${streamName} (retrying): ${error instanceof Error ? error.message : String(error)}`,
          );
          await new Promise((resolve) => setTimeout(resolve, REFRESH.readerRetryMs));
        }
      }
    };
    this.#readers.push(loop());
  }

  #onEnriched(record: StreamRecord): void {
    const event = parseJson(record.data);
    const id = typeof event?.id === 'string' ? event.id : undefined;
    if (id === undefined) return;
    if (this.#enrichIds.has(id)) {
      this.#enrichDuplicates += 1;
      return;
    }
    this.#enrichIds.add(id);
    const sentAt = typeof event?.sentAt === 'number' ? event.sentAt : record.arrivedAt;
    this.#latency.recordValue(Math.max(1, record.arrivedAt - sentAt));
  }

  #onResult(counters: PipelineCounters, record: StreamRecord): void {
    const result = toResult(parseJson(record.data), false);
    if (result === undefined || counters.results.has(result.id)) return;
    counters.results.add(result.id);
    pushBounded(counters.recent, result, RECENT_LIMIT.results);
  }

  #onAlert(counters: PipelineCounters, record: StreamRecord): void {
    const alert = toResult(parseJson(record.data), true);
    if (alert === undefined || counters.alertIds.has(alert.id)) return;
    counters.alertIds.add(alert.id);
    pushBounded(counters.recentAlerts, alert, RECENT_LIMIT.alerts);
  }

  #onFailure(counters: PipelineCounters, record: StreamRecord): void {
    const body = parseJson(record.data);
    if (body === undefined) return;
    const identity = `${String(body.shardId)}|${String(body.sequenceNumber)}|${String(body.reason)}`;
    if (counters.failures.has(identity)) return;
    counters.failures.add(identity);
    if (body.reason === LATE_REASON) counters.late += 1;
    else counters.invalid += 1;
  }

  async #readWatermark(table: string, pipeline: string): Promise<number | undefined> {
    const page = await this.#options.dynamodb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: watermarkPartition(pipeline) } },
      }),
    );
    const committed = page.Items?.find(
      (item) => item[TABLE_KEYS.sortKey]?.S === PIPELINE_WATERMARK_SORT_KEY,
    );
    return committed === undefined ? undefined : numberOf(committed[ATTR.watermark]);
  }

  async #readDue(table: string, pipeline: string, kind: DemoWindow['kind']): Promise<DueEntry[]> {
    if (kind !== 'session') return this.#readOpenSlices(table, pipeline);
    const buckets = Array.from({ length: WINDOW_STORE_DEFAULTS.dueBuckets }, (_, bucket) =>
      this.#readDueBucket(table, duePartition(pipeline, bucket)),
    );
    return (await Promise.all(buckets)).flat();
  }

  /**
   * Lane packs: the slices still in the due index (one entry per slice), and the keys their packs
   * hold: one entry per (key, slice).
   */
  async #readOpenSlices(table: string, pipeline: string): Promise<DueEntry[]> {
    const index = TABLE_KEYS.dueIndex;
    const slices = await this.#queryAll({
      TableName: table,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: dueSlicesPartition(pipeline) } },
    });
    const entries: DueEntry[] = [];
    for (const slice of slices) {
      const start = numberOf(slice[ATTR.sliceStart]);
      const end = numberOf(slice[ATTR.sliceEnd]);
      if (start === undefined || end === undefined) continue;
      const packs = await this.#queryAll({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: packPartition(pipeline, start) } },
      });
      const keys = new Set<string>();
      for (const pack of packs) {
        const body = pack.b?.B;
        if (body !== undefined) for (const [key] of decodePack(body)) keys.add(key);
      }
      for (const key of keys) entries.push({ key, start, end });
    }
    return entries;
  }

  async #queryAll(
    input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
  ): Promise<Array<Record<string, AttributeValue>>> {
    const items: Array<Record<string, AttributeValue>> = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#options.dynamodb.send(
        new QueryCommand({ ...input, ExclusiveStartKey: startKey }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  async #readDueBucket(table: string, partition: string): Promise<DueEntry[]> {
    const entries: DueEntry[] = [];
    const index = TABLE_KEYS.dueIndex;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.#options.dynamodb.send(
        new QueryCommand({
          TableName: table,
          IndexName: index.indexName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey },
          ExpressionAttributeValues: { ':pk': { S: partition } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const key = item[ATTR.key]?.S;
        const start = numberOf(item[ATTR.sliceStart]) ?? numberOf(item[ATTR.windowStart]);
        const end = numberOf(item[ATTR.sliceEnd]) ?? numberOf(item[ATTR.windowEnd]);
        if (key !== undefined && start !== undefined && end !== undefined) {
          entries.push({ key, start, end });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return entries;
  }
}

function parseJson(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const ENVELOPE = new Set(['id', 'pipeline', 'output', 'key', 'window', 'emittedAt']);

/** A result (output record contract) or an alert (its own fields as values). */
function toResult(
  record: Record<string, unknown> | undefined,
  alert: boolean,
): DemoResult | undefined {
  if (record === undefined || typeof record.id !== 'string') return undefined;
  const window = record.window as { start?: unknown; end?: unknown } | undefined;
  const windowStart = Date.parse(String(window?.start));
  const windowEnd = Date.parse(String(window?.end));
  const values = alert
    ? Object.fromEntries(Object.entries(record).filter(([name]) => !ENVELOPE.has(name)))
    : (record.values as Record<string, unknown> | undefined);
  if (!Number.isFinite(windowStart) || !Number.isFinite(windowEnd) || values === undefined) {
    return undefined;
  }
  return { id: record.id, key: String(record.key), windowStart, windowEnd, values };
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  const text = value?.N ?? value?.S;
  if (text === undefined) return undefined;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}
