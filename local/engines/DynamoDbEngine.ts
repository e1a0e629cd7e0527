import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_LOCAL_DIR, DYNAMODB_LOCAL_JVM_OPTIONS } from './constants';
import { EngineProcess } from './EngineProcess';
import { probeClientConfig } from './probeClientConfig';
import type { EngineName } from './types';

/** Where and how {@link spawnDynamoDbEngine} runs DynamoDB Local. */
export interface DynamoDbEngineOptions {
  readonly port: number;
  /** Folder for the database file. @default - in memory */
  readonly dataDir?: string;
  /** @default - discarded */
  readonly onLog?: (engine: EngineName, line: string) => void;
}

/**
 * Starts DynamoDB Local (Java). Always `-sharedDb`: every credential and region sees the same
 * tables, so handler processes, the CLI and tests need not agree on an access key.
 */
export async function spawnDynamoDbEngine(options: DynamoDbEngineOptions): Promise<EngineProcess> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  return EngineProcess.spawn({
    engine: 'dynamodb',
    command: 'java',
    args: [
      ...DYNAMODB_LOCAL_JVM_OPTIONS,
      `-Djava.library.path=${join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(DYNAMODB_LOCAL_DIR, 'DynamoDBLocal.jar'),
      '-port',
      String(options.port),
      '-sharedDb',
      '-disableTelemetry',
      ...(options.dataDir === undefined ? ['-inMemory'] : ['-dbPath', options.dataDir]),
    ],
    env: {},
    cwd: DYNAMODB_LOCAL_DIR,
    onLog: options.onLog,
  });
}

/** Resolves when DynamoDB Local answers ListTables; rejects otherwise. */
export async function probeDynamoDbEngine(options: DynamoDbEngineOptions): Promise<void> {
  const client = new DynamoDBClient(probeClientConfig(options.port));
  try {
    await client.send(new ListTablesCommand({}));
  } finally {
    client.destroy();
  }
}
