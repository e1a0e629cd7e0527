import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { localClients } from '#local/aws/index';
import { useEngines } from '#test/helpers/engines';
import { playTtl } from '#test/helpers/playTtl';
import { createStateTable } from '../functions/state/stateTable';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const T0_SECONDS = T0 / 1000;
const engines = useEngines();
let client: DynamoDBClient;

beforeAll(() => {
  client = localClients(engines().endpoints).dynamodb;
});
afterAll(() => client?.destroy());

/** Writes the state item `pk`/`x`, with `expiresAt` (epoch s) when given. */
async function put(tableName: string, pk: string, expiresAt?: number): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        pk: { S: pk },
        sk: { S: 'x' },
        ...(expiresAt === undefined ? {} : { expiresAt: { N: String(expiresAt) } }),
      },
    }),
  );
}

/** Partition keys of every item in the table, sorted. */
async function remaining(tableName: string): Promise<string[]> {
  const { Items: items = [] } = await client.send(
    new ScanCommand({ TableName: tableName, ConsistentRead: true }),
  );
  return items.map((item) => item.pk?.S ?? '').sort();
}

describe('playTtl against DynamoDB Local', () => {
  it('deletes the items expired by the simulated time and keeps the others', async () => {
    // GIVEN items expired before T0, exactly at T0, after T0, and without TTL
    const tableName = await createStateTable(client, 'ttl-play');
    await put(tableName, 'expired-a', T0_SECONDS - 3_600);
    await put(tableName, 'expired-b', 604_800);
    await put(tableName, 'at-t0', T0_SECONDS);
    await put(tableName, 'later', T0_SECONDS + 1);
    await put(tableName, 'no-ttl');
    // WHEN TTL is played at T0
    const played = await playTtl(client, tableName, T0);
    // THEN what expired by T0 (inclusive) is gone, and reported
    expect(played.count).toBe(3);
    expect([...played.keys].sort((a, b) => a.pk.localeCompare(b.pk))).toEqual([
      { pk: 'at-t0', sk: 'x' },
      { pk: 'expired-a', sk: 'x' },
      { pk: 'expired-b', sk: 'x' },
    ]);
    expect(await remaining(tableName)).toEqual(['later', 'no-ttl']);
    // WHEN TTL is played again, a second later
    // THEN the item expiring then goes too; the one without TTL never does
    expect(await playTtl(client, tableName, T0 + 1_000)).toEqual({
      count: 1,
      keys: [{ pk: 'later', sk: 'x' }],
    });
    expect(await playTtl(client, tableName, T0 + 1_000_000_000_000)).toEqual({
      count: 0,
      keys: [],
    });
    expect(await remaining(tableName)).toEqual(['no-ttl']);
  });

  it('keeps an item rewritten with a later TTL, before the Scan or between the Scan and its delete', async () => {
    // GIVEN three expired items; `rewritten` gets a later TTL before TTL is played, `racing` gets
    // one after the Scan read it and before its delete, and `gone` is deleted in that gap
    const tableName = await createStateTable(client, 'ttl-race');
    await put(tableName, 'rewritten', T0_SECONDS - 60);
    await put(tableName, 'racing', T0_SECONDS - 60);
    await put(tableName, 'gone', T0_SECONDS - 60);
    await put(tableName, 'expired', T0_SECONDS - 60);
    await put(tableName, 'rewritten', T0_SECONDS + 86_400);
    let raced = 0;
    const racing = {
      // biome-ignore lint/suspicious/noExplicitAny: forwards any command
      send: async (command: any) => {
        if (command instanceof DeleteItemCommand) {
          const pk = command.input.Key?.pk?.S;
          if (pk === 'racing') {
            raced++;
            await put(tableName, 'racing', T0_SECONDS + 86_400);
          }
          if (pk === 'gone') {
            raced++;
            await client.send(
              new DeleteItemCommand({
                TableName: tableName,
                Key: { pk: { S: 'gone' }, sk: { S: 'x' } },
              }),
            );
          }
        }
        return client.send(command);
      },
    };
    // WHEN TTL is played at T0
    const played = await playTtl(racing, tableName, T0);
    // THEN only the item still as read was deleted by it; the rewritten ones are kept
    expect(raced).toBe(2);
    expect(played).toEqual({ count: 1, keys: [{ pk: 'expired', sk: 'x' }] });
    expect(await remaining(tableName)).toEqual(['racing', 'rewritten']);
  });

  it('reads every page of a table larger than one Scan page', async () => {
    // GIVEN 250 expired items and 5 unexpired ones (playTtl scans 100 items per page)
    const tableName = await createStateTable(client, 'ttl-pages');
    for (let i = 0; i < 250; i++) await put(tableName, `expired-${i}`, T0_SECONDS - i);
    for (let i = 0; i < 5; i++) await put(tableName, `kept-${i}`, T0_SECONDS + 1 + i);
    // WHEN
    const played = await playTtl(client, tableName, T0);
    // THEN
    expect(played.count).toBe(250);
    expect(new Set(played.keys.map((key) => key.pk)).size).toBe(250);
    expect(await remaining(tableName)).toEqual(['kept-0', 'kept-1', 'kept-2', 'kept-3', 'kept-4']);
  });
});
