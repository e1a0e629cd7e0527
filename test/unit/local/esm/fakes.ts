import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { Clock } from '#local/esm/types';
import type { InvocationResult } from '#local/lambda/types';

interface FakeRecord {
  readonly SequenceNumber: string;
  readonly PartitionKey: string;
  readonly Data: Uint8Array;
  readonly ApproximateArrivalTimestamp: Date;
}

interface FakeShard {
  readonly ShardId: string;
  readonly ParentShardId?: string;
  readonly records: FakeRecord[];
  closed: boolean;
}

/** An in-memory Kinesis with just ListShards, GetShardIterator and GetRecords. */
export class FakeKinesis {
  public readonly shards = new Map<string, FakeShard>();
  public readonly calls: { name: string; input: Record<string, unknown> }[] = [];
  private sequence = 1000n;

  /** Most records one GetRecords returns (to show batching across reads). */
  public constructor(private readonly perRead = 10_000) {}

  public addShard(shardId: string, parent?: string): void {
    this.shards.set(shardId, {
      ShardId: shardId,
      ...(parent ? { ParentShardId: parent } : {}),
      records: [],
      closed: false,
    });
  }

  public put(shardId: string, data: string, arrival = new Date(), partitionKey = 'pk'): string {
    this.sequence += 7n;
    const SequenceNumber = `4960${this.sequence.toString().padStart(52, '0')}`;
    this.shards.get(shardId)?.records.push({
      SequenceNumber,
      PartitionKey: partitionKey,
      Data: Buffer.from(data),
      ApproximateArrivalTimestamp: arrival,
    });
    return SequenceNumber;
  }

  public get client(): KinesisClient {
    return { send: (command: { input: Record<string, unknown> }) => this.send(command) } as never;
  }

  private async send(command: { input: Record<string, unknown> }): Promise<unknown> {
    const name = command.constructor.name;
    const input = command.input;
    this.calls.push({ name, input });
    await Promise.resolve();
    switch (name) {
      case 'ListShardsCommand':
        return {
          Shards: [...this.shards.values()].map(({ ShardId, ParentShardId }) => ({
            ShardId,
            ...(ParentShardId ? { ParentShardId } : {}),
          })),
        };
      case 'GetShardIteratorCommand': {
        const shard = this.shards.get(String(input.ShardId));
        if (!shard)
          throw Object.assign(new Error('no shard'), { name: 'ResourceNotFoundException' });
        const records = shard.records;
        let position: number;
        switch (input.ShardIteratorType) {
          case 'TRIM_HORIZON':
            position = 0;
            break;
          case 'LATEST':
            position = records.length;
            break;
          case 'AT_TIMESTAMP':
            position = records.findIndex(
              (record) => record.ApproximateArrivalTimestamp >= (input.Timestamp as Date),
            );
            if (position < 0) position = records.length;
            break;
          default:
            position =
              records.findIndex(
                (record) => record.SequenceNumber === input.StartingSequenceNumber,
              ) + 1;
        }
        return { ShardIterator: `${shard.ShardId}|${position}` };
      }
      case 'GetRecordsCommand': {
        const [shardId, at] = String(input.ShardIterator).split('|');
        const shard = this.shards.get(shardId ?? '') as FakeShard;
        const position = Number(at);
        const limit = Math.min(Number(input.Limit ?? 10_000), this.perRead);
        const records = shard.records.slice(position, position + limit);
        const next = position + records.length;
        const atEnd = next >= shard.records.length;
        return {
          Records: records,
          ...(shard.closed && atEnd ? {} : { NextShardIterator: `${shard.ShardId}|${next}` }),
          MillisBehindLatest: atEnd ? 0 : 1000,
        };
      }
      default:
        throw new Error(`FakeKinesis does not know ${name}`);
    }
  }
}

/** Records the events it is invoked with; `fail(n)` decides whether invocation n (1-based) fails. */
export class FakeInvoker {
  public readonly functionName = 'fake-fn';
  public readonly events: KinesisStreamEvent[] = [];
  public inFlight = 0;

  public constructor(
    private readonly fail: (invocation: number) => boolean = () => false,
    private readonly delayMs = 0,
  ) {}

  public async invoke(event: unknown): Promise<InvocationResult> {
    this.events.push(event as KinesisStreamEvent);
    const invocation = this.events.length;
    this.inFlight += 1;
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.inFlight -= 1;
    return this.fail(invocation)
      ? {
          ok: false,
          requestId: `r${invocation}`,
          error: { errorType: 'Error', errorMessage: `planned ${invocation}` },
          durationMs: 1,
        }
      : { ok: true, requestId: `r${invocation}`, payload: null, durationMs: 1 };
  }

  /** Sequence numbers per invocation. */
  public get batches(): string[][] {
    return this.events.map((event) => event.Records.map((record) => record.kinesis.sequenceNumber));
  }
}

/** A clock whose sleeps advance virtual time instead of waiting. */
export class VirtualClock implements Clock {
  public time = Date.parse('2026-11-26T10:00:00.000Z');

  public now(): number {
    return this.time;
  }

  public async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.time += ms;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Waits (real time) until a condition holds. */
export async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
