import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, timeToLiveInput } from '#state/index';

let tables = 0;

/** Creates a fresh state table exactly as `createTableInput` defines it, with TTL on. */
export async function createStateTable(client: DynamoDBClient, prefix: string): Promise<string> {
  const tableName = `${prefix}-${process.pid}-${Date.now()}-${tables++}`;
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  await client.send(new UpdateTimeToLiveCommand(timeToLiveInput(tableName)));
  return tableName;
}
