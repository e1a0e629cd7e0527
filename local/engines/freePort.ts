import { createServer } from 'node:net';
import { LOOPBACK_HOST } from './constants';
import { NoFreePortError } from './errors';

const MAX_PORT = 65_535;

interface HeldPort {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Finds `count` distinct free TCP ports. The engines listen on 127.0.0.1 only; a port counts as
 * free when it can be bound both there and on the unspecified address, so a port that another
 * program holds on all interfaces is not taken either (on macOS, a 127.0.0.1 bind succeeds next
 * to such a listener and would share the port with it).
 *
 * @param count - how many ports
 * @param portBase - first port to try; the next free ones from here are taken in order
 *   (default: ports chosen by the OS)
 */
export async function findFreePorts(count: number, portBase?: number): Promise<number[]> {
  return portBase === undefined ? osChosenPorts(count) : portsFrom(portBase, count);
}

async function portsFrom(portBase: number, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = portBase; port <= MAX_PORT && ports.length < count; port++) {
    if (await isFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new NoFreePortError(portBase, count);
  return ports;
}

async function osChosenPorts(count: number): Promise<number[]> {
  // Hold every probe open until all are chosen, so the OS cannot hand out one port twice.
  const held: HeldPort[] = [];
  try {
    while (held.length < count) held.push(await listen(0));
    return held.map(({ port }) => port);
  } finally {
    await Promise.all(held.map((probe) => probe.close()));
  }
}

async function isFree(port: number): Promise<boolean> {
  for (const host of [undefined, LOOPBACK_HOST]) {
    try {
      await (await listen(port, host)).close();
    } catch {
      return false;
    }
  }
  return true;
}

/** Binds a port; without a host Node binds `::` (dual stack), or 0.0.0.0 where IPv6 is missing. */
function listen(port: number, host?: string): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : port,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
