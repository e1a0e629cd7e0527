import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListStreamsCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { lambdaSdkEnvironment, localClients } from '#local/aws/index';
import { startEngines } from '#local/engines/index';
import type { RunningEngines } from '#local/engines/types';
import { useEngines } from '#test/helpers/engines';

const REPO_ROOT = resolve(__dirname, '../../..');
const ENGINE_TEST_TIMEOUT_MS = 240_000;

describe('startEngines', () => {
  describe('running engines', () => {
    const engines = useEngines();

    it('answers Kinesis and DynamoDB requests through localClients', async () => {
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
      expect(engines().pids).toHaveLength(3);
      expect(engines().pids.every(isAlive)).toBe(true);
      kinesis.destroy();
      dynamodb.destroy();
    });

    it('round-trips records through kinesis-mock', async () => {
      // GIVEN
      const { kinesis } = localClients(engines().endpoints);
      const streamName = uniqueName('round-trip');
      await createActiveStream(kinesis, streamName);

      // WHEN
      const put = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: ['a', 'b', 'c'].map((data) => ({ Data: Buffer.from(data), PartitionKey: 'k' })),
        }),
      );
      const data = await readAll(kinesis, streamName);

      // THEN
      expect(put.FailedRecordCount).toBe(0);
      expect(data).toEqual(['a', 'b', 'c']);
      kinesis.destroy();
    });

    it('lets default SDK clients in a process with only lambdaSdkEnvironment reach both engines', async () => {
      // GIVEN
      const streamName = uniqueName('handler');
      const tableName = uniqueName('handler');
      const script = await writeTempScript('handler.js', handlerScript(streamName, tableName));

      // WHEN
      const { stdout } = await promisify(execFile)(process.execPath, [script], {
        env: lambdaSdkEnvironment(engines().endpoints),
        timeout: 60_000,
      });

      // THEN
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({
        failedRecordCount: 0,
        tableStatus: 'ACTIVE',
      });
      const { kinesis, documentClient } = localClients(engines().endpoints);
      expect(await readAll(kinesis, streamName)).toEqual(['from-handler']);
      const item = await documentClient.send(
        new GetCommand({ TableName: tableName, Key: { pk: 'k1' } }),
      );
      expect(item.Item).toEqual({ pk: 'k1', value: 42 });
      kinesis.destroy();
      documentClient.destroy();
    });

    it('keeps TLS verification on for handler processes', () => {
      // GIVEN
      const { endpoints } = engines();

      // WHEN
      const environment = lambdaSdkEnvironment(endpoints);

      // THEN
      expect(environment).not.toHaveProperty('NODE_TLS_REJECT_UNAUTHORIZED');
      expect(environment.AWS_ENDPOINT_URL_KINESIS).toBe(endpoints.kinesisTls);
      expect(readFileSync(endpoints.kinesisCaFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    });
  });

  describe('lifecycle', () => {
    it(
      'leaves no process behind after stop()',
      async () => {
        // GIVEN
        const engines = await startEngines();

        // WHEN
        await engines.stop();
        await engines.stop();

        // THEN
        expect(engines.pids.filter(isAlive)).toEqual([]);
      },
      ENGINE_TEST_TIMEOUT_MS,
    );

    it(
      'kills the engines when the parent process is killed with SIGKILL',
      async () => {
        // GIVEN
        const script = await writeTempScript('parent.js', parentScript());
        const parent = spawn(process.execPath, [script], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const pids = await firstLineJson<{ pids: number[] }>(parent).then((line) => line.pids);
        expect(pids.filter(isAlive)).toHaveLength(3);

        // WHEN
        parent.kill('SIGKILL');

        // THEN
        expect(await waitUntilGone(pids, 15_000)).toEqual([]);
      },
      ENGINE_TEST_TIMEOUT_MS,
    );

    it(
      'stops the engines and re-raises when the parent gets SIGTERM',
      async () => {
        // GIVEN
        const script = await writeTempScript('parent.js', parentScript());
        const parent = spawn(process.execPath, [script], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const pids = await firstLineJson<{ pids: number[] }>(parent).then((line) => line.pids);
        const exited = new Promise<NodeJS.Signals | null>((resolveExit) =>
          parent.once('exit', (_code, signal) => resolveExit(signal)),
        );

        // WHEN
        parent.kill('SIGTERM');

        // THEN
        expect(await exited).toBe('SIGTERM');
        expect(pids.filter(isAlive)).toEqual([]);
      },
      ENGINE_TEST_TIMEOUT_MS,
    );

    it(
      'keeps streams, records, tables and items in stateDir across a restart, under a new access key id',
      async () => {
        // GIVEN
        const stateDir = await mkdtemp(join(tmpdir(), 'shardflow-state-'));
        const streamName = uniqueName('kept');
        const tableName = uniqueName('kept');
        let firstKeyId = '';
        await withEngines(startEngines({ stateDir }), async (engines) => {
          firstKeyId = engines.endpoints.credentials.accessKeyId;
          const { kinesis, documentClient, dynamodb } = localClients(engines.endpoints);
          await createActiveStream(kinesis, streamName);
          await kinesis.send(
            new PutRecordsCommand({
              StreamName: streamName,
              Records: [{ Data: Buffer.from('kept'), PartitionKey: 'k' }],
            }),
          );
          await createTable(dynamodb, tableName);
          await documentClient.send(
            new PutCommand({ TableName: tableName, Item: { pk: 'k1', value: 'kept' } }),
          );
          kinesis.destroy();
          dynamodb.destroy();
        });

        // WHEN
        const restarted = await startEngines({ stateDir });

        // THEN
        await withEngines(Promise.resolve(restarted), async (engines) => {
          // -sharedDb: one database file for every key id, so the new one sees the same tables
          expect(engines.endpoints.credentials.accessKeyId).not.toBe(firstKeyId);
          expect(
            (await readdir(join(stateDir, 'dynamodb'))).filter((f) => f.endsWith('.db')),
          ).toEqual(['shared-local-instance.db']);
          const { kinesis, documentClient } = localClients(engines.endpoints);
          expect(await readAll(kinesis, streamName)).toEqual(['kept']);
          const item = await documentClient.send(
            new GetCommand({ TableName: tableName, Key: { pk: 'k1' } }),
          );
          expect(item.Item).toEqual({ pk: 'k1', value: 'kept' });
          kinesis.destroy();
          documentClient.destroy();
        });
        await rm(stateDir, { recursive: true, force: true });
      },
      ENGINE_TEST_TIMEOUT_MS,
    );

    it('fails with one clear sentence when java is missing', async () => {
      // GIVEN
      const emptyPath = await mkdtemp(join(tmpdir(), 'shardflow-no-java-'));
      const originalPath = process.env.PATH;
      process.env.PATH = emptyPath;

      // WHEN
      const starting = startEngines();

      // THEN
      try {
        await expect(starting).rejects.toThrow(
          'DynamoDB Local needs Java 17 or newer: install it (e.g. `apt-get install openjdk-17-jre-headless` or https://adoptium.net) and make sure `java` is on PATH.',
        );
      } finally {
        process.env.PATH = originalPath;
        await rm(emptyPath, { recursive: true, force: true });
      }
    });
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return true;
}

async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await delay(100);
  return pids.filter(isAlive);
}

async function withEngines(
  starting: Promise<RunningEngines>,
  use: (engines: RunningEngines) => Promise<void>,
): Promise<void> {
  const engines = await starting;
  try {
    await use(engines);
  } finally {
    await engines.stop();
  }
}

function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

async function createActiveStream(kinesis: KinesisClient, streamName: string): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  await waitUntilStreamExists(
    { client: kinesis, maxWaitTime: 30, minDelay: 1 },
    { StreamName: streamName },
  );
}

async function createTable(
  dynamodb: ReturnType<typeof localClients>['dynamodb'],
  tableName: string,
) {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

async function readAll(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
  return Records.map((record) => Buffer.from(record.Data ?? []).toString());
}

async function writeTempScript(name: string, source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shardflow-engines-test-'));
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

function firstLineJson<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolveLine, reject) => {
    if (child.stdout === null) throw new Error('child has no stdout');
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolveLine(JSON.parse(line) as T));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before printing`)));
  });
}

/** A Lambda-like handler: default clients only, configured by the environment alone. */
function handlerScript(streamName: string, tableName: string): string {
  const sdk = (name: string) => JSON.stringify(join(REPO_ROOT, 'node_modules', '@aws-sdk', name));
  return `
const k = require(${sdk('client-kinesis')});
const d = require(${sdk('client-dynamodb')});
(async () => {
  const kinesis = new k.KinesisClient({});
  const dynamodb = new d.DynamoDBClient({});
  await kinesis.send(new k.CreateStreamCommand({ StreamName: ${JSON.stringify(streamName)}, ShardCount: 1 }));
  await k.waitUntilStreamExists({ client: kinesis, maxWaitTime: 30, minDelay: 1 }, { StreamName: ${JSON.stringify(streamName)} });
  const put = await kinesis.send(new k.PutRecordsCommand({
    StreamName: ${JSON.stringify(streamName)},
    Records: [{ Data: Buffer.from('from-handler'), PartitionKey: 'k' }],
  }));
  const table = await dynamodb.send(new d.CreateTableCommand({
    TableName: ${JSON.stringify(tableName)},
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  await dynamodb.send(new d.PutItemCommand({
    TableName: ${JSON.stringify(tableName)},
    Item: { pk: { S: 'k1' }, value: { N: '42' } },
  }));
  kinesis.destroy();
  dynamodb.destroy();
  console.log(JSON.stringify({ failedRecordCount: put.FailedRecordCount, tableStatus: table.TableDescription.TableStatus }));
})().catch((error) => { console.error(error); process.exit(1); });
`;
}

/** A parent that starts the engines through tsx, prints their pids and waits to be killed. */
function parentScript(): string {
  const tsx = JSON.stringify(require.resolve('tsx/cjs/api', { paths: [REPO_ROOT] }));
  const engines = JSON.stringify(join(REPO_ROOT, 'local', 'engines', 'index.ts'));
  return `
require(${tsx}).register();
const { startEngines } = require(${engines});
startEngines().then((engines) => {
  console.log(JSON.stringify({ pids: engines.pids }));
  setInterval(() => undefined, 1000);
}, (error) => { console.error(error); process.exit(1); });
`;
}
