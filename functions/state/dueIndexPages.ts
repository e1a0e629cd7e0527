import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type RawItem, str } from './attributes';
import { TABLE_KEYS } from './constants';
import { ExpressionBuilder } from './expressions';
import { padTime } from './keys';
import { countRead } from './requestStats';
import type { DynamoDBSender, WindowStoreStats } from './types';

/** Where and how far {@link dueIndexPages} reads. */
export interface DueIndexQuery {
  readonly client: DynamoDBSender;
  readonly tableName: string;
  readonly pipeline: string;
  /** Write shards of the index to read, buckets `0 .. dueBuckets - 1` in order. */
  readonly dueBuckets: number;
  /** Index partition of one bucket (`duePartition` or `closedPartition`). */
  readonly partition: (pipeline: string, bucket: number) => string;
  /** Reads entries whose index sort key (a padded time) is at most this. */
  readonly upTo: number;
  /** `Limit` of the next Query. */
  readonly pageLimit: () => number;
  /** Asked before every Query: false stops the reading. */
  readonly wantsMore: () => boolean;
  /** Counters the Queries are counted on. */
  readonly counters: readonly WindowStoreStats[];
}

/**
 * Reads the sparse due/repair index bucket by bucket (no Scan), one page of items per Query,
 * for as long as the caller `wantsMore`.
 */
export async function* dueIndexPages(query: DueIndexQuery): AsyncGenerator<RawItem[]> {
  const index = TABLE_KEYS.dueIndex;
  for (let bucket = 0; bucket < query.dueBuckets && query.wantsMore(); bucket++) {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const b = new ExpressionBuilder();
      const page = await countRead(
        () =>
          query.client.send(
            new QueryCommand({
              TableName: query.tableName,
              IndexName: index.indexName,
              KeyConditionExpression: `${b.name(index.partitionKey)} = ${b.value(str(query.partition(query.pipeline, bucket)))} AND ${b.name(index.sortKey)} <= ${b.value(str(padTime(Math.max(0, query.upTo))))}`,
              ...b.attributes(),
              ExclusiveStartKey: startKey,
              Limit: query.pageLimit(),
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ...query.counters,
      );
      startKey = page.LastEvaluatedKey;
      yield page.Items ?? [];
    } while (startKey !== undefined && query.wantsMore());
  }
}
