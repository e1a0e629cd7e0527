import { createHash } from 'node:crypto';
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import type { FunctionInvoker, InvocationResult } from '#local/lambda/types';
import { buildKinesisEvent, type KinesisEventSource } from './buildKinesisEvent';
import {
  FAILURE_CONDITIONS,
  MAX_GET_RECORDS_LIMIT,
  MAX_PAYLOAD_BYTES,
  MAX_WINDOW_STATE_BYTES,
  READ_ERROR_DELAY_MS,
} from './constants';
import { matchesFilter } from './matchesFilter';
import type {
  BatchOutcome,
  CheckpointStore,
  Clock,
  DiscardedBatch,
  KinesisMappingSettings,
  PendingBatch,
  ShardState,
  ShardStats,
  StreamRecord,
} from './types';

/** Everything a shard reader shares with its mapping. @internal */
export interface ShardReaderContext {
  readonly settings: KinesisMappingSettings;
  readonly kinesis: KinesisClient;
  readonly invoker: FunctionInvoker;
  readonly checkpoints: CheckpointStore;
  readonly outcome: BatchOutcome;
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  readonly signal: AbortSignal;
  readonly source: KinesisEventSource;
  readonly warn: (line: string) => void;
  readonly onDiscard?: (mappingId: string, shardId: string, discarded: DiscardedBatch) => void;
}

/** Where a shard without a checkpoint starts. @internal */
export type InitialPosition = Pick<GetShardIteratorCommandInput, 'ShardIteratorType' | 'Timestamp'>;

/** A read record's place in the shard and whether it is done (processed, filtered or discarded). */
interface Position {
  readonly sequenceNumber: string;
  done: boolean;
}

/** The open tumbling window of a shard (TumblingWindowInSeconds). */
interface OpenWindow {
  readonly start: number;
  readonly end: number;
  state: unknown;
  terminatedEarly: boolean;
}

/** A concurrent batch lane of a shard: one per ParallelizationFactor, records by partition key hash. */
interface Lane {
  readonly buffer: StreamRecord[];
  since: number;
  busy: boolean;
  window?: OpenWindow;
}

const sizes = new WeakMap<StreamRecord, number>();

/** Bytes a record adds to the invocation payload (its JSON in the event, plus a comma). */
function payloadBytes(record: StreamRecord, source: KinesisEventSource): number {
  const known = sizes.get(record);
  if (known !== undefined) return known;
  const envelope = buildKinesisEvent([{ ...record, data: new Uint8Array() }], source).Records[0];
  const size =
    Buffer.byteLength(JSON.stringify(envelope)) + 4 * Math.ceil(record.data.length / 3) + 1;
  sizes.set(record, size);
  return size;
}

/** ISO time as Lambda writes window bounds (`2020-07-30T17:00:00Z`). */
function windowTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('.000Z', 'Z');
}

/**
 * Reads one shard for one mapping: GetRecords about once per second while idle and immediately
 * again while records keep coming; drops records FilterCriteria rejects; splits the rest into
 * ParallelizationFactor lanes by partition key hash (order kept per key); batches each lane by
 * BatchSize, MaximumBatchingWindowInSeconds, the 6 MB payload limit and tumbling windows; invokes
 * the function and lets the {@link BatchOutcome} decide retries, splits and discards. The shard
 * checkpoint only ever advances to just before the lowest record not yet done.
 * @internal
 */
export class ShardReader {
  private state: ShardState = 'polling';
  private iterator: string | undefined;
  private checkpoint: string | undefined;
  /** Sequence number of the last record read from the shard (the resume point after an iterator expires). */
  private lastRead: string | undefined;
  private readonly lanes: Lane[];
  private readonly positions: Position[] = [];
  private readonly bySequence = new Map<string, Position>();
  private readonly running = new Set<Promise<void>>();
  private saving: Promise<void> = Promise.resolve();
  private wake: AbortController | undefined;
  private caughtUp = false;
  private recordsDelivered = 0;
  private recordsFiltered = 0;
  private recordsDiscarded = 0;
  private batches = 0;
  private invocations = 0;
  private errors = 0;
  private iteratorAgeMs = 0;
  private millisBehindLatest = 0;
  private lastError: string | undefined;

  public constructor(
    public readonly shardId: string,
    private readonly initialPosition: InitialPosition,
    private readonly context: ShardReaderContext,
  ) {
    const { parallelizationFactor, tumblingWindowInSeconds } = context.settings;
    // Windows are per shard: a tumbling window mapping runs one lane.
    const count = tumblingWindowInSeconds > 0 ? 1 : parallelizationFactor;
    this.lanes = Array.from({ length: count }, () => ({ buffer: [], since: 0, busy: false }));
  }

  /** Counters of this shard. */
  public get stats(): ShardStats {
    return {
      shardId: this.shardId,
      state: this.state,
      ...(this.checkpoint ? { checkpoint: this.checkpoint } : {}),
      recordsDelivered: this.recordsDelivered,
      recordsFiltered: this.recordsFiltered,
      recordsDiscarded: this.recordsDiscarded,
      batches: this.batches,
      invocations: this.invocations,
      errors: this.errors,
      pendingRecords: this.positions.filter((position) => !position.done).length,
      iteratorAgeMs: this.iteratorAgeMs,
      millisBehindLatest: this.millisBehindLatest,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Whether the shard is closed and fully processed. */
  public get ended(): boolean {
    return this.state === 'ended';
  }

  /**
   * Loads the checkpoint and gets the first shard iterator (after the checkpoint, else at the
   * initial position), so records put after this resolves are seen even with LATEST.
   */
  public async prepare(): Promise<void> {
    const saved = await this.context.checkpoints.load(this.context.settings.uuid, this.shardId);
    if (saved?.ended) {
      this.state = 'ended';
      return;
    }
    this.checkpoint = saved?.sequenceNumber;
    this.lastRead = this.checkpoint;
    this.iterator = await this.withRetry(() => this.newIterator());
  }

  /** Polls until the shard is finished or the mapping stops. Never rejects. */
  public async run(): Promise<void> {
    const { signal, settings } = this.context;
    const readAhead = settings.batchSize * this.lanes.length;
    try {
      while (!signal.aborted && this.state === 'polling') {
        let fetched = 0;
        // Like Lambda's poller, read only when a lane could take the records (no read-ahead past busy lanes).
        const idleLane = this.lanes.some((lane) => !lane.busy);
        if (this.iterator !== undefined && idleLane && this.buffered() < readAhead) {
          fetched = await this.read();
        }
        if (signal.aborted) break;
        const closed = this.iterator === undefined;
        this.dispatch(closed);
        if (closed && this.buffered() === 0 && this.running.size === 0) {
          await this.advance();
          await this.finish();
          break;
        }
        if (fetched === 0 || !idleLane || this.buffered() >= readAhead) {
          await this.pause(this.untilNextWindow(closed));
        }
      }
    } catch (error) {
      this.context.warn(
        `shardflow: ${settings.uuid} stopped reading ${this.shardId}: ${(error as Error).message}`,
      );
    }
    await Promise.all([...this.running]);
    await this.saving;
    if (this.state === 'polling') this.state = 'stopped';
  }

  private buffered(): number {
    return this.lanes.reduce((total, lane) => total + lane.buffer.length, 0);
  }

  /** Time until some lane's batching window expires (capped by the poll interval). */
  private untilNextWindow(closed: boolean): number {
    const { clock, settings, pollIntervalMs } = this.context;
    const windowMs = settings.maximumBatchingWindowInSeconds * 1000;
    let wait = pollIntervalMs;
    for (const lane of this.lanes) {
      if (lane.buffer.length > 0 && !lane.busy && !closed) {
        wait = Math.min(wait, Math.max(0, windowMs - (clock.now() - lane.since)));
      }
    }
    return wait;
  }

  /** Sleeps up to `ms`, waking early when a lane finishes a batch. */
  private async pause(ms: number): Promise<void> {
    const { clock, signal } = this.context;
    const wake = new AbortController();
    this.wake = wake;
    const onAbort = () => wake.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await clock.sleep(ms, wake.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (this.wake === wake) this.wake = undefined;
    }
  }

  /** Starts a batch on every idle lane whose batch is due. */
  private dispatch(closed: boolean): void {
    const { clock, settings, signal } = this.context;
    const windowMs = settings.maximumBatchingWindowInSeconds * 1000;
    for (const lane of this.lanes) {
      if (lane.busy || signal.aborted) continue;
      const finalEmpty = this.dueEmptyFinal(lane, closed);
      if (lane.buffer.length === 0 && !finalEmpty) continue;
      let batch: StreamRecord[] = [];
      if (!finalEmpty) {
        const { records, full } = this.takeable(lane);
        const due = full || closed || clock.now() - lane.since >= windowMs;
        if (!due) continue;
        batch = lane.buffer.splice(0, records);
        lane.since = clock.now();
      }
      lane.busy = true;
      const task = this.processLane(lane, batch)
        .catch((error: Error) =>
          this.context.warn(
            `shardflow: ${settings.uuid} batch on ${this.shardId} failed: ${error.message}`,
          ),
        )
        .finally(() => {
          lane.busy = false;
          this.running.delete(task);
          this.wake?.abort();
        });
      this.running.add(task);
    }
  }

  /**
   * How many records of the lane's buffer the next batch takes, and whether that batch is full:
   * BatchSize records, the 6 MB payload limit, or the end of a tumbling window.
   */
  private takeable(lane: Lane): { records: number; full: boolean } {
    const { settings, source } = this.context;
    const windowStart = this.windowOf(lane.buffer[0]);
    let bytes = 0;
    let count = 0;
    for (const record of lane.buffer) {
      if (count >= settings.batchSize) return { records: count, full: true };
      if (windowStart !== undefined && this.windowOf(record) !== windowStart) {
        return { records: count, full: true };
      }
      bytes += payloadBytes(record, source);
      if (count > 0 && bytes > MAX_PAYLOAD_BYTES) return { records: count, full: true };
      count += 1;
    }
    return { records: count, full: count >= settings.batchSize };
  }

  /** Start (epoch ms) of the tumbling window a record belongs to, by its arrival time. */
  private windowOf(record: StreamRecord | undefined): number | undefined {
    const seconds = this.context.settings.tumblingWindowInSeconds;
    if (seconds === 0 || record === undefined) return undefined;
    const size = seconds * 1000;
    return Math.floor(record.approximateArrivalTimestamp / size) * size;
  }

  /** Whether the lane's open window is over with nothing left of it: time for an empty final invoke. */
  private dueEmptyFinal(lane: Lane, closed: boolean): boolean {
    const window = lane.window;
    if (window === undefined) return false;
    const next = lane.buffer[0];
    if (next !== undefined) return (this.windowOf(next) ?? 0) > window.start;
    return (
      window.terminatedEarly ||
      (this.context.clock.now() >= window.end && (this.caughtUp || closed))
    );
  }

  /** One GetRecords; filters, assigns lanes, and returns how many records came. */
  private async read(): Promise<number> {
    const { kinesis, settings, clock } = this.context;
    let response: GetRecordsCommandOutput;
    try {
      response = await kinesis.send(
        new GetRecordsCommand({
          ShardIterator: this.iterator,
          Limit: Math.min(MAX_GET_RECORDS_LIMIT, settings.batchSize * this.lanes.length),
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ExpiredIteratorException') {
        this.iterator = await this.withRetry(() => this.newIterator());
      } else {
        this.context.warn(
          `shardflow: ${settings.uuid} GetRecords on ${this.shardId} failed, retrying: ${(error as Error).message}`,
        );
        await clock.sleep(READ_ERROR_DELAY_MS, this.context.signal);
      }
      return 0;
    }
    const records = response.Records ?? [];
    for (const record of records) {
      const read: StreamRecord = {
        shardId: this.shardId,
        sequenceNumber: record.SequenceNumber ?? '0',
        partitionKey: record.PartitionKey ?? '',
        data: record.Data ?? new Uint8Array(),
        approximateArrivalTimestamp: record.ApproximateArrivalTimestamp?.getTime() ?? clock.now(),
      };
      const position: Position = { sequenceNumber: read.sequenceNumber, done: false };
      this.positions.push(position);
      this.bySequence.set(read.sequenceNumber, position);
      if (!matchesFilter(read.data, settings.filters)) {
        // Records matching no filter are dropped and checkpointed without an invocation.
        position.done = true;
        this.recordsFiltered += 1;
        continue;
      }
      const lane = this.laneOf(read);
      if (lane.buffer.length === 0) lane.since = clock.now();
      lane.buffer.push(read);
    }
    const last = records.at(-1)?.SequenceNumber;
    if (last !== undefined) this.lastRead = last;
    this.iterator = response.NextShardIterator ?? undefined;
    this.millisBehindLatest = response.MillisBehindLatest ?? 0;
    this.caughtUp = records.length === 0 || this.millisBehindLatest === 0;
    await this.advance();
    return records.length;
  }

  /** The lane of a record: by the MD5 hash of its partition key, as Kinesis maps keys to shards. */
  private laneOf(record: StreamRecord): Lane {
    if (this.lanes.length === 1) return this.lanes[0] as Lane;
    const hash = BigInt(`0x${createHash('md5').update(record.partitionKey).digest('hex')}`);
    return this.lanes[Number(hash % BigInt(this.lanes.length))] as Lane;
  }

  /** Invokes one lane's batch until the outcome says it is done (or the mapping stops). */
  private async processLane(lane: Lane, records: readonly StreamRecord[]): Promise<void> {
    const { outcome, clock, signal, settings } = this.context;
    if (records.length === 0) {
      await this.invokeFinalEmpty(lane);
      return;
    }
    const queue: PendingBatch[] = [{ records, retries: 0 }];
    let lastResult: InvocationResult | undefined;
    while (queue.length > 0 && !signal.aborted) {
      let batch = queue.shift() as PendingBatch;
      batch = this.dropExpired(batch, lastResult);
      const last = batch.records.at(-1);
      if (last === undefined) continue;
      this.iteratorAgeMs = Math.max(0, clock.now() - last.approximateArrivalTimestamp);
      const result = await this.invoke(lane, batch.records, queue.length === 0);
      lastResult = result;
      const decision = await outcome.decide({
        mappingId: settings.uuid,
        shardId: this.shardId,
        batch,
        result,
        now: clock.now(),
      });
      if (decision.checkpoint !== undefined) {
        const through = decision.checkpoint;
        const processed = batch.records.filter(
          (record) => compareSequenceNumbers(record.sequenceNumber, through) <= 0,
        );
        const discarded = new Set(
          decision.discarded?.records.map((record) => record.sequenceNumber),
        );
        this.recordsDelivered += processed.filter(
          (record) => !discarded.has(record.sequenceNumber),
        ).length;
        this.markDone(processed);
      }
      if (decision.discarded) this.discard(decision.discarded);
      await this.advance();
      queue.unshift(...decision.next);
      if (queue.length > 0 && decision.delayMs) await clock.sleep(decision.delayMs, signal);
    }
  }

  /** Gives up on records older than MaximumRecordAgeInSeconds before invoking (RecordAgeExceeded). */
  private dropExpired(batch: PendingBatch, lastResult: InvocationResult | undefined): PendingBatch {
    const { settings, clock } = this.context;
    if (settings.maximumRecordAgeInSeconds === -1) return batch;
    const oldest = clock.now() - settings.maximumRecordAgeInSeconds * 1000;
    const expired = batch.records.filter((record) => record.approximateArrivalTimestamp < oldest);
    if (expired.length === 0) return batch;
    this.discard({
      records: expired,
      condition: FAILURE_CONDITIONS.RECORD_AGE_EXCEEDED,
      ...(lastResult ? { result: lastResult } : {}),
      retries: batch.retries,
      invokeCount: lastResult ? batch.retries : 0,
    });
    this.markDone(expired);
    return {
      records: batch.records.filter((record) => record.approximateArrivalTimestamp >= oldest),
      retries: batch.retries,
    };
  }

  /** Invokes the function with a batch, adding the tumbling window fields when the mapping has them. */
  private async invoke(
    lane: Lane,
    records: readonly StreamRecord[],
    lastOfBatch: boolean,
  ): Promise<InvocationResult> {
    const { invoker, source, clock } = this.context;
    const event: Record<string, unknown> = { ...buildKinesisEvent(records, source) };
    const windowStart = this.windowOf(records[0]);
    let final = false;
    if (windowStart !== undefined) {
      const end = windowStart + this.context.settings.tumblingWindowInSeconds * 1000;
      if (lane.window === undefined || lane.window.start !== windowStart) {
        lane.window = { start: windowStart, end, state: {}, terminatedEarly: false };
      }
      const rest = lane.buffer[0];
      final =
        lastOfBatch &&
        clock.now() >= end &&
        (rest !== undefined ? (this.windowOf(rest) ?? 0) > windowStart : this.caughtUp);
      Object.assign(event, this.windowFields(lane.window, final));
    }
    const result = await this.count(invoker.invoke(event));
    if (lane.window && result.ok) this.keepState(lane, result.payload, final);
    return result;
  }

  /** The final invocation of a window with no records left in it: state in, nothing to checkpoint. */
  private async invokeFinalEmpty(lane: Lane): Promise<void> {
    const { invoker, source, signal, clock, settings } = this.context;
    const window = lane.window;
    if (window === undefined) return;
    let retries = 0;
    while (!signal.aborted) {
      const event = { ...buildKinesisEvent([], source), ...this.windowFields(window, true) };
      const result = await this.count(invoker.invoke(event));
      if (result.ok) {
        this.keepState(lane, result.payload, true);
        return;
      }
      retries += 1;
      if (settings.maximumRetryAttempts !== -1 && retries > settings.maximumRetryAttempts) {
        lane.window = undefined;
        return;
      }
      await clock.sleep(READ_ERROR_DELAY_MS, signal);
    }
  }

  private windowFields(window: OpenWindow, final: boolean): Record<string, unknown> {
    return {
      window: { start: windowTime(window.start), end: windowTime(window.end) },
      state: window.state,
      shardId: this.shardId,
      eventSourceARN: this.context.source.eventSourceArn,
      isFinalInvokeForWindow: final || window.terminatedEarly,
      isWindowTerminatedEarly: window.terminatedEarly,
    };
  }

  /** Keeps the state a window invocation returned; a final invoke closes the window. */
  private keepState(lane: Lane, payload: unknown, final: boolean): void {
    const window = lane.window;
    if (window === undefined) return;
    if (final || window.terminatedEarly) {
      lane.window = undefined;
      return;
    }
    const state =
      typeof payload === 'object' && payload !== null && 'state' in payload
        ? (payload as { state: unknown }).state
        : {};
    window.state = state ?? {};
    // A state over 1 MB ends the window early: one final invoke, then a fresh window.
    if (Buffer.byteLength(JSON.stringify(window.state)) > MAX_WINDOW_STATE_BYTES) {
      window.terminatedEarly = true;
    }
  }

  private async count(invocation: Promise<InvocationResult>): Promise<InvocationResult> {
    this.invocations += 1;
    const result = await invocation;
    if (result.ok) {
      this.batches += 1;
      this.lastError = undefined;
    } else {
      this.errors += 1;
      this.lastError = `${result.error.errorType}: ${result.error.errorMessage}`;
    }
    return result;
  }

  private discard(discarded: DiscardedBatch): void {
    this.recordsDiscarded += discarded.records.length;
    this.markDone(discarded.records);
    this.context.onDiscard?.(this.context.settings.uuid, this.shardId, discarded);
  }

  private markDone(records: readonly StreamRecord[]): void {
    for (const record of records) {
      const position = this.bySequence.get(record.sequenceNumber);
      if (position) position.done = true;
    }
  }

  /** Moves the shard checkpoint to the last record before the lowest one not yet done. */
  private async advance(): Promise<void> {
    let through: string | undefined;
    let count = 0;
    while (count < this.positions.length && this.positions[count]?.done) {
      through = this.positions[count]?.sequenceNumber;
      count += 1;
    }
    if (through === undefined) return;
    for (const position of this.positions.splice(0, count)) {
      this.bySequence.delete(position.sequenceNumber);
    }
    if (this.checkpoint !== undefined && compareSequenceNumbers(through, this.checkpoint) <= 0) {
      return;
    }
    this.checkpoint = through;
    const checkpoint = { sequenceNumber: through, ended: false };
    this.saving = this.saving.then(() =>
      this.context.checkpoints.save(this.context.settings.uuid, this.shardId, checkpoint),
    );
    await this.saving;
  }

  private async newIterator(): Promise<string | undefined> {
    const position: InitialPosition =
      this.lastRead !== undefined
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' }
        : this.initialPosition;
    const { ShardIterator } = await this.context.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.context.settings.streamName,
        ShardId: this.shardId,
        ...position,
        ...(this.lastRead !== undefined ? { StartingSequenceNumber: this.lastRead } : {}),
      }),
    );
    return ShardIterator;
  }

  private async finish(): Promise<void> {
    this.state = 'ended';
    await this.saving;
    await this.context.checkpoints.save(this.context.settings.uuid, this.shardId, {
      ...(this.checkpoint ? { sequenceNumber: this.checkpoint } : {}),
      ended: true,
    });
  }

  private async withRetry<T>(action: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await action();
      } catch (error) {
        if (this.context.signal.aborted) throw error;
        this.context.warn(
          `shardflow: ${this.context.settings.uuid} cannot get an iterator for ${this.shardId}, retrying: ${(error as Error).message}`,
        );
        await this.context.clock.sleep(READ_ERROR_DELAY_MS, this.context.signal);
      }
    }
  }
}
