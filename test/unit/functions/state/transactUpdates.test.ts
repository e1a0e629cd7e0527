import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { emptyStats } from '#state/requestStats';
import { type GroupedUpdate, transactUpdates } from '#state/transactUpdates';

const update = (id: string, bytes = 10): GroupedUpdate => ({
  Key: { pk: { S: id }, sk: { S: 's' } },
  UpdateExpression: 'SET #a = :a',
  ExpressionAttributeNames: { '#a': 'a' },
  ExpressionAttributeValues: { ':a': { S: 'x'.repeat(bytes) } },
});

const cancelled = (codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

/** A client recording each TransactWriteItems' item ids, answering with `answer`. */
function client(answer: (ids: string[]) => unknown = () => ({})) {
  const groups: string[][] = [];
  const send = jest.fn(async (command: unknown) => {
    if (!(command instanceof TransactWriteItemsCommand)) throw new Error('unexpected command');
    const ids = (command.input.TransactItems ?? []).map((i) => i.Update?.Key?.pk?.S as string);
    for (const item of command.input.TransactItems ?? []) expect(item.Update?.TableName).toBe('t');
    groups.push(ids);
    const out = answer(ids);
    if (out instanceof Error) throw out;
    return out;
  });
  return { send, groups };
}

describe('transactUpdates', () => {
  it('writes 250 updates as transactions of at most 100, each applied', async () => {
    const c = client();
    const counter = emptyStats();
    const ids = Array.from({ length: 250 }, (_, i) => `k${i}`);
    const applied = await transactUpdates(
      c,
      't',
      ids.map((id) => update(id)),
      counter,
    );
    expect(c.groups.map((g) => g.length)).toEqual([100, 100, 50]);
    expect(c.groups.flat()).toEqual(ids);
    expect(applied).toEqual(ids.map(() => true));
    expect(counter.writeRequests).toBe(3);
  });

  it('leaves a group of one to the caller (a single write is cheaper)', async () => {
    const c = client();
    const ids = Array.from({ length: 101 }, (_, i) => `k${i}`);
    const applied = await transactUpdates(
      c,
      't',
      ids.map((id) => update(id)),
    );
    expect(c.groups.map((g) => g.length)).toEqual([100]);
    expect(applied.slice(0, 100).every(Boolean)).toBe(true);
    expect(applied[100]).toBe(false);
  });

  it('never puts one item twice in a transaction', async () => {
    const c = client();
    const applied = await transactUpdates(c, 't', [
      update('a'),
      update('b'),
      update('a'),
      update('c'),
    ]);
    expect(c.groups).toEqual([['a', 'b', 'c']]);
    expect(applied).toEqual([true, true, false, true]);
  });

  it('splits groups before the transaction size limit', async () => {
    const c = client();
    const big = 1024 * 1024; // 4 × 1 MiB values: above one 3 MiB group
    await transactUpdates(
      c,
      't',
      ['a', 'b', 'c', 'd'].map((id) => update(id, big)),
    );
    expect(c.groups.map((g) => g.length)).toEqual([2, 2]);
  });

  it('reports a cancelled group as not applied and counts a conflict', async () => {
    // GIVEN a group that loses a race on one of its items
    const c = client((ids) =>
      ids[0] === 'k0' ? cancelled(['None', 'ConditionalCheckFailed']) : {},
    );
    const counter = emptyStats();
    const applied = await transactUpdates(
      c,
      't',
      ['k0', 'k1', 'k2', 'k3'].map((id) => update(id)),
      counter,
    );
    // THEN none of its updates is reported applied (a transaction is never half applied)
    expect(c.groups).toEqual([['k0', 'k1', 'k2', 'k3']]);
    expect(applied).toEqual([false, false, false, false]);
    expect(counter.conflicts).toBe(1);
  });

  it('reports a group refused as invalid (an oversized item) as not applied', async () => {
    const c = client(() => cancelled(['ValidationError', 'None']));
    const counter = emptyStats();
    expect(await transactUpdates(c, 't', [update('a'), update('b')], counter)).toEqual([
      false,
      false,
    ]);
    expect(counter.conflicts).toBe(0);
  });

  it('re-throws what leaves the outcome unknown', async () => {
    const c = client(
      () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }),
    );
    await expect(transactUpdates(c, 't', [update('a'), update('b')])).rejects.toThrow('slow down');
  });
});
