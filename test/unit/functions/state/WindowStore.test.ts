import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  GetItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { padSequence, type SliceDelta, WindowStateConflictError, WindowStore } from '#state/index';
import { ADDITIVE, deltasOf, mergeAccs, SLICE_MS, seqAt, type TestRecord } from './fixtures';

type Reply = (command: unknown) => unknown;

/** A DynamoDB client stub answering each command with the next scripted reply. */
function stubClient(...replies: Reply[]) {
  const commands: unknown[] = [];
  const send = jest.fn(async (command: unknown) => {
    commands.push(command);
    const reply = replies.shift();
    if (reply === undefined)
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    return reply(command);
  });
  return { client: { send } as never, commands };
}

const ok: Reply = () => ({ ConsumedCapacity: { CapacityUnits: 1 } });
const conflict =
  (item?: Record<string, unknown>): Reply =>
  () => {
    throw new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: item as never,
    });
  };

const records = (lane: string, key: string, values: number[]): TestRecord[] =>
  values.map((value, n) => ({
    lane,
    seq: seqAt(0, n + 1),
    key,
    ts: 1_000,
    value,
    id: `${lane}-${n + 1}`,
  }));

function store(client: never, options: Partial<ConstructorParameters<typeof WindowStore>[0]> = {}) {
  return new WindowStore({
    client,
    tableName: 'state',
    pipeline: 'p',
    merge: mergeAccs,
    additive: ADDITIVE,
    ...options,
  });
}

const inputOf = (command: unknown) =>
  (command as UpdateItemCommand).input as UpdateItemCommandInput;

describe('WindowStore.applyDeltas (stubbed client)', () => {
  it('writes additive items blind: ADD counters, set the fence, condition on the fence being below firstSeq', async () => {
    // GIVEN
    const { client, commands } = stubClient(ok);
    const deltas = deltasOf(records('shard-0', 'k', [2, 3]), false);
    // WHEN
    const result = await store(client).applyDeltas(deltas);
    // THEN
    expect(result).toMatchObject({
      items: 1,
      applied: 1,
      writeRequests: 1,
      readRequests: 0,
      consumedCapacityUnits: 1,
    });
    const input = inputOf(commands[0]);
    expect(commands[0]).toBeInstanceOf(UpdateItemCommand);
    expect(input.Key).toEqual({ pk: { S: 'p#K#k' }, sk: { S: 'S#0000000000000000' } });
    expect(input.UpdateExpression).toMatch(/ADD #n\d+ :v\d+, #n\d+ :v\d+, #n\d+ :v\d+/);
    // The slice must not be sealed by a closer, and the lane's fence must be below the batch.
    expect(input.ConditionExpression).toBe(
      '(attribute_not_exists(#n0)) AND (attribute_not_exists(#n1) OR #n1 < :v1)',
    );
    expect(input.ExpressionAttributeNames?.['#n0']).toBe('sealed');
    expect(input.ExpressionAttributeNames?.['#n1']).toBe('f_shard-0');
    expect(input.ExpressionAttributeValues?.[':v1']).toEqual({ S: padSequence(seqAt(0, 1)) });
    expect(input.ExpressionAttributeValues?.[':v0']).toEqual({ S: padSequence(seqAt(0, 2)) });
    expect(input.ReturnConsumedCapacity).toBe('TOTAL');
    expect(input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    const names = Object.values(input.ExpressionAttributeNames ?? {});
    expect(names).toEqual(
      expect.arrayContaining(['a_count', 'a_sum', 'version', 'expiresAt', 'gsi1pk', 'gsi1sk']),
    );
  });

  it('skips an item whose fence already covers lastSeq, without a second write', async () => {
    // GIVEN: the item already absorbed the whole batch (a retry)
    const { client, commands } = stubClient(
      conflict({ version: { N: '1' }, 'f_shard-0': { S: padSequence(seqAt(0, 3)) } }),
    );
    // WHEN
    const result = await store(client).applyDeltas(
      deltasOf(records('shard-0', 'k', [1, 2, 3]), false),
    );
    // THEN
    expect(result).toMatchObject({ applied: 0, skipped: 1, writeRequests: 1, conflicts: 1 });
    expect(commands).toHaveLength(1);
  });

  it('applies only the records above the fence it read, conditioned on that fence', async () => {
    // GIVEN: the item absorbed the first record of the batch (replay from a failed sequence number)
    const fence = padSequence(seqAt(0, 1));
    const { client, commands } = stubClient(
      conflict({ version: { N: '4' }, 'f_shard-0': { S: fence } }),
      ok,
    );
    const [delta] = deltasOf(records('shard-0', 'k', [10, 20, 30]), false) as [SliceDelta];
    const recompute = jest.spyOn(delta, 'recompute');
    // WHEN
    const result = await store(client).applyDeltas([delta]);
    // THEN
    expect(recompute).toHaveBeenCalledWith(seqAt(0, 1));
    expect(result).toMatchObject({ applied: 1, writeRequests: 2, readRequests: 0, conflicts: 1 });
    const input = inputOf(commands[1]);
    const values = Object.values(input.ExpressionAttributeValues ?? {});
    expect(values).toEqual(expect.arrayContaining([{ N: '2' }, { N: '50' }, { S: fence }]));
    expect(input.ConditionExpression).toMatch(
      /^\(attribute_not_exists\(#n\d+\)\) AND \(#n\d+ = :v\d+\)$/,
    );
  });

  it('reads the item when the failed write returned no image', async () => {
    const { client, commands } = stubClient(conflict(), () => ({
      Item: { 'f_shard-0': { S: padSequence(seqAt(0, 9)) } },
    }));
    const result = await store(client).applyDeltas(deltasOf(records('shard-0', 'k', [1]), false));
    expect(commands[1]).toBeInstanceOf(GetItemCommand);
    expect(result).toMatchObject({ skipped: 1, readRequests: 1 });
  });

  it('read-merge-writes non-additive items on version, and skips the read when the image is cached', async () => {
    // GIVEN
    const { client, commands } = stubClient(() => ({}), ok, ok);
    const s = store(client);
    const batch = records('shard-0', 'k', [5, 7]);
    // WHEN
    await s.applyDeltas(deltasOf(batch.slice(0, 1), true));
    await s.applyDeltas(deltasOf(batch.slice(1), true));
    // THEN: GetItem, create (attribute_not_exists(pk)), update on version 1 — no second read
    expect(commands.map((c) => (c as object).constructor.name)).toEqual([
      'GetItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
    ]);
    const create = inputOf(commands[1]);
    const [, sealedName, pkName] =
      /^\(attribute_not_exists\((#n\d+)\)\) AND \(attribute_not_exists\((#n\d+)\)\)$/.exec(
        create.ConditionExpression ?? '',
      ) ?? [];
    expect(create.ExpressionAttributeNames?.[sealedName ?? '']).toBe('sealed');
    expect(create.ExpressionAttributeNames?.[pkName ?? '']).toBe('pk');
    const second = inputOf(commands[2]);
    expect(second.ConditionExpression).toMatch(
      /^\(attribute_not_exists\(#n\d+\)\) AND \(#n\d+ = :v\d+\)$/,
    );
    expect(Object.values(second.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining([
        { N: '1' },
        { N: '2' },
        { N: '12' },
        { S: '{"max":7,"ids":["shard-0-1","shard-0-2"]}' },
      ]),
    );
    expect(s.stats).toMatchObject({ writeRequests: 2, readRequests: 1 });
  });

  it('seals an item the batch would make too large as full, writes no accumulator, and rejects what it has not absorbed', async () => {
    // GIVEN: an accumulator of ~380 KB into an absent item
    const sealedFull = {
      Item: {
        version: { N: '1' },
        sealed: { BOOL: true },
        full: { BOOL: true },
      },
    };
    const { client, commands } = stubClient(
      () => ({}), // GetItem: absent
      ok, // the seal
      () => sealedFull, // GetItem after the seal
    );
    const big: TestRecord[] = [
      {
        lane: 'shard-0',
        seq: '1',
        key: '/home',
        ts: 2 * SLICE_MS,
        value: 1,
        id: 'x'.repeat(380_000),
      },
    ];
    // WHEN
    const result = await store(client).applyDeltas(deltasOf(big, true));
    // THEN: one write, the seal (sealed + full, no accumulator), and the records are rejected as full
    const updates = commands.filter((c) => c instanceof UpdateItemCommand).map(inputOf);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.ConditionExpression).toBeUndefined();
    expect(Object.values(updates[0]?.ExpressionAttributeNames ?? {})).toEqual(
      expect.arrayContaining(['sealed', 'full']),
    );
    expect(JSON.stringify(updates[0])).not.toContain('x'.repeat(100));
    expect(result).toMatchObject({ applied: 0, sealed: 1 });
    expect(result.rejected).toEqual([
      {
        key: '/home',
        sliceStart: 2 * SLICE_MS,
        sliceEnd: 3 * SLICE_MS,
        lane: 'shard-0',
        afterSeq: undefined,
        cause: 'full',
      },
    ]);
  });

  it('seals the item as full when DynamoDB rejects the item size, then rejects above its fence', async () => {
    const tooBig = new DynamoDBServiceException({
      name: 'ValidationException',
      $fault: 'client',
      message: 'Item size has exceeded the maximum allowed size',
      $metadata: {},
    });
    const { client, commands } = stubClient(
      () => {
        throw tooBig;
      },
      ok, // the seal
      conflict({ version: { N: '4' }, sealed: { BOOL: true }, full: { BOOL: true } }),
    );
    const result = await store(client).applyDeltas(deltasOf(records('s', 'k', [1]), false));
    expect(commands.filter((c) => c instanceof UpdateItemCommand)).toHaveLength(3);
    expect(result.rejected).toEqual([
      expect.objectContaining({ key: 'k', lane: 's', afterSeq: undefined, cause: 'full' }),
    ]);
  });

  it('fails with the SDK error untouched when it is not a condition failure', async () => {
    const throttled = new Error('Rate exceeded');
    const { client } = stubClient(() => {
      throw throttled;
    });
    await expect(store(client).applyDeltas(deltasOf(records('s', 'k', [1]), false))).rejects.toBe(
      throttled,
    );
  });

  it('fails with WindowStateConflictError after maxAttempts conflicts', async () => {
    const image = { version: { N: '1' } };
    const { client, commands } = stubClient(() => ({}), conflict(image), conflict(image));
    const error = await store(client, { maxAttempts: 2 })
      .applyDeltas(deltasOf(records('s', 'k', [1]), true))
      .catch((e: unknown) => e);
    // THEN: one read, then two writes whose conditions failed; the image came with the failure
    expect(commands.map((c) => (c as object).constructor.name)).toEqual([
      'GetItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
    ]);
    expect(error).toBeInstanceOf(WindowStateConflictError);
    expect((error as Error).cause).toBeInstanceOf(ConditionalCheckFailedException);
    expect((error as WindowStateConflictError).details).toMatchObject({ pipeline: 'p', key: 'k' });
  });

  it('keeps at most `concurrency` writes in flight when writing item by item', async () => {
    let inFlight = 0;
    let peak = 0;
    const send = jest.fn(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return {};
    });
    const batch = Array.from(
      { length: 40 },
      (_, i): TestRecord => ({
        lane: 's',
        seq: String(i + 1),
        key: `k${i}`,
        ts: 0,
        value: 1,
        id: `${i}`,
      }),
    );
    const result = await store({ send } as never, {
      concurrency: 4,
      groupWrites: false,
    }).applyDeltas(deltasOf(batch, false));
    expect(result.writeRequests).toBe(40);
    expect(peak).toBe(4);
  });
});
