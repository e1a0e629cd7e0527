import { createHash } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import { InMemoryCheckpointStore } from '#local/esm/InMemoryCheckpointStore';
import { KinesisEventSourceMapping } from '#local/esm/KinesisEventSourceMapping';
import type { FunctionInvoker, InvocationResult } from '#local/lambda/types';
import { eventually, FakeKinesis } from './fakes';

const SHARD = 'shardId-000000000000';

/** Lane of a partition key for a ParallelizationFactor, as the reader computes it. */
const laneOf = (key: string, lanes: number) =>
  Number(BigInt(`0x${createHash('md5').update(key).digest('hex')}`) % BigInt(lanes));

/** An invoker whose invocations for a key wait until the test releases that key. */
class GatedInvoker implements FunctionInvoker {
  public readonly functionName = 'fn';
  public readonly events: KinesisStreamEvent[] = [];
  private readonly gates = new Map<string, () => void>();
  private readonly held = new Set<string>();

  public hold(key: string): void {
    this.held.add(key);
  }

  public release(key: string): void {
    this.held.delete(key);
    this.gates.get(key)?.();
  }

  public async invoke(event: unknown): Promise<InvocationResult> {
    const kinesisEvent = event as KinesisStreamEvent;
    this.events.push(kinesisEvent);
    const key = kinesisEvent.Records[0]?.kinesis.partitionKey ?? '';
    if (this.held.has(key)) {
      await new Promise<void>((resolve) => this.gates.set(key, resolve));
    }
    return { ok: true, requestId: 'r', payload: null, durationMs: 1 };
  }
}

describe('KinesisEventSourceMapping with ParallelizationFactor', () => {
  let mapping: KinesisEventSourceMapping | undefined;

  afterEach(async () => {
    await mapping?.stop();
  });

  it('runs lanes concurrently and advances the shard checkpoint only to the lowest record not yet done', async () => {
    // GIVEN two keys in different lanes of PF 2; the slow key's records come first
    const [slow, fast] = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
      .reduce<string[]>((found, key) => {
        if (found.length === 0 || laneOf(key, 2) !== laneOf(found[0] as string, 2)) found.push(key);
        return found;
      }, [])
      .slice(0, 2) as [string, string];
    const kinesis = new FakeKinesis();
    kinesis.addShard(SHARD);
    const slowFirst = kinesis.put(SHARD, 's1', new Date(), slow);
    const fastRecords = [1, 2, 3].map((i) => kinesis.put(SHARD, `f${i}`, new Date(), fast));
    const invoker = new GatedInvoker();
    invoker.hold(slow);
    const checkpoints = new InMemoryCheckpointStore();

    // WHEN
    mapping = new KinesisEventSourceMapping({
      definition: {
        uuid: 'm-1',
        functionName: 'fn',
        eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
        properties: { StartingPosition: 'TRIM_HORIZON', ParallelizationFactor: 2, BatchSize: 1 },
      },
      invoker,
      kinesis: kinesis.client,
      region: 'us-east-1',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/r',
      checkpoints,
      pollIntervalMs: 5,
    });
    await mapping.start();

    // THEN the fast lane finishes while the slow one is held; the checkpoint stays before it
    await eventually(() => invoker.events.length === 4);
    expect(await checkpoints.load('m-1', SHARD)).toBeUndefined();

    // WHEN the slow lane is released
    invoker.release(slow);

    // THEN the checkpoint jumps to the last record
    await eventually(() => mapping?.stats.shards[0]?.checkpoint === fastRecords[2]);
    expect((await checkpoints.load('m-1', SHARD))?.sequenceNumber).toBe(fastRecords[2]);
    expect(invoker.events.map((event) => event.Records[0]?.kinesis.sequenceNumber).sort()).toEqual(
      [slowFirst, ...fastRecords].sort(),
    );
  });
});
