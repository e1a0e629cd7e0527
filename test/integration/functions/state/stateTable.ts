import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { localClients } from '#local/aws/index';
import { createTableInput, timeToLiveInput } from '#state/index';
import { useEngines } from '#test/helpers/engines';

let tables = 0;

/** Creates a fresh state table exactly as `createTableInput` defines it, with TTL on. */
export async function createStateTable(client: DynamoDBClient, prefix: string): Promise<string> {
  const tableName = `${prefix}-${process.pid}-${Date.now()}-${tables++}`;
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  await client.send(new UpdateTimeToLiveCommand(timeToLiveInput(tableName)));
  return tableName;
}

/** The DynamoDB client and fresh state table of a suite. */
export interface StateTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/**
 * Starts the engines for the enclosing suite and creates a fresh state table (beforeAll); destroys
 * the client after it (afterAll). Call the returned function inside tests or hooks.
 *
 * @example
 * ```ts
 * const table = useStateTable('state-it');
 * it('writes', async () => {
 *   const { client, tableName } = table();
 * });
 * ```
 */
export function useStateTable(prefix: string, hookTimeoutMs?: number): () => StateTable {
  const engines = useEngines();
  let table: StateTable | undefined;
  beforeAll(async () => {
    const client = localClients(engines().endpoints).dynamodb;
    table = { client, tableName: await createStateTable(client, prefix) };
  }, hookTimeoutMs);
  afterAll(() => table?.client.destroy());
  return () => {
    if (table === undefined)
      throw new Error('useStateTable(): use the getter inside a test or hook');
    return table;
  };
}
