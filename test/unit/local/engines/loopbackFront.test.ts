import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import {
  ACCESS_KEY_ID_VARIABLE,
  createFrontHandler,
  refusalOf,
  takeAccessKeyId,
} from '#local/engines/loopbackFront';

const PORT = 4568;
const KEY_ID = 'SFLOCALABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SCOPE = '20260101/us-east-1/kinesis/aws4_request';

/** A SigV4 Authorization value as the SDK writes it, for `keyId`. */
function sigV4(keyId: string): string {
  return `AWS4-HMAC-SHA256 Credential=${keyId}/${SCOPE}, SignedHeaders=host;x-amz-date, Signature=00`;
}

/** Raw headers of an SDK request to 127.0.0.1:PORT with these `authorization` values. */
function headers(...authorizations: string[]): string[] {
  return [
    'Host',
    `127.0.0.1:${PORT}`,
    'X-Amz-Target',
    'Kinesis_20131202.ListStreams',
    ...authorizations.flatMap((value) => ['Authorization', value]),
  ];
}

/** The Authorization header the SDK's own SigV4 signer writes for a ListStreams call. */
async function sdkAuthorization(accessKeyId: string): Promise<string> {
  let authorization = '';
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${PORT}`,
    credentials: { accessKeyId, secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        authorization = String(request.headers.authorization);
        throw new Error('captured');
      },
    },
  });
  await expect(client.send(new ListStreamsCommand({}))).rejects.toThrow('captured');
  client.destroy();
  return authorization;
}

describe('refusalOf', () => {
  it('lets through a request signed with the run’s access key id', () => {
    // WHEN
    const refusal = refusalOf(headers(sigV4(KEY_ID)), PORT, KEY_ID);

    // THEN
    expect(refusal).toBeUndefined();
  });

  it('lets through the Authorization the SDK’s SigV4 signer writes', async () => {
    // GIVEN
    const authorization = await sdkAuthorization(KEY_ID);

    // WHEN
    const refusal = refusalOf(headers(authorization), PORT, KEY_ID);

    // THEN
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=SFLOCAL/);
    expect(refusal).toBeUndefined();
  });

  it('lets through SigV4 parameters in another order and the header name in any case', () => {
    // GIVEN
    const reordered = `AWS4-HMAC-SHA256 SignedHeaders=host, Credential=${KEY_ID}/${SCOPE}, Signature=00`;

    // WHEN
    const refusal = refusalOf(
      ['host', `localhost:${PORT}`, 'AUTHORIZATION', reordered],
      PORT,
      KEY_ID,
    );

    // THEN
    expect(refusal).toBeUndefined();
  });

  it('fails for a request without Authorization', () => {
    // WHEN
    const refusal = refusalOf(headers(), PORT, KEY_ID);

    // THEN
    expect(refusal).toBe(
      "a request without Authorization is refused: sign it with this run's credentials (EngineEndpoints.credentials, in .shardflow/local.json)",
    );
  });

  it.each([
    ['another key id', sigV4('SFLOCALZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ')],
    ['the fixed key id of older versions', sigV4('test')],
    ['the run’s key id in lower case', sigV4(KEY_ID.toLowerCase())],
    ['a key id that is a prefix of the run’s', sigV4(KEY_ID.slice(0, -1))],
    ['a key id of which the run’s is a prefix', sigV4(`${KEY_ID}A`)],
    ['the run’s key id with a space before the slash', sigV4(`${KEY_ID} `)],
  ])('fails for a request signed with %s', (_name, authorization) => {
    // WHEN
    const refusal = refusalOf(headers(authorization), PORT, KEY_ID);

    // THEN
    expect(refusal).toBe(
      "a request signed with another access key id is refused: sign it with this run's credentials (EngineEndpoints.credentials, in .shardflow/local.json)",
    );
  });

  it.each([
    ['Signature Version 4A', `AWS4-ECDSA-P256-SHA256 Credential=${KEY_ID}/${SCOPE}, Signature=00`],
    ['Signature Version 2', `AWS ${KEY_ID}:c2lnbmF0dXJl`],
    ['a bearer token', `Bearer ${KEY_ID}`],
    ['the key id alone', KEY_ID],
    ['a Credential without scope', `AWS4-HMAC-SHA256 Credential=${KEY_ID}, Signature=00`],
    ['an empty key id', sigV4('')],
    [
      'the key id only in the signature',
      `AWS4-HMAC-SHA256 SignedHeaders=host, Signature=${KEY_ID}/`,
    ],
    [
      'an algorithm in lower case',
      sigV4(KEY_ID).toLowerCase().replace(KEY_ID.toLowerCase(), KEY_ID),
    ],
  ])('fails for an Authorization with %s', (_name, authorization) => {
    // WHEN
    const refusal = refusalOf(headers(authorization), PORT, KEY_ID);

    // THEN
    expect(refusal).toMatch(
      /^an Authorization that is not AWS Signature Version 4 \(AWS4-HMAC-SHA256 Credential=\.\.\.\) is refused: /,
    );
  });

  it('fails for a request with the key id in another header only', () => {
    // WHEN
    const refusal = refusalOf(
      [...headers(), 'X-Amz-Credential', `${KEY_ID}/${SCOPE}`],
      PORT,
      KEY_ID,
    );

    // THEN
    expect(refusal).toMatch(/^a request without Authorization is refused/);
  });

  it.each([
    ['the run’s and another', [sigV4(KEY_ID), sigV4('SFLOCALZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ')]],
    ['another and the run’s', [sigV4('SFLOCALZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ'), sigV4(KEY_ID)]],
    ['the run’s twice', [sigV4(KEY_ID), sigV4(KEY_ID)]],
  ])('fails for a request with two Authorization headers: %s', (_name, authorizations) => {
    // WHEN
    const refusal = refusalOf(headers(...authorizations), PORT, KEY_ID);

    // THEN
    expect(refusal).toBe('a request with more than one Authorization is refused');
  });

  it.each([
    ['an empty key id', ''],
    ['a short key id', 'SFLOCAL'],
    ['a key id with a slash', `${KEY_ID}/x`],
    ['no key id', undefined as unknown as string],
  ])('fails for every request when the front has %s', (_name, accessKeyId) => {
    // WHEN
    const refusal = refusalOf(headers(sigV4(accessKeyId)), PORT, accessKeyId);

    // THEN
    expect(refusal).toBe('this engine front has no valid access key id');
  });

  it.each([
    ['an Origin header', ['Origin', 'https://evil.example']],
    ['a Sec-Fetch-Site header', ['Sec-Fetch-Site', 'cross-site']],
  ])('fails for a browser request with %s, though signed with the run’s key id', (_name, extra) => {
    // WHEN
    const refusal = refusalOf([...headers(sigV4(KEY_ID)), ...extra], PORT, KEY_ID);

    // THEN
    expect(refusal).toMatch(/^a browser request \(.+\) is refused$/);
  });

  it('fails for a foreign Host, though signed with the run’s key id', () => {
    // WHEN
    const refusal = refusalOf(
      ['Host', `evil.example:${PORT}`, 'Authorization', sigV4(KEY_ID)],
      PORT,
      KEY_ID,
    );

    // THEN
    expect(refusal).toBe(
      `Host evil.example:${PORT} is refused: only 127.0.0.1:${PORT}, localhost:${PORT}, [::1]:${PORT} are served`,
    );
  });
});

describe('takeAccessKeyId', () => {
  it('returns the key id and removes it from the environment', () => {
    // GIVEN
    const env: Record<string, string | undefined> = {
      [ACCESS_KEY_ID_VARIABLE]: KEY_ID,
      PATH: '/bin',
    };

    // WHEN
    const accessKeyId = takeAccessKeyId(env);

    // THEN
    expect(accessKeyId).toBe(KEY_ID);
    expect(env).toEqual({ PATH: '/bin' });
  });

  it.each([
    ['missing', {}],
    ['empty', { [ACCESS_KEY_ID_VARIABLE]: '' }],
    ['too short', { [ACCESS_KEY_ID_VARIABLE]: 'SFLOCAL' }],
    ['not letters and digits', { [ACCESS_KEY_ID_VARIABLE]: `${KEY_ID}/` }],
  ])('fails when the variable is %s', (_name, env: Record<string, string | undefined>) => {
    // WHEN
    const taking = () => takeAccessKeyId(env);

    // THEN
    expect(taking).toThrow("SHARDFLOW_LOCAL_ACCESS_KEY_ID must hold the run's access key id");
  });
});

describe('createFrontHandler', () => {
  it('fails to create a front without a valid access key id', () => {
    // WHEN
    const creating = () => createFrontHandler(PORT, '/nonexistent.sock', 'kinesis-mock', '');

    // THEN
    expect(creating).toThrow('kinesis-mock front: no valid access key id');
  });
});
