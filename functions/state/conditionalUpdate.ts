import {
  type AttributeValue,
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { countConflict, countWrite } from './requestStats';
import type { DynamoDBSender, WindowStoreStats } from './types';

/**
 * An `UpdateItem` whose failed condition is an expected outcome: true if it was applied, false if
 * its condition failed (counted as a conflict); every other error is re-thrown untouched. The
 * request and its consumed capacity are counted on every counter.
 */
export async function conditionalUpdate(
  client: DynamoDBSender,
  tableName: string,
  input: Omit<UpdateItemCommandInput, 'TableName'>,
  ...counters: WindowStoreStats[]
): Promise<boolean> {
  return (await send(client, tableName, input, counters)) === true;
}

/**
 * Like {@link conditionalUpdate}, but a failed condition returns the item as it was (DynamoDB's
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD`, no extra request), so the caller can tell which
 * part of a compound condition failed; `{}` when the item did not exist.
 */
export async function conditionalUpdateOrImage(
  client: DynamoDBSender,
  tableName: string,
  input: Omit<UpdateItemCommandInput, 'TableName' | 'ReturnValuesOnConditionCheckFailure'>,
  ...counters: WindowStoreStats[]
): Promise<true | Record<string, AttributeValue>> {
  const outcome = await send(
    client,
    tableName,
    { ...input, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
    counters,
  );
  return outcome === true ? true : (outcome.Item ?? {});
}

/**
 * An `UpdateItem` with its consumed capacity counted on every counter; a failed condition is an
 * error here (see {@link conditionalUpdate} for one that is an outcome).
 */
export async function updateItem(
  client: DynamoDBSender,
  tableName: string,
  input: Omit<UpdateItemCommandInput, 'TableName'>,
  ...counters: WindowStoreStats[]
): Promise<void> {
  await countWrite(
    () =>
      client.send(
        new UpdateItemCommand({
          ...input,
          TableName: tableName,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    ...counters,
  );
}

async function send(
  client: DynamoDBSender,
  tableName: string,
  input: Omit<UpdateItemCommandInput, 'TableName'>,
  counters: readonly WindowStoreStats[],
): Promise<true | ConditionalCheckFailedException> {
  try {
    await updateItem(client, tableName, input, ...counters);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      countConflict(...counters);
      return error;
    }
    throw error;
  }
}
