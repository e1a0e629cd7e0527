import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localClients } from '#local/aws/index';
import { createTableInput } from '#state/index';
import { useEngines } from '#test/helpers/engines';

let tables = 0;

/**
 * Creates a fresh state table exactly as `createTableInput` defines it, but with TTL off: nothing
 * in it expires by itself.
 *
 * Tests pin their clock (e.g. to 2026-11-26), so the TTL of the items they write (clock + 7 days
 * of retention) passes on the real calendar sooner or later. With TTL on, DynamoDB Local 3.3
 * deletes an expired item about a second after its TTL, but only if the item carries every
 * attribute of the table's AttributeDefinitions (the `gsi1` keys); the first expired item without
 * them (a watermark, an emitted window) stops its TTL deletion on that table for good. Whether a
 * test still found its state would depend on the day it runs and on Scan order. A test that needs
 * TTL plays it at a simulated time with `playTtl` (`#test/helpers/playTtl`). That the deployed
 * table enables TTL on `expiresAt` is asserted where it is defined: the CDK stack test, the
 * `timeToLiveInput` unit test and the local assembly test.
 */
export async function createStateTable(client: DynamoDBClient, prefix: string): Promise<string> {
  const tableName = `${prefix}-${process.pid}-${Date.now()}-${tables++}`;
  await client.send(new CreateTableCommand(createTableInput(tableName)));
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
