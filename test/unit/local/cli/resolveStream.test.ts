import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { NoLocalRuntimeError } from '#local/cli/errors';
import { type LocalState, writeLocalState } from '#local/cli/localState';
import type { ProcessIdentity, ProcessTable } from '#local/cli/processIdentity';
import { resolveStream } from '#local/cli/resolveStream';
import { shardflow } from '#test/helpers/cliProcess';
import { localStateOn } from '#test/helpers/localStateOn';

const RUNTIME_PID = 4242;
const IDENTITY: ProcessIdentity = { startTime: '1234567', bootId: 'boot-a' };

/** What `local up` records, with every endpoint on `port`. */
function stateOn(port: number, pid = RUNTIME_PID): LocalState {
  return localStateOn(
    port,
    { pid, identity: IDENTITY },
    { name: 'page-views', physicalName: 'shardflow-dev-PageViews', logicalId: 'PageViews' },
  );
}

/** A process table where `pid` is a runtime of this user's with `identity`, or nothing runs. */
function processTable(identity: ProcessIdentity | undefined): ProcessTable {
  return {
    identify: (pid) => (pid === RUNTIME_PID ? identity : undefined),
    inspect: (pid) =>
      pid === RUNTIME_PID && identity !== undefined
        ? { uid: process.getuid?.() ?? 0, argv: ['node', 'bin/shardflow.js', 'local', 'up'] }
        : undefined,
    signal: () => {
      throw new Error('no signal expected');
    },
  };
}

describe('resolveStream', () => {
  let projectDir: string;

  beforeEach(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-resolve-test-'));
  });

  afterEach(() => {
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it('resolves a logical name on the runtime that runs here', async () => {
    // GIVEN
    writeLocalState(stateOn(1), projectDir);

    // WHEN
    const resolved = await resolveStream('page-views', {
      projectDir,
      processes: processTable(IDENTITY),
    });

    // THEN
    expect(resolved.target).toBe('local');
    expect(resolved.streamName).toBe('shardflow-dev-PageViews');
    expect(await resolved.client.config.endpoint?.()).toMatchObject({ port: 1 });
  });

  it.each([
    ['is gone', undefined, 'it is stale: no process has pid 4242'],
    [
      'has given its PID to another process',
      { startTime: '7654321', bootId: 'boot-a' },
      'it is stale: another process has taken pid 4242',
    ],
  ])(
    'fails when the runtime of local.json %s, even with an AWS target set',
    async (_, identity, reason) => {
      // GIVEN
      writeLocalState(stateOn(1), projectDir);
      const profile = process.env.AWS_PROFILE;
      process.env.AWS_PROFILE = 'prod';

      try {
        // WHEN
        const resolved = resolveStream('page-views', {
          projectDir,
          processes: processTable(identity),
        });

        // THEN
        await expect(resolved).rejects.toThrow(NoLocalRuntimeError);
        await expect(resolved).rejects.toThrow(
          `no local runtime is running here; start one with \`shardflow local up\` (ignored ${path.join(projectDir, '.shardflow', 'local.json')}: ${reason})`,
        );
      } finally {
        if (profile === undefined) delete process.env.AWS_PROFILE;
        else process.env.AWS_PROFILE = profile;
      }
    },
  );

  describe('through the CLI', () => {
    let squatter: http.Server;
    let received: string[];
    let port: number;

    beforeEach(async () => {
      // Another program listens on the Kinesis port of a runtime that is gone.
      received = [];
      squatter = http.createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        request.on('end', () => {
          const input = JSON.parse(body || '{}') as { Records?: { Data: string }[] };
          for (const record of input.Records ?? []) {
            received.push(Buffer.from(record.Data, 'base64').toString());
          }
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(
            JSON.stringify({
              FailedRecordCount: 0,
              Records: (input.Records ?? []).map(() => ({
                SequenceNumber: '1',
                ShardId: 'shardId-000000000000',
              })),
            }),
          );
        });
      });
      await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
      port = (squatter.address() as AddressInfo).port;
    });

    afterEach(async () => {
      await new Promise((resolve) => squatter.close(resolve));
    });

    it('fails to send to the endpoints of a local.json whose runtime is gone', async () => {
      // GIVEN a local.json as its runtime wrote it, with the runtime gone
      const dead = spawn('true');
      await new Promise((resolve) => dead.once('exit', resolve));
      writeLocalState(stateOn(port, dead.pid as number), projectDir);

      // WHEN
      const send = await shardflow(
        projectDir,
        ['send', 'page-views', '-'],
        '{"userId":"alice@example.com","url":"/checkout"}\n',
      );

      // THEN the record went nowhere
      expect(received).toEqual([]);
      expect(send.code).toBe(1);
      expect(send.stderr).toContain(
        'shardflow: no local runtime is running here; start one with `shardflow local up` (ignored .shardflow/local.json: it is stale',
      );
    }, 60_000);
  });
});
