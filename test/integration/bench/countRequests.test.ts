import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { countRequests, type RequestCounter } from '#bench/countRequests';
import { createTableInput } from '#state/index';
import { useEngines } from '#test/helpers/engines';

// Each expected figure is worked out by hand from the DynamoDB Developer Guide's rules (billed) and
// from what DynamoDB Local 3.3 was measured to report (reported). Where the two differ, the test
// pins DynamoDB Local's deviation: if a new DynamoDB Local release reports capacity differently,
// this fails, and `dynamodbLocalUnits` in bench/billing.ts must follow.
//
// Items of pk 'p': 'pk'+'p' 3 B, 'sk'+one letter 3 B, 'b' + 3,000 × 'x' 3,001 B = 3,007 B; after
// `ADD n :one`, + 'n' 1 B + the number 1 (2 B) = 3,010 B: 3 write units, 1 read unit.

const engines = useEngines();
const TABLE = 'bench-billing';
const big = 'x'.repeat(3000);
const key = (sk: string) => ({ pk: { S: 'p' }, sk: { S: sk } });
const addOne = (sk: string) => ({
  TableName: TABLE,
  Key: key(sk),
  UpdateExpression: 'ADD n :one',
  ExpressionAttributeValues: { ':one': { N: '1' } },
});

describe('countRequests with billing, on DynamoDB Local', () => {
  let client: DynamoDBClient;
  let side: DynamoDBClient;
  let counter: RequestCounter;

  beforeAll(async () => {
    const { endpoints } = engines();
    const config = {
      region: endpoints.region,
      endpoint: endpoints.dynamodb,
      credentials: { ...endpoints.credentials },
    };
    client = new DynamoDBClient(config);
    side = new DynamoDBClient(config);
    const table = createTableInput(TABLE);
    await client.send(new CreateTableCommand(table));
    counter = countRequests(client, { side, tables: [table] });
    for (const sk of ['b', 'c', 'd', 'e', 'f']) {
      await client.send(
        new PutItemCommand({ TableName: TABLE, Item: { ...key(sk), b: { S: big } } }),
      );
    }
  });

  afterAll(() => {
    client?.destroy();
    side?.destroy();
  });

  beforeEach(() => {
    counter.reset();
  });

  it('bills single writes by the larger of the item before and after, as DynamoDB Local reports', async () => {
    // WHEN a 3,007 B item is put, then grows to 3,010 B
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { ...key('a'), b: { S: big } } }),
    );
    await client.send(new UpdateItemCommand(addOne('a')));

    // THEN 3 + 3 units, billed and reported alike
    expect(counter.counts).toMatchObject({
      writeRequests: 2,
      billedWriteUnits: 6,
      writeCapacityUnits: 6,
      modelledLocalWriteUnits: 6,
      checkedRequests: 2,
      mismatches: 0,
      sideReads: 4,
    });
  });

  it('bills every item of a transaction twice, where DynamoDB Local counts equal items once', async () => {
    // WHEN five 3 KB items are updated in one transaction
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: ['b', 'c', 'd', 'e', 'f'].map((sk) => ({ Update: addOne(sk) })),
      }),
    );

    // THEN billed 2 × 5 × 3 = 30; DynamoDB Local reports 2 × 3 = 6, as the model predicts
    expect(counter.counts).toMatchObject({
      billedWriteUnits: 30,
      writeCapacityUnits: 6,
      modelledLocalWriteUnits: 6,
      checkedRequests: 1,
      mismatches: 0,
      sideReads: 2,
    });
  });

  it('bills the index entry an item write adds', async () => {
    // WHEN an item with the due index's keys is put: 'pk'+'q' 3 + 'sk'+'a' 3 + 'gsi1pk'+'g' 7 +
    // 'gsi1sk'+'s' 7 + 'key'+'k' 4 = 24 B, all of it in the index entry
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: 'q' },
          sk: { S: 'a' },
          gsi1pk: { S: 'g' },
          gsi1sk: { S: 's' },
          key: { S: 'k' },
        },
      }),
    );

    // THEN 1 unit on the table and 1 on the index
    expect(counter.counts).toMatchObject({
      billedWriteUnits: 2,
      billedIndexWriteUnits: 1,
      writeCapacityUnits: 2,
      mismatches: 0,
    });
  });

  it('bills reads of absent items and empty queries, which DynamoDB Local reports as free', async () => {
    // WHEN a strongly consistent BatchGetItem reads a 3,010 B item and an absent one, and a query
    // finds nothing
    await client.send(
      new BatchGetItemCommand({
        RequestItems: { [TABLE]: { Keys: [key('a'), key('zz')], ConsistentRead: true } },
      }),
    );
    await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'nothing' } },
        ConsistentRead: true,
      }),
    );

    // THEN billed 1 + 1 and 1; reported 1 and 0
    expect(counter.counts).toMatchObject({
      readRequests: 2,
      billedReadUnits: 3,
      readCapacityUnits: 1,
      modelledLocalReadUnits: 1,
      checkedRequests: 2,
      mismatches: 0,
    });
  });

  it('bills a query on the whole items it read, whatever its projection', async () => {
    // WHEN a query projects only `sk` of the six items of pk 'p' (6 × 3,010 B = 18,060 B), and
    // an index query reads the 24 B entry, eventually consistent
    await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :p',
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':p': { S: 'p' } },
        ConsistentRead: true,
      }),
    );
    await client.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :g',
        ExpressionAttributeValues: { ':g': { S: 'g' } },
      }),
    );

    // THEN 18,060 B → 20 KB → 5 units, and half a unit
    expect(counter.counts).toMatchObject({
      billedReadUnits: 5.5,
      readCapacityUnits: 5.5,
      checkedRequests: 2,
      mismatches: 0,
      sideReads: 1,
    });
  });

  it('bills a write refused by its condition, for which DynamoDB Local reports nothing', async () => {
    // WHEN a put on the existing 3,010 B item fails its condition
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: key('a'),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    // THEN 3 units billed, none reported, and nothing to check
    expect(counter.counts).toMatchObject({
      conditionFailures: 1,
      billedWriteUnits: 3,
      billedFailedWriteUnits: 3,
      writeCapacityUnits: 0,
      checkedRequests: 0,
    });
  });
});
