import { readFileSync } from 'node:fs';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws/index';
import type { EngineEndpoints } from '#local/engines/types';
import { useEngines } from '#test/helpers/engines';
import {
  isLoopback,
  listCallHeaders,
  listeningSocketsOf,
  nonLoopbackAddresses,
  processTree,
  rawRequest,
  tcpConnect,
} from './loopbackProbes';

/** The engines' three ports, each with the engine behind it. */
const ENGINE_PORTS = [
  ['kinesis', 'kinesis'],
  ['kinesisTls', 'kinesis'],
  ['dynamodb', 'dynamodb'],
] as const satisfies readonly (readonly [keyof EngineEndpoints, 'kinesis' | 'dynamodb'])[];

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

  it('answers SDK clients through localClients', async () => {
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
    kinesis.destroy();
    dynamodb.destroy();
  });

  describe.each(ENGINE_PORTS)('on the %s port', (endpoint, engine) => {
    function call(headers: Record<string, string>, method?: string) {
      const { endpoints } = engines();
      const ca = readFileSync(endpoints.kinesisCaFile, 'utf8');
      return rawRequest(
        endpoints[endpoint],
        { ...listCallHeaders(engine), ...headers },
        { ca, method },
      );
    }

    it('answers a list call from a loopback client without browser headers', async () => {
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
      ['an Origin header', { origin: 'https://evil.example' }],
      ['Host evil.example', { host: 'evil.example' }],
      ['Host evil.example with the port (DNS rebinding)', { host: 'evil.example:PORT' }],
      ['a Sec-Fetch-Site header', { 'sec-fetch-site': 'cross-site' }],
    ])('fails with 403 for a list call carrying %s', async (_name, headers) => {
      // GIVEN
      const port = String(portOf(engines().endpoints[endpoint]));
      const withPort = Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, value.replace('PORT', port)]),
      );

      // WHEN
      const answer = await call(withPort);

      // THEN
      expect(answer.status).toBe(403);
      expect(answer.allowOrigin).toBeUndefined();
      expect(JSON.parse(answer.body)).toEqual(
        expect.objectContaining({ __type: 'AccessDeniedException' }),
      );
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
