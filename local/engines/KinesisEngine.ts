import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import {
  KINESIS_MOCK_MAIN,
  KINESIS_MOCK_PERSIST_INTERVAL_MS,
  KINESIS_MOCK_TRANSITION_DURATION,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  LOOPBACK_HOST,
} from './constants';
import { EngineProcess } from './EngineProcess';
import { repairKinesisState, snapshotKinesisState } from './kinesisStateFile';
import { probeClientConfig } from './probeClientConfig';
import type { TlsCertificateFiles } from './tlsCertificate';
import type { EngineName } from './types';

/** Where and how {@link spawnKinesisEngine} runs kinesis-mock. */
export interface KinesisEngineOptions {
  /** kinesis-mock's plain HTTP/1.1 port, the one everything talks to in the end. */
  readonly plainPort: number;
  /** The TLS proxy's port (HTTP/2 and HTTP/1.1), for the SDK's default client. */
  readonly tlsPort: number;
  /** kinesis-mock's own TLS port: it always opens one, but it is not used (see kinesisTlsProxy.js). */
  readonly mockTlsPort: number;
  readonly certificate: TlsCertificateFiles;
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

/** Starts kinesis-mock (a Node script); clients use its plain HTTP/1.1 port. */
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
    args: [KINESIS_MOCK_MAIN],
    env: {
      KINESIS_MOCK_PLAIN_PORT: String(options.plainPort),
      KINESIS_MOCK_TLS_PORT: String(options.mockTlsPort),
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
 * Starts the TLS proxy that serves HTTP/2 and HTTP/1.1 on `tlsPort` with the generated certificate
 * and forwards to kinesis-mock's plain port. kinesis-mock's own TLS port fails about 1 in 70 HTTP/2
 * requests of the SDK's default client with ERR_HTTP2_ERROR, and sometimes hangs.
 */
export function spawnKinesisTlsProxy(options: KinesisEngineOptions): Promise<EngineProcess> {
  return EngineProcess.spawn({
    engine: 'kinesis',
    command: process.execPath,
    args: [
      TLS_PROXY_SCRIPT,
      String(options.tlsPort),
      String(options.plainPort),
      options.certificate.serverJsonPath,
    ],
    env: {},
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

/** Resolves when kinesis-mock answers ListStreams on its plain port; rejects otherwise. */
export async function probeKinesisEngine(options: KinesisEngineOptions): Promise<void> {
  const client = new KinesisClient(probeClientConfig(options.plainPort));
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
