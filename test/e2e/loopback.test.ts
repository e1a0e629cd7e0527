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
  tcpConnect,
} from '#test/integration/local/loopbackProbes';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** What a web page adds to a request: its Origin, or (DNS rebinding) its own host name. */
const FOREIGN_HEADERS: readonly Record<string, string>[] = [
  { origin: 'https://evil.example' },
  { host: 'evil.example' },
];

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

  it('keeps every listening socket of the runtime on loopback and refuses browsers, while SDK clients work', async () => {
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
    const browser = await Promise.all(
      (
        [
          [endpoints.kinesis, 'kinesis'],
          [endpoints.kinesisTls, 'kinesis'],
          [endpoints.dynamodb, 'dynamodb'],
        ] as const
      ).flatMap(([url, engine]) =>
        FOREIGN_HEADERS.map(async (headers) => {
          const answer = await rawRequest(url, { ...listCallHeaders(engine), ...headers }, { ca });
          return `${url} ${Object.values(headers)[0]}: ${answer.status}`;
        }),
      ),
    );
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
    expect(browser.filter((outcome) => !outcome.endsWith(': 403'))).toEqual([]);
    expect(streams.StreamNames).toContain(state.names.numbers?.physicalName);
    expect(tables.TableNames?.length).toBeGreaterThan(0);

    // WHEN it is stopped
    const down = await shardflow(workDir, ['local', 'down']);

    // THEN
    expect(down.code).toBe(0);
    for (const pid of [state.pid, ...state.enginePids]) expect(alive(pid)).toBe(false);
  }, 300_000);
});
