import type { EngineEndpoints } from '#local/engines/types';

/**
 * The environment of a local Lambda handler process, so that unmodified default SDK v3 clients
 * (`new KinesisClient({})`, `new DynamoDBClient({})`) reach the embedded engines.
 *
 * Kinesis goes to kinesis-mock's TLS port, which speaks the HTTP/2 of the default client; its
 * certificate (for 127.0.0.1 and localhost) is trusted through NODE_EXTRA_CA_CERTS, so TLS
 * verification stays on. The credentials are the run's (`endpoints.credentials`), the only ones
 * the engines accept; there is no session token, and the default credential chain takes the
 * first two variables as static credentials. The environment holds a secret: give it only to
 * processes of this user, never on a command line.
 *
 * @example
 * ```ts
 * spawn('node', ['handler.js'], { env: { PATH: process.env.PATH, ...lambdaSdkEnvironment(endpoints) } });
 * ```
 */
export function lambdaSdkEnvironment(endpoints: EngineEndpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesisTls,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ACCESS_KEY_ID: endpoints.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoints.credentials.secretAccessKey,
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    NODE_EXTRA_CA_CERTS: endpoints.kinesisCaFile,
  };
}
