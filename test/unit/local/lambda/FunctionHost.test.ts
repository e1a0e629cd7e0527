import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BOOTSTRAP_PATH } from '#local/lambda/constants';
import { FunctionHostDisposedError } from '#local/lambda/errors';
import { FunctionHost } from '#local/lambda/FunctionHost';
import type { FunctionConfiguration, InvocationResult } from '#local/lambda/types';

const HANDLERS = join(__dirname, '../../../fixtures/handlers');

function configuration(overrides: Partial<FunctionConfiguration> = {}): FunctionConfiguration {
  const functionName = overrides.functionName ?? 'test-fn';
  return {
    functionName,
    functionArn: `arn:aws:lambda:eu-central-1:000000000000:function:${functionName}`,
    handler: 'handlers.echo',
    timeoutSeconds: 5,
    memorySizeMb: 256,
    environment: {},
    codeDirectory: HANDLERS,
    ...overrides,
  };
}

/**
 * A code directory `code` with `sub/mod.js`, beside a folder `outside` whose `evil.js` writes the file
 * `ran` when it is loaded.
 */
function codeBesideOutside() {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'handler-paths-')));
  const code = join(base, 'code');
  const outside = join(base, 'outside');
  mkdirSync(join(code, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(
    join(code, 'sub', 'mod.js'),
    'exports.handler = async () => ({ ran: __filename });',
  );
  const ran = join(base, 'ran');
  writeFileSync(
    join(outside, 'evil.js'),
    `require('node:fs').writeFileSync(${JSON.stringify(ran)}, 'loaded'); exports.handler = async () => 'evil';`,
  );
  return { code, outside, ran };
}

function payload(result: InvocationResult): Record<string, unknown> {
  if (!result.ok) throw new Error(`invocation failed: ${JSON.stringify(result.error)}`);
  return result.payload as Record<string, unknown>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return false;
}

describe('FunctionHost', () => {
  const hosts: FunctionHost[] = [];
  const host = (overrides: Partial<FunctionConfiguration> = {}, options = {}) => {
    const created = new FunctionHost(configuration(overrides), options);
    hosts.push(created);
    return created;
  };

  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((created) => created.dispose()));
  });

  it('gives each function only its own variables plus the Lambda environment', async () => {
    // GIVEN
    process.env.SHARDFLOW_PARENT_ONLY = 'must-not-leak';
    const sdkEnvironment = { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ACCESS_KEY_ID: 'test' };
    const first = host(
      { functionName: 'first', handler: 'handlers.env', environment: { ONLY_FIRST: '1' } },
      { sdkEnvironment },
    );
    const second = host(
      { functionName: 'second', handler: 'handlers.env', environment: { ONLY_SECOND: '2' } },
      { sdkEnvironment },
    );

    // WHEN
    const [firstEnv, secondEnv] = (await Promise.all([first.invoke({}), second.invoke({})])).map(
      payload,
    );

    // THEN
    expect(firstEnv).toMatchObject({
      ONLY_FIRST: '1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_LAMBDA_FUNCTION_NAME: 'first',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_REGION: 'eu-central-1',
      LAMBDA_TASK_ROOT: HANDLERS,
      TZ: 'UTC',
      _HANDLER: 'handlers.env',
    });
    expect(firstEnv).not.toHaveProperty('ONLY_SECOND');
    expect(secondEnv).toMatchObject({ ONLY_SECOND: '2', AWS_LAMBDA_FUNCTION_NAME: 'second' });
    expect(secondEnv).not.toHaveProperty('ONLY_FIRST');
    expect(firstEnv).not.toHaveProperty('SHARDFLOW_PARENT_ONLY');
    expect(firstEnv).not.toHaveProperty('JEST_WORKER_ID');
    expect(String(firstEnv?.NODE_PATH)).toMatch(/node_modules$/);
    delete process.env.SHARDFLOW_PARENT_ONLY;
  });

  it('provides the @aws-sdk packages that bundles leave out, as Lambda does', async () => {
    // WHEN
    const result = await host({ handler: 'handlers.sdk' }).invoke({});

    // THEN
    expect(payload(result)).toBe('function');
  });

  it('passes a Lambda context whose remaining time honours Timeout', async () => {
    // WHEN
    const result = await host({ handler: 'handlers.context', timeoutSeconds: 7 }).invoke({});

    // THEN
    const context = payload(result);
    expect(context).toMatchObject({
      awsRequestId: result.requestId,
      functionName: 'test-fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:test-fn',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/test-fn',
      callbackWaitsForEmptyEventLoop: true,
      cwd: HANDLERS,
    });
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.remainingTimeInMillis).toBeGreaterThan(6_000);
    expect(context.remainingTimeInMillis).toBeLessThanOrEqual(7_000);
  });

  it('reuses a warm worker for sequential invocations', async () => {
    // GIVEN
    const echo = host();

    // WHEN
    const first = payload(await echo.invoke({ n: 1 }));
    const second = payload(await echo.invoke({ n: 2 }));

    // THEN
    expect(second.pid).toBe(first.pid);
    expect(second).toMatchObject({ event: { n: 2 }, invocations: 2 });
    expect(echo.stats).toEqual({ invocations: 2, errors: 0, workers: 1, busy: 0 });
  });

  it('grows the pool for concurrent invocations', async () => {
    // GIVEN
    const sleeper = host({ handler: 'handlers.sleep' });

    // WHEN
    const results = await Promise.all([sleeper.invoke({ ms: 300 }), sleeper.invoke({ ms: 300 })]);

    // THEN
    const [a, b] = results.map(payload);
    expect(a?.pid).not.toBe(b?.pid);
    expect(sleeper.stats.workers).toBe(2);
  });

  it('fails an invocation that exceeds Timeout, then replaces the worker', async () => {
    // GIVEN
    const sleeper = host({ handler: 'handlers.sleep', timeoutSeconds: 1 });
    const warm = payload(await sleeper.invoke({ ms: 1 }));

    // WHEN
    const started = Date.now();
    const result = await sleeper.invoke({ ms: 5_000 });

    // THEN
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toMatchObject({
      ok: false,
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 1.00 seconds`,
      },
    });
    expect(await waitUntilDead(Number(warm.pid))).toBe(true);
    const next = payload(await sleeper.invoke({ ms: 1 }));
    expect(next.pid).not.toBe(warm.pid);
  });

  it('fails with Runtime.ExitError when the worker exits, then replaces it', async () => {
    // GIVEN
    const crasher = host({ handler: 'handlers.exit' });

    // WHEN
    const result = await crasher.invoke({ code: 3 });

    // THEN
    expect(result).toMatchObject({
      ok: false,
      error: {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 3`,
      },
    });
    expect(crasher.stats.errors).toBe(1);
    const echo = await crasher.invoke({ code: 4 });
    expect(echo.ok).toBe(false); // a fresh worker ran (and exited) again
  });

  it('reports a handler error with errorType, errorMessage and stackTrace', async () => {
    // WHEN
    const result = await host({ handler: 'handlers.fail' }).invoke({ message: 'value missing' });

    // THEN
    expect(result).toMatchObject({
      ok: false,
      error: { errorType: 'ValidationError', errorMessage: 'value missing' },
    });
    expect(result.ok || result.error.stackTrace?.[0]).toBe('ValidationError: value missing');
  });

  it('supports callback-style handlers', async () => {
    expect(payload(await host({ handler: 'handlers.callback' }).invoke({ value: 21 }))).toEqual({
      doubled: 42,
    });
  });

  it('forwards worker stdout and stderr lines to the log sink, prefixed with the function name', async () => {
    // GIVEN
    const lines: string[] = [];
    const logger = host(
      { functionName: 'talker', handler: 'handlers.log' },
      {
        log: (line: string) => lines.push(line),
      },
    );

    // WHEN
    await logger.invoke({ name: 'world' });
    await sleep(100);

    // THEN
    expect(lines).toEqual(
      expect.arrayContaining(['[talker] hello world', '[talker] warning world']),
    );
  });

  it('fails with Runtime.HandlerNotFound when the export does not exist', async () => {
    // WHEN
    const result = await host({ handler: 'handlers.nothing' }).invoke({});

    // THEN
    expect(result).toMatchObject({
      ok: false,
      error: {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'handlers.nothing is undefined or not exported',
      },
    });
  });

  it('fails with Runtime.ImportModuleError when the handler file does not exist', async () => {
    expect(await host({ handler: 'missing.handler' }).invoke({})).toMatchObject({
      ok: false,
      error: { errorType: 'Runtime.ImportModuleError' },
    });
  });

  it('fails with Runtime.ImportModuleError on an absolute Handler, loading nothing outside the code', async () => {
    // GIVEN a Handler naming a module outside the code directory by its absolute path
    const { code, outside, ran } = codeBesideOutside();

    // WHEN
    const result = await host({ codeDirectory: code, handler: `${outside}/evil.handler` }).invoke(
      {},
    );

    // THEN
    expect(result).toMatchObject({
      ok: false,
      error: {
        errorType: 'Runtime.ImportModuleError',
        errorMessage: `Cannot find module '${outside}/evil': the local runtime loads handlers only from the function's code directory (absolute paths such as Lambda layers under /opt are not emulated)`,
      },
    });
    expect(existsSync(ran)).toBe(false);
  });

  it("fails with Runtime.MalformedHandlerName on a Handler with '..', as Lambda does", async () => {
    // GIVEN
    const { code, ran } = codeBesideOutside();

    // WHEN
    const result = await host({ codeDirectory: code, handler: '../outside/evil.handler' }).invoke(
      {},
    );

    // THEN
    expect(result).toMatchObject({
      ok: false,
      error: {
        errorType: 'Runtime.MalformedHandlerName',
        errorMessage:
          "'../outside/evil.handler' is not a valid handler name: it must not contain '..'",
      },
    });
    expect(existsSync(ran)).toBe(false);
  });

  it('fails with Runtime.ImportModuleError on a handler module that leads out of the code by a link or package.json', async () => {
    // GIVEN link.js -> ../outside/evil.js, and a folder module whose package.json main leads outside
    const { code, outside, ran } = codeBesideOutside();
    symlinkSync(join(outside, 'evil.js'), join(code, 'link.js'));
    mkdirSync(join(code, 'pkg'));
    writeFileSync(
      join(code, 'pkg', 'package.json'),
      JSON.stringify({ main: '../../outside/evil.js' }),
    );

    // WHEN
    const linked = await host({ codeDirectory: code, handler: 'link.handler' }).invoke({});
    const packaged = await host({ codeDirectory: code, handler: 'pkg.handler' }).invoke({});

    // THEN
    for (const result of [linked, packaged]) {
      expect(result).toMatchObject({
        ok: false,
        error: { errorType: 'Runtime.ImportModuleError' },
      });
      expect(result.ok ? '' : result.error.errorMessage).toContain(
        `resolves to ${join(outside, 'evil.js')}, outside the function's code directory ${code}`,
      );
    }
    expect(existsSync(ran)).toBe(false);
  });

  it('resolves packages in the code and in NODE_PATH only, never in a node_modules above the code', async () => {
    // GIVEN a package inside the code, and one of the same kind in a node_modules above it (as
    // /tmp/node_modules, which anyone may create), loading which writes `ran`
    const { code, ran } = codeBesideOutside();
    const base = join(code, '..');
    mkdirSync(join(code, 'node_modules', 'inside'), { recursive: true });
    writeFileSync(join(code, 'node_modules', 'inside', 'index.js'), 'module.exports = "inside";');
    mkdirSync(join(base, 'node_modules', 'above'), { recursive: true });
    writeFileSync(
      join(base, 'node_modules', 'above', 'index.js'),
      `require('node:fs').writeFileSync(${JSON.stringify(ran)}, 'loaded'); module.exports = 'above';`,
    );
    writeFileSync(
      join(code, 'packages.js'),
      `exports.inside = async () => require('inside');
       exports.above = async () => require('above');
       exports.sdk = async () => typeof require('@aws-sdk/client-kinesis').KinesisClient;`,
    );

    // WHEN
    const invoke = (handler: string) => host({ codeDirectory: code, handler }).invoke({});
    const [inside, above, sdk] = await Promise.all(
      ['packages.inside', 'packages.above', 'packages.sdk'].map(invoke),
    );

    // THEN
    expect(payload(inside as InvocationResult)).toBe('inside');
    expect(payload(sdk as InvocationResult)).toBe('function');
    expect(above).toMatchObject({ ok: false, error: { errorType: 'Error' } });
    expect(above?.ok ? '' : above?.error.errorMessage).toContain("Cannot find module 'above'");
    expect(existsSync(ran)).toBe(false);
  });

  it('loads a handler from a subfolder of the code directory', async () => {
    // GIVEN
    const { code } = codeBesideOutside();

    // WHEN
    const result = await host({ codeDirectory: code, handler: 'sub/mod.handler' }).invoke({});

    // THEN
    expect(payload(result)).toEqual({ ran: join(code, 'sub', 'mod.js') });
  });

  it('kills every worker on dispose and refuses further invocations', async () => {
    // GIVEN
    const echo = host();
    const { pid } = payload(await echo.invoke({}));

    // WHEN
    await echo.dispose();

    // THEN
    expect(isAlive(Number(pid))).toBe(false);
    await expect(echo.invoke({})).rejects.toThrow(FunctionHostDisposedError);
  });

  it('has workers exit when their parent dies', async () => {
    // GIVEN a parent process that starts a worker, reports its pid, and is then killed
    const script = `
      const { fork } = require('node:child_process');
      const child = fork(${JSON.stringify(BOOTSTRAP_PATH)}, [], {
        env: { _HANDLER: 'handlers.echo', LAMBDA_TASK_ROOT: ${JSON.stringify(HANDLERS)} },
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      });
      child.on('message', (m) => { if (m.type === 'ready') process.stdout.write(String(child.pid) + '\\n'); });
    `;
    const parent = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const workerPid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    expect(isAlive(workerPid)).toBe(true);

    // WHEN
    parent.kill('SIGKILL');

    // THEN
    expect(await waitUntilDead(workerPid)).toBe(true);
  });
});
