import {
  ConditionalCheckFailedException,
  TransactionConflictException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { WindowStore } from '#state/index';
import { emptyStats } from '#state/requestStats';
import { retryTransactionConflicts } from '#state/retryTransactionConflicts';
import { ADDITIVE, deltasOf, mergeAccs } from '#test/unit/functions/state/fixtures';

const conflict = () =>
  new TransactionConflictException({
    message: 'Transaction is ongoing for the item',
    $metadata: {},
  });

describe('retryTransactionConflicts', () => {
  it('sends a request again while it meets another transaction, then returns its answer', async () => {
    const send = jest
      .fn()
      .mockRejectedValueOnce(conflict())
      .mockRejectedValueOnce(conflict())
      .mockResolvedValue({ ok: true });
    const stats = emptyStats();
    const client = retryTransactionConflicts({ send } as never, 8, stats);
    await expect(client.send(new UpdateItemCommand({ TableName: 't', Key: {} }))).resolves.toEqual({
      ok: true,
    });
    expect(send).toHaveBeenCalledTimes(3);
    expect(stats).toMatchObject({ writeRequests: 2, conflicts: 2 });
  });

  it('gives up after maxAttempts, and never retries other errors', async () => {
    const always = jest.fn().mockRejectedValue(conflict());
    await expect(
      retryTransactionConflicts({ send: always } as never, 3, emptyStats()).send(
        new UpdateItemCommand({ TableName: 't', Key: {} }),
      ),
    ).rejects.toThrow('Transaction is ongoing');
    expect(always).toHaveBeenCalledTimes(3);
    const failed = jest
      .fn()
      .mockRejectedValue(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(
      retryTransactionConflicts({ send: failed } as never, 3, emptyStats()).send(
        new UpdateItemCommand({ TableName: 't', Key: {} }),
      ),
    ).rejects.toThrow('no');
    expect(failed).toHaveBeenCalledTimes(1);
  });

  it("keeps a store's one-item write going when it meets another shard's transaction", async () => {
    // GIVEN a store writing item by item whose first write meets a transaction in flight
    const send = jest.fn().mockRejectedValueOnce(conflict()).mockResolvedValue({});
    const store = new WindowStore({
      client: { send } as never,
      tableName: 'state',
      pipeline: 'p',
      merge: mergeAccs,
      additive: ADDITIVE,
      groupWrites: false,
    });
    // WHEN it absorbs one record
    const result = await store.applyDeltas(
      deltasOf([{ lane: 's', seq: '1', key: 'k', ts: 0, value: 1, id: 'a' }], false),
    );
    // THEN the write is applied on the second attempt, counted as a conflict
    expect(result.applied).toBe(1);
    expect(send).toHaveBeenCalledTimes(2);
    expect(store.stats.conflicts).toBe(1);
  });
});
