import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect as connectSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import {
  ENGINE_READY_TIMEOUT_MS,
  KINESIS_MOCK_MAIN,
  KINESIS_MOCK_PERSIST_INTERVAL_MS,
  KINESIS_MOCK_SOCKET_PORTS,
  KINESIS_MOCK_TRANSITION_DURATION,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  LOOPBACK_HOST,
} from './constants';
import { EngineProcess } from './EngineProcess';
import { repairKinesisState, snapshotKinesisState } from './kinesisStateFile';
import { ACCESS_KEY_ID_VARIABLE } from './loopbackFront';
import { probeClientConfig } from './probeClientConfig';
import type { TlsCertificateFiles } from './tlsCertificate';
import type { EngineCredentials, EngineName } from './types';

/** Where and how {@link spawnKinesisEngine} runs kinesis-mock. */
export interface KinesisEngineOptions {
  /**
   * The 127.0.0.1 port of kinesis-mock's plain HTTP/1.1 front (served in its process by
   * kinesisMockPreload.js), for clients built with `NodeHttpHandler`.
   */
  readonly plainPort: number;
  /** The 127.0.0.1 port of the TLS proxy (HTTP/2 and HTTP/1.1), for the SDK's default client. */
  readonly tlsPort: number;
  /**
   * Private folder (mode 0700, from {@link createKinesisSocketDir}) of kinesis-mock's Unix sockets:
   * kinesis-mock itself listens on no TCP port.
   */
  readonly socketDir: string;
  readonly certificate: TlsCertificateFiles;
  /**
   * The run's credentials: both fronts refuse requests not signed with its access key id, which
   * they get through their environment (never their command line).
   */
  readonly credentials: EngineCredentials;
  /** Folder for persisted data. @default - in memory */
  readonly dataDir?: string;
  /** @default - discarded */
  readonly onLog?: (engine: EngineName, line: string) => void;
}

/** Durations kinesis-mock holds streams and consumers in transient states. */
const TRANSITION_VARIABLES = [
  'CREATE_STREAM_DURATION',
  'DELETE_STREAM_DURATION',
  'REGISTER_STREAM_CONSUMER_DURATION',
  'DEREGISTER_STREAM_CONSUMER_DURATION',
  'START_STREAM_ENCRYPTION_DURATION',
  'STOP_STREAM_ENCRYPTION_DURATION',
  'MERGE_SHARDS_DURATION',
  'SPLIT_SHARD_DURATION',
  'UPDATE_SHARD_COUNT_DURATION',
  'UPDATE_STREAM_MODE_DURATION',
] as const;

/** The TLS front of kinesis-mock, next to this file. */
const TLS_PROXY_SCRIPT = join(__dirname, 'kinesisTlsProxy.js');

/** Loaded into kinesis-mock's process to keep it off the network, next to this file. */
const PRELOAD_SCRIPT = join(__dirname, 'kinesisMockPreload.js');

/** Name prefix of the socket folders under the OS temp folder. */
const SOCKET_DIR_PREFIX = 'shardflow-kinesis-';

/**
 * Makes the private folder for kinesis-mock's Unix sockets: a fresh `shardflow-kinesis-*` folder
 * under the OS temp folder, mode 0700 (mkdtemp), so no other user can connect to them. Remove it
 * with {@link removeKinesisSocketDir}. First removes such folders of this user that a runtime
 * killed all at once (guardian included) left behind.
 */
export async function createKinesisSocketDir(): Promise<string> {
  await removeStaleKinesisSocketDirs();
  return mkdtemp(join(tmpdir(), SOCKET_DIR_PREFIX));
}

/**
 * Removes this user's socket folders in which no socket accepts a connection, once they are older
 * than a start may take (younger ones may belong to a kinesis-mock that is still starting; a
 * stopped — SIGSTOP — kinesis-mock still accepts).
 */
async function removeStaleKinesisSocketDirs(): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const names = await readdir(tmpdir()).catch(() => []);
  await Promise.all(
    names
      .filter((name) => name.startsWith(SOCKET_DIR_PREFIX))
      .map(async (name) => {
        const dir = join(tmpdir(), name);
        const info = await lstat(dir).catch(() => undefined);
        if (info === undefined || !info.isDirectory() || info.uid !== uid) return;
        if (Date.now() - info.mtimeMs < ENGINE_READY_TIMEOUT_MS) return;
        const sockets = (await readdir(dir).catch(() => [])).filter((file) =>
          file.endsWith('.sock'),
        );
        const answering = await Promise.all(
          sockets.map((file) => acceptsConnection(join(dir, file))),
        );
        if (!answering.includes(true)) await removeKinesisSocketDir(dir);
      }),
  );
}

/** Whether a Unix socket accepts a connection (true also when it is slow to say). */
function acceptsConnection(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectSocket({ path, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Removes the socket folder once kinesis-mock and its TLS proxy have stopped. */
export function removeKinesisSocketDir(socketDir: string): Promise<void> {
  return rm(socketDir, { recursive: true, force: true });
}

/** The Unix socket of kinesis-mock's plain HTTP/1.1 server, which both fronts forward to. */
export function kinesisMockSocketPath(options: KinesisEngineOptions): string {
  return join(options.socketDir, `${KINESIS_MOCK_SOCKET_PORTS.plain}.sock`);
}

/**
 * Starts kinesis-mock (a Node script) with kinesisMockPreload.js, which puts its servers on Unix
 * sockets in `socketDir` and serves its plain HTTP/1.1 front on 127.0.0.1:`plainPort`, for requests
 * signed with the run's access key id only.
 */
export async function spawnKinesisEngine(options: KinesisEngineOptions): Promise<EngineProcess> {
  const persistence: Record<string, string> =
    options.dataDir === undefined
      ? { SHOULD_PERSIST_DATA: 'false' }
      : {
          SHOULD_PERSIST_DATA: 'true',
          LOAD_DATA_IF_EXISTS: 'true',
          PERSIST_PATH: options.dataDir,
          PERSIST_INTERVAL: `${KINESIS_MOCK_PERSIST_INTERVAL_MS}ms`,
        };
  if (options.dataDir !== undefined) {
    await mkdir(options.dataDir, { recursive: true });
    const repaired = await repairKinesisState(options.dataDir);
    if (repaired !== undefined) options.onLog?.('kinesis', repaired);
  }
  return EngineProcess.spawn({
    engine: 'kinesis',
    command: process.execPath,
    args: ['--require', PRELOAD_SCRIPT, KINESIS_MOCK_MAIN],
    env: {
      [ACCESS_KEY_ID_VARIABLE]: options.credentials.accessKeyId,
      SHARDFLOW_KINESIS_SOCKET_DIR: options.socketDir,
      SHARDFLOW_KINESIS_PLAIN_PORT: String(options.plainPort),
      KINESIS_MOCK_PLAIN_PORT: String(KINESIS_MOCK_SOCKET_PORTS.plain),
      KINESIS_MOCK_TLS_PORT: String(KINESIS_MOCK_SOCKET_PORTS.tls),
      KINESIS_MOCK_CERT_PATH: options.certificate.serverJsonPath,
      AWS_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
      AWS_REGION: LOCAL_REGION,
      LOG_LEVEL: 'WARN',
      ...Object.fromEntries(
        TRANSITION_VARIABLES.map((name) => [name, KINESIS_MOCK_TRANSITION_DURATION]),
      ),
      ...persistence,
    },
    onLog: options.onLog,
  });
}

/**
 * Starts the TLS proxy that serves HTTP/2 and HTTP/1.1 on 127.0.0.1:`tlsPort` with the generated
 * certificate, refuses browser, foreign-Host and unauthenticated requests (the access key id
 * goes in its environment), and forwards to kinesis-mock's plain socket. kinesis-mock's own TLS port fails about 1 in 70 HTTP/2 requests of the SDK's default
 * client with ERR_HTTP2_ERROR, and sometimes hangs.
 */
export function spawnKinesisTlsProxy(options: KinesisEngineOptions): Promise<EngineProcess> {
  return EngineProcess.spawn({
    engine: 'kinesis',
    command: process.execPath,
    args: [
      TLS_PROXY_SCRIPT,
      String(options.tlsPort),
      kinesisMockSocketPath(options),
      options.certificate.serverJsonPath,
    ],
    env: { [ACCESS_KEY_ID_VARIABLE]: options.credentials.accessKeyId },
    onLog: options.onLog,
  });
}

/**
 * Stops kinesis-mock; with a data folder, first saves a complete copy of its state and afterwards
 * repairs the state file should the shutdown have broken it.
 */
export async function stopKinesisEngine(
  engine: EngineProcess,
  options: KinesisEngineOptions,
  graceMs: number,
): Promise<void> {
  const { dataDir } = options;
  if (dataDir !== undefined && engine.running) await snapshotKinesisState(dataDir);
  await engine.stop(graceMs);
  if (dataDir !== undefined) await repairKinesisState(dataDir);
}

/**
 * Resolves when kinesis-mock answers ListStreams, signed with the run's credentials, through its
 * plain front; rejects otherwise.
 */
export async function probeKinesisEngine(options: KinesisEngineOptions): Promise<void> {
  const client = new KinesisClient(probeClientConfig(options.plainPort, options.credentials));
  try {
    await client.send(new ListStreamsCommand({}));
  } finally {
    client.destroy();
  }
}

/** Resolves when the TLS proxy completes an HTTP/2 handshake verified against `ca`; rejects otherwise. */
export function probeKinesisTlsProxy(options: KinesisEngineOptions, ca: string): Promise<void> {
  return tlsHandshake(options.tlsPort, ca);
}

function tlsHandshake(port: number, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: LOOPBACK_HOST,
      port,
      ca,
      ALPNProtocols: ['h2'],
      timeout: 2_000,
    });
    socket.once('secureConnect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () =>
      socket.destroy(new Error(`TLS handshake on port ${port} timed out`)),
    );
    socket.once('error', reject);
  });
}
