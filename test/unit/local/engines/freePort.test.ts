import { createServer, type Server } from 'node:net';
import { findFreePorts } from '#local/engines/freePort';

describe('findFreePorts', () => {
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
  });

  function occupy(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      servers.push(server);
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  it('returns distinct ports chosen by the OS', async () => {
    // WHEN
    const ports = await findFreePorts(3);

    // THEN
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) await expect(occupy(port, '127.0.0.1')).resolves.toBe(port);
  });

  it('skips ports in use from portBase on', async () => {
    // GIVEN two adjacent ports held by this test (other suites take ephemeral ports concurrently,
    // so retry until a free pair is found)
    let base = 0;
    for (let attempt = 0; base === 0 && attempt < 50; attempt++) {
      const [candidate = 0] = await findFreePorts(1);
      try {
        await occupy(candidate, '127.0.0.1');
        await occupy(candidate + 1);
        base = candidate;
      } catch {
        await Promise.all(
          servers.splice(0).map((server) => new Promise((done) => server.close(done))),
        );
      }
    }
    expect(base).toBeGreaterThan(0);

    // WHEN
    const ports = await findFreePorts(2, base);

    // THEN
    expect(ports[0]).toBeGreaterThan(base + 1);
    expect(ports[1]).toBeGreaterThan(ports[0] ?? 0);
  });

  it('fails when the range above portBase has no free port', async () => {
    // GIVEN
    await occupy(65_535, '127.0.0.1');

    // WHEN
    const finding = findFreePorts(1, 65_535);

    // THEN
    await expect(finding).rejects.toThrow('no 1 free loopback ports at or above 65535');
  });
});
