import type {
  CreateTableCommandInput,
  UpdateTimeToLiveCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from './constants';

/**
 * The state table as {@link TABLE_KEYS} defines it (on-demand billing), for local runs and tests.
 * TTL is a separate call: see {@link timeToLiveInput}.
 *
 * @example
 * await client.send(new CreateTableCommand(createTableInput('shardflow-state')));
 * await client.send(new UpdateTimeToLiveCommand(timeToLiveInput('shardflow-state')));
 */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const index = TABLE_KEYS.dueIndex;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
      { AttributeName: index.partitionKey, AttributeType: 'S' },
      { AttributeName: index.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: index.projectionType,
          NonKeyAttributes: [...index.nonKeyAttributes],
        },
      },
    ],
  };
}

/** Enables TTL on {@link TABLE_KEYS}`.timeToLiveAttribute` of the state table. */
export function timeToLiveInput(tableName: string): UpdateTimeToLiveCommandInput {
  return {
    TableName: tableName,
    TimeToLiveSpecification: { AttributeName: TABLE_KEYS.timeToLiveAttribute, Enabled: true },
  };
}
