import {
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type Update,
} from '@aws-sdk/client-dynamodb';
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS } from './constants';
import { countConflict, countWrite } from './requestStats';
import type { DynamoDBSender, WindowStoreStats } from './types';

/** One conditional `UpdateItem`, as a `TransactWriteItems` action holds it (the table is given apart). */
export type GroupedUpdate = Omit<Update, 'TableName'>;

/** Cancellation reasons that mean "someone else wrote first": re-read and re-plan. */
export const CONFLICT_REASONS: ReadonlySet<string> = new Set([
  'ConditionalCheckFailed',
  'TransactionConflict',
]);

/**
 * True if `error` is a cancelled transaction whose every reason is a conflict (or no reason): the
 * transaction wrote nothing, and re-reading and planning again is the way on.
 */
export function isConflictCancellation(error: unknown): boolean {
  if (!(error instanceof TransactionCanceledException)) return false;
  const reasons = error.CancellationReasons ?? [];
  return (
    reasons.some((r) => CONFLICT_REASONS.has(r.Code ?? '')) &&
    reasons.every((r) => r.Code === undefined || r.Code === 'None' || CONFLICT_REASONS.has(r.Code))
  );
}

/**
 * Applies independent conditional updates in as few requests as DynamoDB allows: groups of at
 * most {@link MAX_TRANSACTION_ITEMS} actions and about {@link MAX_TRANSACTION_BYTES}, each one
 * `TransactWriteItems` (all or nothing). Returns, per update, whether it was applied.
 *
 * `false` means nothing of that update was written, and the caller takes its own one-item path
 * for it (which reports conditions, sizes and conflicts precisely). That happens when:
 * - its group was cancelled (any reason: a failed condition of any member, a conflict with
 *   another writer, an invalid or oversized item) or refused as invalid as a whole;
 * - its group would hold one update: a single `UpdateItem` is cheaper (a transactional write
 *   bills twice the capacity), so it is left to the caller;
 * - another update of the same item precedes it in the group (one transaction cannot touch an
 *   item twice); the caller applies it on its own path.
 *
 * Any other error (throttling or a network failure after the SDK's retries, which reuse the
 * transaction's client token, so a retried commit is applied once) is re-thrown: the outcome is
 * unknown, as for any write.
 *
 * @example
 * const applied = await transactUpdates(client, table, updates, counter);
 * for (const [i, ok] of applied.entries()) if (!ok) await applyOne(i);
 */
export async function transactUpdates(
  client: DynamoDBSender,
  tableName: string,
  updates: readonly GroupedUpdate[],
  ...counters: WindowStoreStats[]
): Promise<boolean[]> {
  const applied: boolean[] = new Array(updates.length).fill(false);
  for (const group of groupsOf(updates)) {
    if (group.length < 2) continue;
    try {
      await countWrite(
        () =>
          client.send(
            new TransactWriteItemsCommand({
              TransactItems: group.map((i) => ({
                Update: { ...(updates[i] as GroupedUpdate), TableName: tableName },
              })),
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ...counters,
      );
      for (const i of group) applied[i] = true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        if (isConflictCancellation(error)) countConflict(...counters);
        continue;
      }
      if (error instanceof Error && error.name === 'ValidationException') continue;
      throw error;
    }
  }
  return applied;
}

/** Indices of `updates` split into transaction-sized groups, no item twice in one group. */
function groupsOf(updates: readonly GroupedUpdate[]): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  let bytes = 0;
  let items = new Set<string>();
  for (const [i, update] of updates.entries()) {
    const id = JSON.stringify(update.Key);
    if (items.has(id)) continue; // left to the caller's own path
    const size = estimateBytes(update);
    if (
      group.length === MAX_TRANSACTION_ITEMS ||
      (group.length > 0 && bytes + size > MAX_TRANSACTION_BYTES)
    ) {
      groups.push(group);
      group = [];
      bytes = 0;
      items = new Set();
    }
    group.push(i);
    items.add(id);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** An upper estimate of an update's size in the request (its values dominate). */
function estimateBytes(update: GroupedUpdate): number {
  return (
    JSON.stringify(update.Key).length +
    JSON.stringify(update.ExpressionAttributeValues ?? {}).length +
    JSON.stringify(update.ExpressionAttributeNames ?? {}).length +
    (update.UpdateExpression?.length ?? 0) +
    (update.ConditionExpression?.length ?? 0)
  );
}
