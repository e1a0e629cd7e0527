import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_LOCAL_DIR, DYNAMODB_LOCAL_JVM_OPTIONS } from './constants';
import { EngineProcess } from './EngineProcess';
import { ACCESS_KEY_ID_VARIABLE } from './loopbackFront';
import { probeClientConfig } from './probeClientConfig';
import type { EngineCredentials, EngineName } from './types';

/** Where and how {@link spawnDynamoDbEngine} runs DynamoDB Local. */
export interface DynamoDbEngineOptions {
  readonly port: number;
  /**
   * The run's credentials: the launcher refuses requests not signed with its access key id, which
   * it gets through its environment (never its command line).
   */
  readonly credentials: EngineCredentials;
  /** Folder for the database file. @default - in memory */
  readonly dataDir?: string;
  /** @default - discarded */
  readonly onLog?: (engine: EngineName, line: string) => void;
}

/** The launcher that binds DynamoDB Local to 127.0.0.1 and guards it, next to this file. */
const LOOPBACK_LAUNCHER = join(__dirname, 'LoopbackDynamoDbLocal.java');

/**
 * Starts DynamoDB Local (Java) through `LoopbackDynamoDbLocal.java`, run in source-file mode: it
 * listens on 127.0.0.1 only and refuses browser, foreign-Host and unauthenticated requests
 * (DynamoDB Local alone binds every interface and has no option against it; see the launcher).
 * Always `-sharedDb`: every credential and region sees the same tables (one
 * `shared-local-instance.db`), so the tables in `dataDir` outlive the run's access key id, which
 * is new for every start.
 */
export async function spawnDynamoDbEngine(options: DynamoDbEngineOptions): Promise<EngineProcess> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  return EngineProcess.spawn({
    engine: 'dynamodb',
    command: 'java',
    args: [
      ...DYNAMODB_LOCAL_JVM_OPTIONS,
      `-Djava.library.path=${join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal_lib')}`,
      // An IPv4 socket on 127.0.0.1 rather than an IPv6 one on ::ffff:127.0.0.1: the same reach,
      // but `ss` and /proc/net/tcp show it plainly. DynamoDB Local makes no IPv6 connections.
      '-Djava.net.preferIPv4Stack=true',
      // The jar's manifest names its libraries, for compiling the launcher and for running it.
      '-cp',
      join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar'),
      LOOPBACK_LAUNCHER,
      '-port',
      String(options.port),
      '-sharedDb',
      '-disableTelemetry',
      ...(options.dataDir === undefined ? ['-inMemory'] : ['-dbPath', options.dataDir]),
    ],
    env: { [ACCESS_KEY_ID_VARIABLE]: options.credentials.accessKeyId },
    cwd: DYNAMODB_LOCAL_DIR,
    onLog: options.onLog,
  });
}

/** Resolves when DynamoDB Local answers ListTables signed with the run's credentials; rejects otherwise. */
export async function probeDynamoDbEngine(options: DynamoDbEngineOptions): Promise<void> {
  const client = new DynamoDBClient(probeClientConfig(options.port, options.credentials));
  try {
    await client.send(new ListTablesCommand({}));
  } finally {
    client.destroy();
  }
}
