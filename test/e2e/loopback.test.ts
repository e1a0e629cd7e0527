import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws/index';
import type { LocalState } from '#local/cli/localState';
import { alive, shardflow } from '#test/helpers/cliProcess';
import {
  isLoopback,
  listCallHeaders,
  listeningSocketsOf,
  nonLoopbackAddresses,
  processTree,
  rawRequest,
  rawRequestAs,
  tcpConnect,
} from '#test/integration/local/loopbackProbes';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** What a web page adds to a request: its Origin, or (DNS rebinding) its own host name. */
const FOREIGN_HEADERS: readonly Record<string, string>[] = [
  { origin: 'https://evil.example' },
  { host: 'evil.example' },
];

/** An access key id that is not the run's, as another user of the machine would have to guess. */
const GUESSED_KEY_ID = 'SFLOCALAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** `nobody`: another user of the machine. */
const OTHER_UID = 65534;

describe('shardflow local up, seen from the network', () => {
  let workDir: string;
  let state: LocalState | undefined;

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-loopback-'));
  });

  afterAll(() => {
    // Whatever a failed test left running goes, so no engine outlives the suite.
    for (const pid of [state?.pid, ...(state?.enginePids ?? [])]) {
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps every listening socket of the runtime on loopback and refuses browsers and other key ids, while SDK clients work', async () => {
    // GIVEN a detached runtime, with chaos proxies so that they are checked too
    const up = await shardflow(workDir, [
      'local',
      'up',
      '--detach',
      '--app',
      PROJECT_ROOT,
      '--chaos',
      '0.01',
    ]);
    expect(up.stderr).not.toContain('exited');
    expect(up.code).toBe(0);
    state = JSON.parse(
      fs.readFileSync(path.join(workDir, '.shardflow/local.json'), 'utf8'),
    ) as LocalState;
    const { endpoints } = state;
    const endpointPorts = [endpoints.kinesis, endpoints.kinesisTls, endpoints.dynamodb].map((url) =>
      Number(new URL(url).port),
    );

    // WHEN the runtime's process tree (the CLI, its workers, the engines) is inspected
    const sockets = listeningSocketsOf(processTree([state.pid, ...state.enginePids]));
    const addresses = nonLoopbackAddresses();
    const outside = await Promise.all(
      addresses.flatMap((address) =>
        sockets.map(async ({ port }) => `${address} ${port}: ${await tcpConnect(address, port)}`),
      ),
    );
    const ca = fs.readFileSync(endpoints.kinesisCaFile, 'utf8');
    const ports = [
      [endpoints.kinesis, 'kinesis'],
      [endpoints.kinesisTls, 'kinesis'],
      [endpoints.dynamodb, 'dynamodb'],
    ] as const;
    const { accessKeyId } = endpoints.credentials;
    // Signed with the run's key id (from local.json), so that only the browser headers refuse them.
    const browser = await Promise.all(
      ports.flatMap(([url, engine]) =>
        FOREIGN_HEADERS.map(async (headers) => {
          const signed = { ...listCallHeaders(engine, accessKeyId), ...headers };
          const answer = await rawRequest(url, signed, { ca });
          return `${url} ${Object.values(headers)[0]}: ${answer.status} ${answer.body}`;
        }),
      ),
    );
    const unauthenticated = await Promise.all(
      ports.flatMap(([url, engine]) =>
        [GUESSED_KEY_ID, 'test'].map(async (keyId) => {
          const answer = await rawRequest(url, listCallHeaders(engine, keyId), { ca });
          return `${url} ${keyId}: ${answer.status}`;
        }),
      ),
    );
    const signed = await Promise.all(
      ports.map(async ([url, engine]) => {
        const answer = await rawRequest(url, listCallHeaders(engine, accessKeyId), { ca });
        return `${url}: ${answer.status}`;
      }),
    );
    const otherUser =
      process.getuid?.() === 0
        ? await Promise.all(
            ports.map(async ([url, engine]) => {
              const answer = await rawRequestAs(
                OTHER_UID,
                url,
                listCallHeaders(engine, GUESSED_KEY_ID),
              );
              return `${url} uid ${answer.uid}: ${answer.status}`;
            }),
          )
        : undefined;
    const { kinesis, dynamodb } = localClients(endpoints);
    const [streams, tables] = await Promise.all([
      kinesis.send(new ListStreamsCommand({})),
      dynamodb.send(new ListTablesCommand({})),
    ]);
    kinesis.destroy();
    dynamodb.destroy();

    // THEN
    expect(sockets.map(({ port }) => port)).toEqual(expect.arrayContaining(endpointPorts));
    expect(sockets.filter(({ address }) => !isLoopback(address))).toEqual([]);
    if (addresses.length === 0) {
      console.warn('not checked: this machine has no address besides loopback and link-local');
    }
    expect(outside.filter((outcome) => !outcome.endsWith('ECONNREFUSED'))).toEqual([]);
    expect(
      browser.filter(
        (outcome) => !/: 403 .*shardflow local engine: (a browser request|Host )/.test(outcome),
      ),
    ).toEqual([]);
    expect(unauthenticated.filter((outcome) => !outcome.endsWith(': 403'))).toEqual([]);
    expect(signed.filter((outcome) => !outcome.endsWith(': 200'))).toEqual([]);
    if (otherUser === undefined) console.warn('not checked as another user: not running as root');
    expect(
      otherUser?.filter((outcome) => !outcome.endsWith(`uid ${OTHER_UID}: 403`)) ?? [],
    ).toEqual([]);
    expect(accessKeyId).toMatch(/^SFLOCAL[A-Z2-7]{32}$/);
    expect(streams.StreamNames).toContain(state.names.numbers?.physicalName);
    expect(tables.TableNames?.length).toBeGreaterThan(0);

    // WHEN it is stopped
    const down = await shardflow(workDir, ['local', 'down']);

    // THEN
    expect(down.code).toBe(0);
    for (const pid of [state.pid, ...state.enginePids]) expect(alive(pid)).toBe(false);
  }, 300_000);
});
