import {
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SESSION_FENCES_SORT_KEY } from '#state/constants';
import {
  InvalidWindowStoreInputError,
  ItemTooLargeError,
  WindowStateConflictError,
} from '#state/errors';
import { bucketOf } from '#state/keys';
import { SessionStore } from '#state/SessionStore';
import type { AccSet, SessionDelta } from '#state/types';

const GAP = 10;

/** A client stub answering each command type from a queue of responses (or errors). */
const stubClient = (handlers: Record<string, Array<unknown>>) => {
  const sent: unknown[] = [];
  return {
    sent,
    send: async (command: { constructor: { name: string }; input: unknown }) => {
      sent.push(command);
      const next = handlers[command.constructor.name]?.shift();
      if (next instanceof Error) throw next;
      return next ?? {};
    },
  };
};

const delta = (times: number[]): SessionDelta => ({
  key: 'u1',
  elements: times.map((time, i) => ({ lane: 's0', sequenceNumber: String(i + 1), time })),
  sessionsOf: (indices) => [
    {
      start: Math.min(...indices.map((i) => times[i] as number)),
      end: Math.max(...indices.map((i) => times[i] as number)) + GAP,
      acc: { n: indices.length },
    },
  ],
});

const store = (client: ReturnType<typeof stubClient>, extra = {}) =>
  new SessionStore({
    client,
    tableName: 't',
    pipeline: 'p',
    gapMs: GAP,
    merge: (a: AccSet, b: AccSet) => ({ n: (a.n as number) + (b.n as number) }),
    ...extra,
  });

const conflict = () =>
  new TransactionCanceledException({
    message: 'canceled',
    $metadata: {},
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });

describe('SessionStore', () => {
  it('writes a new session and the key fences in one transaction, conditioned on their absence', async () => {
    // GIVEN an empty key
    const client = stubClient({ QueryCommand: [{ Items: [] }], TransactWriteItemsCommand: [{}] });
    // WHEN
    const result = await store(client).applySessions([delta([100, 104])]);
    // THEN one Query (fences + sessions, newest first) and one transaction of two items
    const [query, transaction] = client.sent as [QueryCommand, TransactWriteItemsCommand];
    expect(query).toBeInstanceOf(QueryCommand);
    expect(query.input).toMatchObject({ ScanIndexForward: false, ConsistentRead: true });
    expect(Object.values(query.input.ExpressionAttributeValues ?? {})).toContainEqual({
      S: SESSION_FENCES_SORT_KEY,
    });
    const items = transaction.input.TransactItems ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]?.Put?.Item).toMatchObject({
      sk: { S: 'X#0000000000000100' },
      windowStart: { N: '100' },
      windowEnd: { N: '114' },
      a_n: { S: '2' },
      gsi1pk: { S: `p#due#${bucketOf('u1', 8)}` },
      gsi1sk: { S: '0000000000000114' },
    });
    expect(items[0]?.Put?.Item?.expiresAt?.N).toBeDefined();
    expect(items[0]?.Put?.ConditionExpression).toBe('attribute_not_exists(#n0)');
    expect(items[1]?.Update?.Key?.sk).toEqual({ S: SESSION_FENCES_SORT_KEY });
    const fenceUpdate = items[1]?.Update;
    expect(fenceUpdate?.ConditionExpression).toMatch(/^attribute_not_exists\((#n\d+)\)$/);
    const placeholder = /\((#n\d+)\)/.exec(fenceUpdate?.ConditionExpression ?? '')?.[1] ?? '';
    expect(fenceUpdate?.ExpressionAttributeNames?.[placeholder]).toBe('pk');
    expect(fenceUpdate?.UpdateExpression).toContain(':v');
    expect(Object.values(fenceUpdate?.ExpressionAttributeNames ?? {})).toContain('f_s0');
    expect(result).toMatchObject({ keys: 1, applied: 1, skipped: 0, writeRequests: 1 });
    expect(result.written).toEqual([{ key: 'u1', start: 100, end: 114, acc: { n: 2 } }]);
  });

  it('re-reads and re-plans when the transaction is canceled by a condition', async () => {
    const client = stubClient({
      QueryCommand: [{ Items: [] }, { Items: [] }],
      TransactWriteItemsCommand: [conflict(), {}],
    });
    const result = await store(client).applySessions([delta([1])]);
    expect(result).toMatchObject({ applied: 1, conflicts: 1, readRequests: 2, writeRequests: 2 });
  });

  it('skips a replay: every element at or below the key fence, no write', async () => {
    const fences = {
      pk: { S: 'p#K#u1' },
      sk: { S: SESSION_FENCES_SORT_KEY },
      version: { N: '4' },
      f_s0: { S: '9'.padStart(128, '0') },
    };
    const client = stubClient({ QueryCommand: [{ Items: [fences] }] });
    const result = await store(client).applySessions([delta([1, 2])]);
    expect(result).toMatchObject({ applied: 0, skipped: 1, writeRequests: 0 });
  });

  it('hands refused elements to onRefused once the transaction committed them as refused', async () => {
    // GIVEN a sealed session [0, 10)
    const sealed = {
      pk: { S: 'p#K#u1' },
      sk: { S: 'X#0000000000000000' },
      windowStart: { N: '0' },
      windowEnd: { N: '10' },
      version: { N: '2' },
      sealed: { BOOL: true },
    };
    const order: string[] = [];
    const client = stubClient({
      QueryCommand: [{ Items: [sealed] }],
      TransactWriteItemsCommand: [{}],
    });
    const send = client.send;
    client.send = async (command) => {
      order.push(command.constructor.name);
      return send(command);
    };
    // WHEN an element at 5 arrives
    const result = await store(client).applySessions([delta([5])], {
      onRefused: async (refused) => {
        order.push(`refused ${refused.indices.join()}`);
      },
    });
    // THEN the fences advance alone (remembering the refusal), then it is reported
    expect(order).toEqual(['QueryCommand', 'TransactWriteItemsCommand', 'refused 0']);
    expect(result.refused).toEqual([
      { key: 'u1', indices: [0], sealed: [{ key: 'u1', start: 0, end: 10 }] },
    ]);
    expect(result.written).toEqual([]);
  });

  it('fails with WindowStateConflictError after maxAttempts conflicting cycles', async () => {
    const client = stubClient({
      QueryCommand: [{ Items: [] }, { Items: [] }],
      TransactWriteItemsCommand: [conflict(), conflict()],
    });
    await expect(store(client, { maxAttempts: 2 }).applySessions([delta([1])])).rejects.toThrow(
      WindowStateConflictError,
    );
  });

  it('fails with the SDK error untouched when a transaction is canceled for another reason', async () => {
    const other = new TransactionCanceledException({
      message: 'validation',
      $metadata: {},
      CancellationReasons: [{ Code: 'ValidationError' }],
    });
    const client = stubClient({
      QueryCommand: [{ Items: [] }],
      TransactWriteItemsCommand: [other],
    });
    await expect(store(client).applySessions([delta([1])])).rejects.toBe(other);
  });

  it('fails with ItemTooLargeError naming the pipeline and key before writing', async () => {
    const client = stubClient({ QueryCommand: [{ Items: [] }] });
    const error = await store(client, { maxItemBytes: 50 })
      .applySessions([delta([1])])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ItemTooLargeError);
    expect((error as ItemTooLargeError).details).toMatchObject({ pipeline: 'p', key: 'u1' });
    expect(client.sent.some((c) => c instanceof TransactWriteItemsCommand)).toBe(false);
  });

  it('fails on a non-positive gap', () => {
    expect(() => store(stubClient({}), { gapMs: 0 })).toThrow(InvalidWindowStoreInputError);
  });

  it('closes a due session by sealing the version read, and reports a lost race', async () => {
    // GIVEN a session [0, 10) at version 2
    const item = {
      pk: { S: 'p#K#u1' },
      sk: { S: 'X#0000000000000000' },
      windowStart: { N: '0' },
      windowEnd: { N: '10' },
      version: { N: '2' },
      a_n: { S: '3' },
    };
    const client = stubClient({
      GetItemCommand: [{ Item: item }, { Item: { ...item, sealed: { BOOL: true } } }],
      UpdateItemCommand: [new ConditionalCheckFailedException({ message: 'x', $metadata: {} })],
    });
    const ref = { key: 'u1', start: 0, end: 10 };
    // WHEN the seal loses to another closer
    const outcome = await store(client).closeSession(ref, 10, 1000);
    // THEN the re-read sees it sealed
    expect(outcome).toEqual({ outcome: 'already-closed' });
    const update = client.sent.find((c) => c instanceof UpdateItemCommand) as UpdateItemCommand;
    expect(update.input.ConditionExpression).toMatch(
      /^\((#n\d+) = :v\d+\) AND \(attribute_not_exists\(#n0\)\)$/,
    );
    expect(update.input.ExpressionAttributeNames?.['#n0']).toBe('sealed');
    expect(client.sent.filter((c) => c instanceof GetItemCommand)).toHaveLength(2);
  });

  it('does not close a session the watermark has not passed', async () => {
    const item = {
      windowStart: { N: '0' },
      windowEnd: { N: '10' },
      version: { N: '2' },
    };
    const client = stubClient({ GetItemCommand: [{ Item: item }] });
    expect(await store(client).closeSession({ key: 'u1', start: 0, end: 10 }, 9, 1)).toEqual({
      outcome: 'not-due',
    });
  });
});
