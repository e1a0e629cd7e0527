import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A TCP socket in LISTEN state, as /proc/net/tcp or /proc/net/tcp6 lists it. */
export interface ListeningSocket {
  /** The address in the usual notation: `127.0.0.1`, `0.0.0.0`, `::`, `::ffff:127.0.0.1`. */
  readonly address: string;
  readonly port: number;
  /** The process holding it. */
  readonly pid: number;
}

/** State code of a listening socket in /proc/net/tcp*. */
const TCP_LISTEN = '0A';

/** `roots` and all their descendants that are alive now (from the ppid of /proc/<pid>/stat). */
export function processTree(roots: readonly number[]): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // Gone since the listing.
    }
  }
  const tree = new Set(roots.filter((pid) => parents.has(pid)));
  for (let grown = true; grown; ) {
    grown = false;
    for (const [pid, ppid] of parents) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grown = true;
      }
    }
  }
  return [...tree];
}

/**
 * Every listening TCP socket (IPv4 and IPv6) held by one of `pids`: the socket inodes of each
 * process's file descriptors (`/proc/<pid>/fd/* → socket:[inode]`) matched against the LISTEN
 * entries of /proc/net/tcp and /proc/net/tcp6.
 */
export function listeningSocketsOf(pids: readonly number[]): ListeningSocket[] {
  const owners = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode !== undefined) owners.set(inode, pid);
      } catch {
        // Closed since the listing.
      }
    }
  }
  const sockets: ListeningSocket[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [local = '', state, inode = ''] = [fields[1], fields[3], fields[9]];
      const pid = owners.get(inode);
      if (state !== TCP_LISTEN || pid === undefined) continue;
      const [hexAddress = '', hexPort = ''] = local.split(':');
      sockets.push({ address: procAddress(hexAddress), port: Number.parseInt(hexPort, 16), pid });
    }
  }
  return sockets;
}

/** An address of /proc/net/tcp* (32-bit words in host byte order, little-endian here). */
function procAddress(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) =>
    [...Buffer.from(word, 'hex').reverse()].map((byte) => byte),
  );
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff;
  if (mapped && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Whether `address` (as {@link procAddress} writes it) is a loopback address. */
export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address);
}

/** The machine's addresses other than loopback and link-local (which needs a zone to connect). */
export function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && !info.internal)
    .map((info) => (info as { address: string }).address)
    .filter((address) => !/^fe80:/i.test(address));
}

/** `connected`, or the error code of a TCP connection to `host:port` (e.g. `ECONNREFUSED`). */
export function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** What an engine answered to one raw request. */
export interface RawAnswer {
  readonly status: number;
  readonly allowOrigin: string | undefined;
  readonly body: string;
}

/**
 * The headers of a Kinesis ListStreams or DynamoDB ListTables call, with a SigV4 `Authorization`
 * that names `accessKeyId` and a made-up signature (the engines check the key id, not the
 * signature).
 */
export function listCallHeaders(
  engine: 'kinesis' | 'dynamodb',
  accessKeyId: string,
): Record<string, string> {
  const [target, contentType] =
    engine === 'kinesis'
      ? ['Kinesis_20131202.ListStreams', 'application/x-amz-json-1.1']
      : ['DynamoDB_20120810.ListTables', 'application/x-amz-json-1.0'];
  return {
    'content-type': contentType,
    'x-amz-target': target,
    'x-amz-date': '20260101T000000Z',
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/${engine}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
  };
}

/** Whether this process may run another as a different user (`setpriv --reuid`). */
export function canSwitchUser(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Sends the request of {@link rawRequest} from a process of another user (`uid`, with the same
 * gid and no supplementary groups) started by `setpriv`, as another user of the machine could;
 * needs root. The request goes in through stdin, never the command line. For https, the
 * certificate is not verified (that user need not trust it).
 */
export function rawRequestAs(
  uid: number,
  url: string,
  headers: Record<string, string>,
): Promise<RawAnswer & { readonly uid: number }> {
  const script = `
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { url, headers } = JSON.parse(input);
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const request = require(secure ? 'node:https' : 'node:http').request(
    { host: target.hostname, port: target.port, method: 'POST', path: '/', headers, agent: false,
      ...(secure ? { rejectUnauthorized: false } : {}) },
    (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => console.log(JSON.stringify({
        uid: process.getuid(), status: response.statusCode,
        allowOrigin: response.headers['access-control-allow-origin'], body,
      })));
    },
  );
  request.on('error', (error) => { console.error(error.message); process.exit(2); });
  request.end('{}');
});
`;
  const id = String(uid);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'setpriv',
      [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', process.execPath, '-e', script],
      { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout));
      else reject(new Error(`request as uid ${id} exited with ${code}: ${stderr.trim()}`));
    });
    child.stdin.end(JSON.stringify({ url, headers }));
  });
}

/**
 * Sends one HTTP/1.1 request with exactly these headers (a `host` given here replaces the one of
 * `url`) and resolves with the answer. For https, the certificate is verified against `ca` for
 * `localhost`, whatever `Host` says.
 */
export function rawRequest(
  url: string,
  headers: Record<string, string>,
  options: { readonly ca?: string; readonly method?: string } = {},
): Promise<RawAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'POST',
        path: '/',
        headers,
        agent: false,
        ...(secure ? { ca: options.ca, servername: 'localhost' } : {}),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            allowOrigin: response.headers['access-control-allow-origin'],
            body,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end('{}');
  });
}
