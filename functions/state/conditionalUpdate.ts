import {
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
  try {
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
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      countConflict(...counters);
      return false;
    }
    throw error;
  }
}
