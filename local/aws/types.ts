import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** SDK clients connected to the embedded engines. Call `destroy()` on each when done. */
export interface LocalClients {
  /** Kinesis on kinesis-mock's plain HTTP/1.1 port. */
  readonly kinesis: KinesisClient;
  /** DynamoDB on DynamoDB Local. */
  readonly dynamodb: DynamoDBClient;
  /** Document client over {@link LocalClients.dynamodb} (removes undefined values). */
  readonly documentClient: DynamoDBDocumentClient;
}
