import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import type { RawItem } from './attributes';
import { backoff } from './backoff';
import { ExpressionBuilder } from './expressions';
import { countRead } from './requestStats';
import type { DynamoDBSender, WindowStoreStats } from './types';

/** Keys one `BatchGetItem` may ask for. */
const MAX_BATCH_GET_KEYS = 100;

/**
 * Strongly consistent reads of `keys` of one table: `BatchGetItem`s of 100 keys, each retrying
 * what DynamoDB left unprocessed (with backoff) until nothing is; every request is counted on
 * every counter. Items come back in no particular order; keys without an item are absent.
 *
 * @param projection - attribute names to read (all when absent)
 * @example
 * const rows = await batchGetConsistent(client, tableName, keys, undefined, counter, stats);
 */
export async function batchGetConsistent(
  client: DynamoDBSender,
  tableName: string,
  keys: readonly RawItem[],
  projection: readonly string[] | undefined,
  ...counters: WindowStoreStats[]
): Promise<RawItem[]> {
  const items: RawItem[] = [];
  for (let i = 0; i < keys.length; i += MAX_BATCH_GET_KEYS) {
    let pending: RawItem[] = keys.slice(i, i + MAX_BATCH_GET_KEYS);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const b = new ExpressionBuilder();
      const read = pending;
      const out = await countRead(
        () =>
          client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [tableName]: {
                  Keys: read,
                  ConsistentRead: true,
                  ...(projection === undefined
                    ? {}
                    : {
                        ProjectionExpression: projection.map((n) => b.name(n)).join(', '),
                        ExpressionAttributeNames: b.names,
                      }),
                },
              },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ...counters,
      );
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as RawItem[];
    }
  }
  return items;
}
