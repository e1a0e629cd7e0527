import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localClients } from '#local/aws/index';
import { DYNAMODB_LOCAL_DIR } from '#local/engines/constants';
import { findFreePorts } from '#local/engines/freePort';
import type { EngineEndpoints } from '#local/engines/types';
import { useEngines } from '#test/helpers/engines';
import {
  canSwitchUser,
  isLoopback,
  listCallHeaders,
  listeningSocketsOf,
  nonLoopbackAddresses,
  processTree,
  rawRequest,
  rawRequestAs,
  tcpConnect,
} from './loopbackProbes';

/** The engines' three ports, each with the engine behind it. */
const ENGINE_PORTS = [
  ['kinesis', 'kinesis'],
  ['kinesisTls', 'kinesis'],
  ['dynamodb', 'dynamodb'],
] as const satisfies readonly (readonly [keyof EngineEndpoints, 'kinesis' | 'dynamodb'])[];

/** `nobody`: another user of the machine, with no access to this user's files. */
const OTHER_UID = 65534;

/** The message of a refusal for want of the run's access key id. */
const SIGN_HINT =
  "sign it with this run's credentials (EngineEndpoints.credentials, in .shardflow/local.json)";

describe('startEngines, seen from the network', () => {
  const engines = useEngines();

  function portOf(url: string): number {
    return Number(new URL(url).port);
  }

  it('listens on nothing but 127.0.0.1 in any process of the engines, and only on the three endpoint ports', () => {
    // GIVEN the engine processes and everything they started
    const { endpoints, pids } = engines();
    const tree = processTree(pids);

    // WHEN their listening sockets are looked up
    const sockets = listeningSocketsOf(tree);

    // THEN each is on loopback, and kinesis-mock itself has no TCP port (only Unix sockets)
    expect(sockets.filter((socket) => !isLoopback(socket.address))).toEqual([]);
    expect(sockets.map((socket) => socket.port).sort()).toEqual(
      [portOf(endpoints.kinesis), portOf(endpoints.kinesisTls), portOf(endpoints.dynamodb)].sort(),
    );
  });

  it('refuses TCP connections on every engine port at the machine’s other addresses', async () => {
    // GIVEN
    const addresses = nonLoopbackAddresses();
    if (addresses.length === 0) {
      console.warn('not checked: this machine has no address besides loopback and link-local');
      return;
    }
    const ports = listeningSocketsOf(processTree(engines().pids)).map((socket) => socket.port);
    expect(ports.length).toBeGreaterThanOrEqual(3);

    // WHEN
    const outcomes = await Promise.all(
      addresses.flatMap((address) =>
        ports.map(async (port) => `${address} ${port}: ${await tcpConnect(address, port)}`),
      ),
    );

    // THEN
    expect(outcomes).toEqual(
      addresses.flatMap((address) => ports.map((port) => `${address} ${port}: ECONNREFUSED`)),
    );
  });

  it('answers SDK clients through localClients, which sign with the run’s credentials', async () => {
    // GIVEN
    const { kinesis, dynamodb } = localClients(engines().endpoints);

    // WHEN
    const [streams, tables] = await Promise.all([
      kinesis.send(new ListStreamsCommand({})),
      dynamodb.send(new ListTablesCommand({})),
    ]);

    // THEN
    expect(streams.StreamNames).toEqual(expect.any(Array));
    expect(tables.TableNames).toEqual(expect.any(Array));
    expect(await kinesis.config.credentials()).toEqual(
      expect.objectContaining({ accessKeyId: engines().endpoints.credentials.accessKeyId }),
    );
    kinesis.destroy();
    dynamodb.destroy();
  });

  it('gives each engine process the run’s access key id in its environment, never on a command line', () => {
    // GIVEN
    const { pids, endpoints } = engines();
    const { accessKeyId, secretAccessKey } = endpoints.credentials;

    // WHEN
    const commandLines = processTree(pids).map((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
    );
    const environments = pids.map((pid) =>
      readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
    );

    // THEN
    expect(commandLines.length).toBeGreaterThanOrEqual(3);
    expect(commandLines.filter((line) => line.includes(accessKeyId))).toEqual([]);
    for (const environment of environments) {
      expect(environment).toContain(`SHARDFLOW_LOCAL_ACCESS_KEY_ID=${accessKeyId}`);
      expect(environment.filter((entry) => entry.includes(secretAccessKey))).toEqual([]);
    }
  });

  it('fails with AccessDeniedException for SDK clients signing with other credentials', async () => {
    // GIVEN clients like localClients' but with the fixed credentials older versions used
    const { endpoints } = engines();
    const common = {
      region: endpoints.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(),
    };
    const kinesis = new KinesisClient({ ...common, endpoint: endpoints.kinesis });
    const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb });

    // WHEN
    const [streams, tables] = await Promise.allSettled([
      kinesis.send(new ListStreamsCommand({})),
      dynamodb.send(new ListTablesCommand({})),
    ]);

    // THEN
    for (const outcome of [streams, tables]) {
      expect(outcome).toEqual({
        status: 'rejected',
        reason: expect.objectContaining({
          name: 'AccessDeniedException',
          message: `shardflow local engine: a request signed with another access key id is refused: ${SIGN_HINT}`,
          $metadata: expect.objectContaining({ httpStatusCode: 403 }),
        }),
      });
    }
    kinesis.destroy();
    dynamodb.destroy();
  });

  describe.each(ENGINE_PORTS)('on the %s port', (endpoint, engine) => {
    /**
     * A list call signed with the run's access key id, with `headers` added or replaced (and
     * removed where undefined).
     */
    function call(headers: Record<string, string | undefined>, method?: string) {
      const { endpoints } = engines();
      const ca = readFileSync(endpoints.kinesisCaFile, 'utf8');
      const sent = { ...listCallHeaders(engine, endpoints.credentials.accessKeyId), ...headers };
      return rawRequest(
        endpoints[endpoint],
        Object.fromEntries(
          Object.entries(sent).filter((entry): entry is [string, string] => entry[1] !== undefined),
        ),
        { ca, method },
      );
    }

    /** The message of a 403 answer. */
    function refusal(answer: { status: number; body: string }): string {
      expect(answer.status).toBe(403);
      const body = JSON.parse(answer.body) as { __type: string; message: string };
      expect(body.__type).toBe('AccessDeniedException');
      return body.message;
    }

    it('answers a list call from a loopback client signed with the run’s key id, without browser headers', async () => {
      // WHEN
      const answer = await call({});

      // THEN
      expect(answer.status).toBe(200);
    });

    it('answers a list call naming localhost with its port', async () => {
      // WHEN
      const answer = await call({ host: `localhost:${portOf(engines().endpoints[endpoint])}` });

      // THEN
      expect(answer.status).toBe(200);
    });

    it.each([
      ['an Origin header', { origin: 'https://evil.example' }, /^a browser request \(Origin: /],
      ['Host evil.example', { host: 'evil.example' }, /^Host evil\.example is refused/],
      [
        'Host evil.example with the port (DNS rebinding)',
        { host: 'evil.example:PORT' },
        /^Host evil\.example:\d+ is refused/,
      ],
      [
        'a Sec-Fetch-Site header',
        { 'sec-fetch-site': 'cross-site' },
        /^a browser request \(sec-fetch-site: /,
      ],
    ])(
      'fails with 403 for a list call signed with the run’s key id but carrying %s',
      async (_name, headers, reason) => {
        // GIVEN
        const port = String(portOf(engines().endpoints[endpoint]));
        const withPort = Object.fromEntries(
          Object.entries(headers).map(([name, value]) => [name, value.replace('PORT', port)]),
        );

        // WHEN
        const answer = await call(withPort);

        // THEN
        expect(refusal(answer).replace('shardflow local engine: ', '')).toMatch(reason);
        expect(answer.allowOrigin).toBeUndefined();
      },
    );

    it.each([
      [
        'without Authorization',
        () => ({ authorization: undefined }),
        'a request without Authorization',
      ],
      [
        'signed with another access key id',
        () => listCallHeaders(engine, 'SFLOCALAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
        'a request signed with another access key id',
      ],
      [
        'signed with the fixed key id of older versions',
        () => listCallHeaders(engine, 'test'),
        'a request signed with another access key id',
      ],
      [
        'signed with the run’s key id and one more character',
        () => listCallHeaders(engine, `${engines().endpoints.credentials.accessKeyId}A`),
        'a request signed with another access key id',
      ],
      [
        'signed with all but the last character of the run’s key id',
        () => listCallHeaders(engine, engines().endpoints.credentials.accessKeyId.slice(0, -1)),
        'a request signed with another access key id',
      ],
    ])('fails with 403 for a list call %s', async (_name, headers, reason) => {
      // WHEN
      const answer = await call({ authorization: headers().authorization });

      // THEN
      expect(refusal(answer)).toBe(`shardflow local engine: ${reason} is refused: ${SIGN_HINT}`);
    });

    it('fails with 403 for another user of the machine, who lacks the run’s key id', async () => {
      if (!canSwitchUser()) {
        console.warn(`not checked: running as uid ${process.getuid?.()}, not root`);
        return;
      }
      // GIVEN
      const { endpoints } = engines();
      const guessed = listCallHeaders(engine, 'SFLOCALAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      const known = listCallHeaders(engine, endpoints.credentials.accessKeyId);

      // WHEN the other user calls with a key id of its own, then (as control) with the run's
      const [refused, served] = await Promise.all([
        rawRequestAs(OTHER_UID, endpoints[endpoint], guessed),
        rawRequestAs(OTHER_UID, endpoints[endpoint], known),
      ]);

      // THEN only the key id told them apart
      expect(refused.uid).toBe(OTHER_UID);
      expect(refusal(refused)).toBe(
        `shardflow local engine: a request signed with another access key id is refused: ${SIGN_HINT}`,
      );
      expect(served.status).toBe(200);
    });

    it('fails with 403 and no CORS grant for a browser preflight', async () => {
      // WHEN
      const answer = await call(
        { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
        'OPTIONS',
      );

      // THEN
      expect(answer.status).toBe(403);
      expect(answer.allowOrigin).toBeUndefined();
    });
  });
});

describe('an engine front without the run’s access key id', () => {
  const ENGINES_DIR = join(__dirname, '../../../local/engines');

  /** How a process ended, or `running` when it was still running after `timeoutMs` (then killed). */
  function outcomeOf(
    command: string,
    args: readonly string[],
    env: Record<string, string>,
    timeoutMs: number,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...args], {
        cwd: DYNAMODB_LOCAL_DIR,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === null ? 'running' : `exit ${code}: ${stderr.trim().split('\n').at(-1)}`);
      });
    });
  }

  /** How each front, started with `env` added, ends: kinesis-mock's preload, the TLS proxy, DynamoDB Local. */
  async function frontsStartedWith(env: Record<string, string>): Promise<string[]> {
    const [plainPort = 0, tlsPort = 0, dynamoDbPort = 0] = await findFreePorts(3);
    return Promise.all([
      outcomeOf(
        process.execPath,
        [
          '--require',
          join(ENGINES_DIR, 'kinesisMockPreload.js'),
          '-e',
          'setTimeout(() => {}, 60000)',
        ],
        {
          ...env,
          SHARDFLOW_KINESIS_SOCKET_DIR: '/nonexistent',
          SHARDFLOW_KINESIS_PLAIN_PORT: String(plainPort),
          KINESIS_MOCK_PLAIN_PORT: '4568',
        },
        5_000,
      ),
      outcomeOf(
        process.execPath,
        [
          join(ENGINES_DIR, 'kinesisTlsProxy.js'),
          String(tlsPort),
          '/nonexistent.sock',
          require.resolve('kinesis-local/server.json'),
        ],
        env,
        5_000,
      ),
      outcomeOf(
        'java',
        [
          '-cp',
          join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar'),
          join(ENGINES_DIR, 'LoopbackDynamoDbLocal.java'),
          '-port',
          String(dynamoDbPort),
          '-inMemory',
          '-disableTelemetry',
        ],
        env,
        60_000,
      ),
    ]);
  }

  it.each([
    ['no SHARDFLOW_LOCAL_ACCESS_KEY_ID', {}],
    ['an empty one', { SHARDFLOW_LOCAL_ACCESS_KEY_ID: '' }],
    ['the fixed key id of older versions', { SHARDFLOW_LOCAL_ACCESS_KEY_ID: 'test' }],
  ])(
    'fails to start with %s',
    async (_name, env: Record<string, string>) => {
      // WHEN
      const outcomes = await frontsStartedWith(env);

      // THEN
      expect(outcomes).toEqual([
        expect.stringMatching(
          /^exit 1: kinesis preload: SHARDFLOW_LOCAL_ACCESS_KEY_ID must hold the run's access key id .*: refusing to serve without one$/,
        ),
        expect.stringMatching(
          /^exit 1: kinesis TLS proxy: SHARDFLOW_LOCAL_ACCESS_KEY_ID must hold the run's access key id .*: refusing to serve without one$/,
        ),
        expect.stringMatching(
          /^exit 1: SHARDFLOW_LOCAL_ACCESS_KEY_ID must hold the run's access key id .*: refusing to serve without one$/,
        ),
      ]);
    },
    120_000,
  );
});
