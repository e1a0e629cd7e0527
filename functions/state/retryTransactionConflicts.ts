import { backoff } from './backoff';
import { countConflict } from './requestStats';
import type { DynamoDBSender, WindowStoreStats } from './types';

/** The error DynamoDB returns for a single-item request that met another caller's transaction. */
const TRANSACTION_CONFLICT = 'TransactionConflictException';

/**
 * Wraps a client so that a request DynamoDB rejects with `TransactionConflictException` is sent
 * again after a jittered backoff, up to `maxAttempts` times in all.
 *
 * DynamoDB rejects a single-item read or write on an item that another caller's transaction holds
 * at that moment (grouped writes of another shard or closer touching the same item). Nothing was
 * read or written, so sending it again is safe; the SDK does not retry it on its own, and without
 * this the whole batch would fail and be retried by Lambda. Transactions cancelled for a conflict
 * are not retried here: their items take the one-item path, which comes through this wrapper.
 *
 * @param stats - the store's cumulative counters: each new attempt counts as a request and a conflict
 * @example
 * const client = retryTransactionConflicts(new DynamoDBClient({}), 8, store.stats);
 */
export function retryTransactionConflicts(
  client: DynamoDBSender,
  maxAttempts: number,
  stats: WindowStoreStats,
): DynamoDBSender {
  const send = async (...args: unknown[]): Promise<unknown> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await (client.send as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        if ((error as Error)?.name !== TRANSACTION_CONFLICT || attempt >= maxAttempts) throw error;
        stats.writeRequests++;
        countConflict(stats);
        await backoff(attempt + 1);
      }
    }
  };
  return { send } as DynamoDBSender;
}
