import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalState } from '#local/cli/localState';
import { alive, shardflow } from '#test/helpers/cliProcess';
import { plantLocalState } from '#test/helpers/plantLocalState';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
/** What an older version left under umask 022: a readable folder and file. */
const READABLE = { folder: 0o755, file: 0o644 } as const;

/** Every entry under `roots` (the roots too) that is not a 0700 folder or a 0600 file. */
function notPrivate(roots: readonly string[]): string[] {
  const found: string[] = [];
  const visit = (entry: string): void => {
    const stats = fs.lstatSync(entry);
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    if (stats.isDirectory()) {
      if (mode !== '0700') found.push(`${mode} ${entry}/`);
      for (const name of fs.readdirSync(entry)) visit(path.join(entry, name));
    } else if (!stats.isFile() || mode !== '0600') {
      found.push(`${mode} ${entry}${stats.isSymbolicLink() ? ' (link)' : ''}`);
    }
  };
  for (const root of roots) visit(root);
  return found;
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('shardflow local: stale state files and private data', () => {
  let workDir: string;
  let stateDir: string;
  let state: LocalState | undefined;
  const sleepers: ChildProcess[] = [];

  /** A live process that has nothing to do with shardflow. */
  const unrelatedProcess = (): ChildProcess => {
    const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    sleepers.push(sleeper);
    return sleeper;
  };

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-local-security-'));
    stateDir = path.join(workDir, 'state');
  });

  afterAll(async () => {
    // Whatever a failed test left running goes, so no engine outlives the suite.
    for (const pid of [state?.pid, ...(state?.enginePids ?? [])]) {
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    }
    for (const sleeper of sleepers) {
      sleeper.kill('SIGKILL');
      await exited(sleeper);
    }
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  // PIDs -1, 0 and 1 are refused by test/unit/local/cli/local.test.ts with process.kill stubbed, not
  // here: through the real CLI, a regression would signal every process of the user, the test's own
  // process group, or init.
  it('local down leaves alone a live process that a stale local.json names', async () => {
    // GIVEN a local.json whose runtime is gone and whose PID another process has now
    const sleeper = unrelatedProcess();
    const file = plantLocalState(
      workDir,
      { pid: sleeper.pid, identity: { startTime: '1', bootId: 'a-boot-long-ago' } },
      READABLE,
    );

    // WHEN
    const down = await shardflow(workDir, ['local', 'down']);

    // THEN
    expect(down.stdout).toContain(`was stale: another process has taken pid ${sleeper.pid}`);
    expect(down.code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alive(sleeper.pid)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('local up starts despite a stale local.json and keeps every file it writes private', async () => {
    // GIVEN what an older version left under umask 022: readable folders and files, and a
    // local.json without identity naming a PID that an unrelated process has now
    const sleeper = unrelatedProcess();
    plantLocalState(workDir, { pid: sleeper.pid }, READABLE);
    fs.chmodSync(path.join(workDir, '.shardflow'), 0o755);
    fs.writeFileSync(path.join(workDir, '.shardflow', 'local.log'), 'old log\n', { mode: 0o644 });
    fs.mkdirSync(path.join(stateDir, 'esm'), { recursive: true, mode: 0o755 });
    fs.chmodSync(stateDir, 0o755);
    fs.chmodSync(path.join(stateDir, 'esm'), 0o755);
    fs.writeFileSync(path.join(stateDir, 'esm', 'leftover.json'), '{}\n', { mode: 0o644 });

    // WHEN
    const up = await shardflow(workDir, [
      'local',
      'up',
      '--detach',
      '--app',
      PROJECT_ROOT,
      '--state-dir',
      stateDir,
    ]);

    // THEN it started, and the unrelated process lives on
    expect(up.stderr).not.toContain('already running');
    expect(up.code).toBe(0);
    expect(up.stderr).toContain(
      `ignoring .shardflow/local.json: cannot verify that pid ${sleeper.pid}`,
    );
    expect(alive(sleeper.pid)).toBe(true);
    state = JSON.parse(
      fs.readFileSync(path.join(workDir, '.shardflow/local.json'), 'utf8'),
    ) as LocalState;
    expect(state.identity?.startTime).toMatch(/^\d+$/);

    // WHEN records flow, so that stream data and checkpoints are written
    const events = [1, 2, 3].map((n) => JSON.stringify({ id: `e${n}`, value: n })).join('\n');
    const send = await shardflow(
      workDir,
      ['send', 'numbers', '-', '--partition-key', 'id'],
      `${events}\n`,
    );
    const tail = await shardflow(workDir, [
      'tail',
      'numbers-doubled',
      '--from-start',
      '--max',
      '3',
      '--idle-timeout',
      '90',
    ]);
    expect(send.code).toBe(0);
    expect(tail.code).toBe(0);
    const written = [
      'kinesis/kinesis-data.json',
      'dynamodb/shared-local-instance.db',
      'esm/checkpoints.json',
      'tls/ca.pem',
      'tls/server.json',
    ].map((file) => path.join(stateDir, file));
    await eventually(() => written.every((file) => fs.existsSync(file)), 15_000);

    // THEN every folder is 0700 and every file 0600, what was there before included
    expect(written.filter((file) => !fs.existsSync(file))).toEqual([]);
    const roots = [path.join(workDir, '.shardflow'), stateDir];
    expect(notPrivate(roots)).toEqual([]);

    // WHEN it is stopped
    const down = await shardflow(workDir, ['local', 'down']);

    // THEN the runtime is gone, the unrelated process is not, and what the stop wrote is private too
    expect(down.stdout).toContain(`stopped the local runtime (pid ${state.pid})`);
    expect(down.code).toBe(0);
    for (const pid of [state.pid, ...state.enginePids]) {
      expect(alive(pid)).toBe(false);
    }
    expect(alive(sleeper.pid)).toBe(true);
    expect(notPrivate(roots)).toEqual([]);
  }, 300_000);
  it('stops the whole runtime when an engine dies, so nothing sends to its freed port', async () => {
    // GIVEN a runtime in the background
    const project = fs.mkdtempSync(path.join(workDir, 'engine-death-'));
    const up = await shardflow(project, ['local', 'up', '--detach', '--app', PROJECT_ROOT]);
    expect(up.code).toBe(0);
    const file = path.join(project, '.shardflow/local.json');
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as LocalState;
    const [kinesisMock, ...otherEngines] = state.enginePids;

    // WHEN kinesis-mock dies on its own (a crash, an out-of-memory kill): its port is anyone's now
    process.kill(kinesisMock as number, 'SIGKILL');

    // THEN the runtime withdraws its state file at once, stops everything and exits
    await eventually(() => !fs.existsSync(file), 15_000);
    expect(fs.existsSync(file)).toBe(false);
    await eventually(() => ![state?.pid, ...otherEngines].some((pid) => alive(pid)), 60_000);
    expect([state.pid, ...otherEngines].filter((pid) => alive(pid))).toEqual([]);
    expect(fs.readFileSync(path.join(project, '.shardflow/local.log'), 'utf8')).toMatch(
      /kinesis \(pid \d+\) exited on its own \(SIGKILL\); stopping the local runtime/,
    );
    // … and `send` refuses instead of sending to the freed port
    const send = await shardflow(project, ['send', 'numbers', '-'], '{"id":"e1","value":1}\n');
    expect(send.code).toBe(1);
    expect(send.stderr).toContain('no local runtime is running here');
  }, 300_000);
});
