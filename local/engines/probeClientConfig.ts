import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_REGION, LOOPBACK_HOST } from './constants';

/** Client settings of a readiness probe: one attempt, short timeouts. */
export interface ProbeClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly requestHandler: NodeHttpHandler;
  readonly maxAttempts: number;
}

/**
 * Settings for an SDK client that probes a local engine's plain HTTP port: one attempt, 1 s to
 * connect, 2 s to answer, so a probe fails fast and `waitUntilReady` asks again.
 *
 * @example
 * const client = new DynamoDBClient(probeClientConfig(8000));
 */
export function probeClientConfig(port: number): ProbeClientConfig {
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'probe', secretAccessKey: 'probe' },
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      throwOnRequestTimeout: true,
    }),
    maxAttempts: 1,
  };
}
