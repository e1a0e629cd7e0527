import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureTlsCertificate } from '#local/engines/tlsCertificate';
import type { EngineEndpoints } from '#local/engines/types';
import { ChaosProxy } from './ChaosProxy';
import type { ChaosOptions } from './types';

/** Chaos proxies in front of both engines, and the handler environment that routes through them. */
export interface ChaosProxies {
  readonly dynamodb: ChaosProxy;
  readonly kinesis: ChaosProxy;
  /** `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_KINESIS` pointing at the proxies. */
  readonly environment: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * Starts a DynamoDB proxy (throttling) and a Kinesis proxy (PutRecords partial failures) for the
 * handler processes. The Kinesis proxy serves TLS with the engines' certificate (the one handlers
 * already trust through NODE_EXTRA_CA_CERTS), HTTP/2 and HTTP/1.1, and forwards to kinesis-mock's
 * plain port — a layer that wraps the endpoints, independent of the engines' own Kinesis front.
 */
export async function startChaosProxies(
  endpoints: EngineEndpoints,
  chaos: ChaosOptions,
): Promise<ChaosProxies> {
  const certificate = await ensureTlsCertificate(dirname(endpoints.kinesisCaFile));
  const { server } = JSON.parse(await readFile(certificate.serverJsonPath, 'utf8')) as {
    server: { key: string; cert: string };
  };
  const seed = chaos.seed ?? 1;
  const { accessKeyId } = endpoints.credentials;
  const dynamodb = await ChaosProxy.start({
    kind: 'dynamodb',
    target: endpoints.dynamodb,
    rate: chaos.rate,
    seed,
    accessKeyId,
  });
  const kinesis = await ChaosProxy.start({
    kind: 'kinesis',
    target: endpoints.kinesis,
    rate: chaos.rate,
    seed,
    accessKeyId,
    tls: server,
  }).catch(async (error: Error) => {
    await dynamodb.close();
    throw error;
  });
  return {
    dynamodb,
    kinesis,
    environment: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_KINESIS: kinesis.url,
    },
    close: async () => {
      await Promise.all([dynamodb.close(), kinesis.close()]);
    },
  };
}
