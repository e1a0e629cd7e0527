import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { printFailures } from '#local/cli/failures';
import { writeLocalState } from '#local/cli/localState';
import { localStateOn } from '#test/helpers/localStateOn';

describe('printFailures', () => {
  let projectDir: string;
  let squatter: http.Server;
  let requests: number;
  let port: number;

  beforeEach(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-failures-test-'));
    // Another program listens where the runtime's Kinesis was.
    requests = 0;
    squatter = http.createServer((request, response) => {
      requests += 1;
      request.resume();
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end('{"__type":"ResourceNotFoundException","message":"no"}');
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    port = (squatter.address() as AddressInfo).port;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await new Promise((resolve) => squatter.close(resolve));
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it('reads no failure stream of a local.json whose PID is alive but is not the runtime that wrote it', async () => {
    // GIVEN a stale local.json whose PID some live process (this one) has now
    writeLocalState(
      localStateOn(
        port,
        { pid: process.pid, identity: { startTime: '1', bootId: 'a-boot-long-ago' } },
        {
          name: 'page-views-failures',
          physicalName: 'dev-page-views-failures',
          logicalId: 'PageViewsFailures',
        },
      ),
      projectDir,
    );
    const notes: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      notes.push(String(chunk));
      return true;
    });
    let out = '';

    // WHEN
    const code = await printFailures({ projectDir, write: (text) => (out += text) });

    // THEN
    expect(code).toBe(0);
    expect(requests).toBe(0);
    expect(out).toContain('no local runtime is running here, so no failure streams were read\n');
    expect(notes.join('')).toContain(
      `shardflow: ignoring ${path.join(projectDir, '.shardflow', 'local.json')}: it is stale: another process has taken pid ${process.pid}`,
    );
  });
});
