import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_REGION, LOOPBACK_HOST } from './constants';
import type { EngineCredentials } from './types';

/** Client settings of a readiness probe: one attempt, short timeouts. */
export interface ProbeClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: EngineCredentials;
  readonly requestHandler: NodeHttpHandler;
  readonly maxAttempts: number;
}

/**
 * Settings for an SDK client that probes a local engine's plain HTTP port with the run's
 * `credentials` (the engines refuse any other access key id): one attempt, 1 s to connect, 2 s to
 * answer, so a probe fails fast and `waitUntilReady` asks again.
 *
 * @example
 * const client = new DynamoDBClient(probeClientConfig(8000, credentials));
 */
export function probeClientConfig(port: number, credentials: EngineCredentials): ProbeClientConfig {
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    region: LOCAL_REGION,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
    },
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      throwOnRequestTimeout: true,
    }),
    maxAttempts: 1,
  };
}
