import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBSender, TABLE_KEYS } from '#state/index';

/** Items one Scan page reads, so at most this many deletes are in flight at once. */
const PAGE_ITEMS = 100;

/** Key of a state item (`pk`/`sk` of {@link TABLE_KEYS}). */
export interface StateItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** What {@link playTtl} deleted. */
export interface PlayedTtl {
  /** Items deleted. */
  readonly count: number;
  /** Keys of the deleted items, in Scan order. */
  readonly keys: readonly StateItemKey[];
}

/**
 * Does to a state table what DynamoDB's TTL process would have done by the simulated time `atMs`
 * (epoch ms): deletes every item whose TTL attribute (`TABLE_KEYS.timeToLiveAttribute`, epoch
 * seconds) is a number at or before `atMs / 1000`. It reads the table with a paged, strongly
 * consistent Scan and deletes each expired item only if its TTL is still the value read, so an
 * item rewritten meanwhile with a later TTL is kept, as DynamoDB keeps it.
 *
 * It plays the strictest TTL: everything expired goes, at once (DynamoDB deletes within days, at
 * any moment after expiry). Unlike DynamoDB it also deletes TTLs more than five years old, which
 * DynamoDB ignores. Works whether or not the table has TTL enabled; test state tables have it off
 * (see `createStateTable`), so nothing expires unless a test plays it.
 *
 * @param client - DynamoDB client (or anything that sends its commands)
 * @param tableName - the state table
 * @param atMs - simulated time, epoch ms
 * @returns the number and keys of the items deleted
 * @example
 * ```ts
 * await store.applyDeltas(deltas); // store clock at T0: TTL is T0 + 7 days
 * expect(await playTtl(client, tableName, T0 + 6 * DAY)).toMatchObject({ count: 0 });
 * expect((await playTtl(client, tableName, T0 + 8 * DAY)).count).toBeGreaterThan(0);
 * ```
 */
export async function playTtl(
  client: DynamoDBSender,
  tableName: string,
  atMs: number,
): Promise<PlayedTtl> {
  const nowSeconds = atMs / 1000;
  const deleted: StateItemKey[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ProjectionExpression: '#pk, #sk, #ttl',
        ExpressionAttributeNames: {
          '#pk': TABLE_KEYS.partitionKey,
          '#sk': TABLE_KEYS.sortKey,
          '#ttl': TABLE_KEYS.timeToLiveAttribute,
        },
        Limit: PAGE_ITEMS,
        ExclusiveStartKey: startKey,
      }),
    );
    const expired = (page.Items ?? []).filter((item) => {
      const ttl = item[TABLE_KEYS.timeToLiveAttribute]?.N;
      return ttl !== undefined && Number(ttl) <= nowSeconds;
    });
    const outcomes = await Promise.all(
      expired.map((item) => deleteIfUnchanged(client, tableName, item)),
    );
    for (const [i, item] of expired.entries()) {
      if (outcomes[i] === true) deleted.push(keyOf(item));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { count: deleted.length, keys: deleted };
}

/** Deletes an expired item as read; `false` when it was rewritten or deleted since the read. */
async function deleteIfUnchanged(
  client: DynamoDBSender,
  tableName: string,
  item: Record<string, AttributeValue>,
): Promise<boolean> {
  const ttl = item[TABLE_KEYS.timeToLiveAttribute];
  try {
    await client.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: {
          [TABLE_KEYS.partitionKey]: item[TABLE_KEYS.partitionKey] as AttributeValue,
          [TABLE_KEYS.sortKey]: item[TABLE_KEYS.sortKey] as AttributeValue,
        },
        // The TTL is still the expired value read: an item rewritten since (a later TTL, or
        // none) is not deleted, and an item already gone is not counted. The attribute exists
        // only if the item does, so equality also means the item is there.
        ConditionExpression: '#ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': TABLE_KEYS.timeToLiveAttribute },
        ExpressionAttributeValues: { ':ttl': ttl as AttributeValue },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The key of a scanned state item, as strings. */
function keyOf(item: Record<string, AttributeValue>): StateItemKey {
  return {
    pk: item[TABLE_KEYS.partitionKey]?.S ?? '',
    sk: item[TABLE_KEYS.sortKey]?.S ?? '',
  };
}
