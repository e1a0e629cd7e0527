import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { EngineEndpoints } from '#local/engines/types';
import {
  LOCAL_CONNECTION_TIMEOUT_MS,
  LOCAL_MAX_ATTEMPTS,
  LOCAL_REQUEST_TIMEOUT_MS,
} from './constants';
import type { LocalClients } from './types';

/**
 * Builds SDK clients for the embedded engines, signing with the run's credentials
 * (`endpoints.credentials`), the only ones the engines accept. Kinesis goes to kinesis-mock's plain
 * port over HTTP/1.1 (`NodeHttpHandler`); the SDK's default HTTP/2 handler fails there.
 *
 * @example
 * ```ts
 * const { kinesis, documentClient } = localClients(engines.endpoints);
 * await kinesis.send(new ListStreamsCommand({}));
 * ```
 */
export function localClients(endpoints: EngineEndpoints): LocalClients {
  const common = {
    region: endpoints.region,
    credentials: {
      accessKeyId: endpoints.credentials.accessKeyId,
      secretAccessKey: endpoints.credentials.secretAccessKey,
    },
    maxAttempts: LOCAL_MAX_ATTEMPTS,
  };
  const requestHandler = (): NodeHttpHandler =>
    new NodeHttpHandler({
      connectionTimeout: LOCAL_CONNECTION_TIMEOUT_MS,
      requestTimeout: LOCAL_REQUEST_TIMEOUT_MS,
    });
  const kinesis = new KinesisClient({
    ...common,
    endpoint: endpoints.kinesis,
    requestHandler: requestHandler(),
  });
  const dynamodb = new DynamoDBClient({
    ...common,
    endpoint: endpoints.dynamodb,
    requestHandler: requestHandler(),
  });
  const documentClient = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { kinesis, dynamodb, documentClient };
}
