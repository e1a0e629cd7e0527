import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type RawItem, str } from './attributes';
import { TABLE_KEYS } from './constants';
import { ExpressionBuilder } from './expressions';
import { keyPartition, padTime } from './keys';
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
  /**
   * Table partition keys this pipeline's entries start with (others are dropped).
   * @default `<pipeline>#K#` (per-key items)
   */
  readonly ownPrefix?: string;
}

/**
 * Reads the sparse due/repair index bucket by bucket (no Scan), one page of items per Query,
 * for as long as the caller `wantsMore`.
 *
 * Only entries of this pipeline's own items come out: an entry whose table partition key is not
 * `<pipeline>#K#…` (or `ownPrefix`) is dropped. The IAM condition `dynamodb:LeadingKeys` limits which partitions a
 * pipeline's role may write, not the values it writes into `gsi1pk`, so another pipeline's role
 * could otherwise list its own items under this pipeline's index partitions and have this
 * pipeline's sweeper close and emit them.
 */
export async function* dueIndexPages(query: DueIndexQuery): AsyncGenerator<RawItem[]> {
  const index = TABLE_KEYS.dueIndex;
  const own = query.ownPrefix ?? keyPartition(query.pipeline, '');
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
      yield (page.Items ?? []).filter((item) => item[TABLE_KEYS.partitionKey]?.S?.startsWith(own));
    } while (startKey !== undefined && query.wantsMore());
  }
}
