import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localDown, runningRuntime } from '#local/cli/local';
import type { ProcessIdentity, ProcessTable } from '#local/cli/processIdentity';
import { systemProcessTable } from '#local/cli/processIdentity';

const RUNTIME_PID = 4242;
const RUNTIME: ProcessIdentity = { startTime: '1234567', bootId: 'boot-a' };

/** A state file as `local up` writes it, or as someone planted it. */
function plantState(projectDir: string, fields: Record<string, unknown>): string {
  const file = path.join(projectDir, '.shardflow', 'local.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      enginePids: [],
      startedAt: new Date(0).toISOString(),
      cdkOut: 'cdk.out',
      endpoints: {},
      names: {},
      ...fields,
    }),
  );
  return file;
}

/** A process table of `processes`; `onSignal` plays what a process does on a signal. */
function fakeProcessTable(
  processes: Map<number, ProcessIdentity>,
  onSignal: (pid: number, signal: NodeJS.Signals) => void = () => undefined,
): ProcessTable & { readonly signals: Array<[number, NodeJS.Signals]> } {
  const signals: Array<[number, NodeJS.Signals]> = [];
  return {
    signals,
    identify: (pid) => processes.get(pid),
    signal: (pid, signal) => {
      signals.push([pid, signal]);
      onSignal(pid, signal);
    },
  };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('localDown', () => {
  let projectDir: string;
  let cwd: string;
  let output: string[];
  let kill: jest.SpyInstance;
  let killed: Array<[number, string | number | undefined]>;

  beforeEach(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-down-test-'));
    cwd = process.cwd();
    // The CLI works in the current directory.
    process.chdir(projectDir);
    output = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      output.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    // Nothing here may signal a real process: every signal is recorded, and a signalled "process"
    // is gone afterwards.
    killed = [];
    kill = jest.spyOn(process, 'kill').mockImplementation((pid, signal) => {
      if (signal === 0 && killed.some(([k]) => k === pid)) {
        throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
      }
      if (signal !== 0) killed.push([pid, signal]);
      return true;
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    process.chdir(cwd);
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it.each([-1, 0, 1, 'abc', 1.5])(
    'fails on a state file naming pid %p, signalling nothing and removing the file',
    async (pid) => {
      // GIVEN
      const file = plantState(projectDir, { pid });
      const processes = fakeProcessTable(new Map([[RUNTIME_PID, RUNTIME]]));

      // WHEN
      const code = await localDown({ projectDir, processes });

      // THEN
      expect(kill).not.toHaveBeenCalled();
      expect(processes.signals).toEqual([]);
      expect(code).toBe(1);
      expect(output.join('')).toContain(
        `.shardflow/local.json is invalid (pid must be an integer greater than 1, got ${JSON.stringify(pid)}); removed it, nothing was stopped`,
      );
      expect(fs.existsSync(file)).toBe(false);
    },
  );

  it('does not signal a process that has taken the PID over, and removes the stale file', async () => {
    // GIVEN the runtime died and its PID went to another process
    const file = plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const processes = fakeProcessTable(
      new Map([[RUNTIME_PID, { startTime: '9999999', bootId: 'boot-a' }]]),
    );

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([]);
    expect(kill).not.toHaveBeenCalledWith(RUNTIME_PID, expect.anything());
    expect(code).toBe(0);
    expect(output.join('')).toContain(
      `.shardflow/local.json was stale: another process has taken pid ${RUNTIME_PID}; removed it, nothing was stopped`,
    );
    expect(fs.existsSync(file)).toBe(false);
  });

  it('does not signal a process with the recorded start time of another boot', async () => {
    // GIVEN
    plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const processes = fakeProcessTable(new Map([[RUNTIME_PID, { ...RUNTIME, bootId: 'boot-b' }]]));

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([]);
    expect(kill).not.toHaveBeenCalledWith(RUNTIME_PID, expect.anything());
    expect(code).toBe(0);
    expect(output.join('')).toContain('was stale');
  });

  it('removes a stale file whose PID no process has', async () => {
    // GIVEN
    const file = plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const processes = fakeProcessTable(new Map());

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([]);
    expect(code).toBe(0);
    expect(output.join('')).toContain(`was stale: no process has pid ${RUNTIME_PID}`);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('fails without signalling when the file records no identity and the PID is alive', async () => {
    // GIVEN a file of an older version, or one planted without an identity
    const file = plantState(projectDir, { pid: RUNTIME_PID });
    const processes = fakeProcessTable(new Map([[RUNTIME_PID, RUNTIME]]));

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([]);
    expect(kill).not.toHaveBeenCalledWith(RUNTIME_PID, expect.anything());
    expect(code).toBe(1);
    expect(output.join('')).toContain(
      `cannot verify that pid ${RUNTIME_PID} is the local runtime .shardflow/local.json names`,
    );
    expect(fs.existsSync(file)).toBe(true);
  });

  it('stops the runtime that wrote the file and waits until it is gone', async () => {
    // GIVEN
    const file = plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const running = new Map([[RUNTIME_PID, RUNTIME]]);
    const processes = fakeProcessTable(running, (pid) => {
      setTimeout(() => running.delete(pid), 150);
    });

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([[RUNTIME_PID, 'SIGTERM']]);
    expect(running.size).toBe(0);
    expect(code).toBe(0);
    expect(output.join('')).toContain(`stopped the local runtime (pid ${RUNTIME_PID})`);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('kills a runtime that does not stop on SIGTERM in time', async () => {
    // GIVEN
    plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const running = new Map([[RUNTIME_PID, RUNTIME]]);
    const processes = fakeProcessTable(running, (pid, signal) => {
      if (signal === 'SIGKILL') running.delete(pid);
    });

    // WHEN
    const code = await localDown({ projectDir, processes, stopTimeoutMs: 300 });

    // THEN
    expect(processes.signals).toEqual([
      [RUNTIME_PID, 'SIGTERM'],
      [RUNTIME_PID, 'SIGKILL'],
    ]);
    expect(code).toBe(0);
  });

  it('does not kill a process that took the PID over while the runtime was stopping', async () => {
    // GIVEN the runtime exits on SIGTERM and its PID is reused at once
    plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const running = new Map([[RUNTIME_PID, RUNTIME]]);
    const processes = fakeProcessTable(running, (pid) => {
      running.set(pid, { startTime: '7654321', bootId: 'boot-a' });
    });

    // WHEN
    await localDown({ projectDir, processes, stopTimeoutMs: 300 });

    // THEN
    expect(processes.signals).toEqual([[RUNTIME_PID, 'SIGTERM']]);
  });

  describe('with real processes', () => {
    let sleeper: ChildProcess;

    beforeEach(() => {
      // Signals go to real processes again, but only to this test's own `sleep`.
      kill.mockRestore();
      sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    });

    afterEach(async () => {
      if (sleeper.exitCode === null && sleeper.signalCode === null) {
        sleeper.kill('SIGKILL');
        await exited(sleeper);
      }
    });

    it.each([
      ['a recorded identity of another process', { startTime: '1', bootId: 'another-boot' }],
      ['no recorded identity', undefined],
    ])('does not stop an unrelated live process named with %s', async (_, identity) => {
      // GIVEN a planted or stale file naming a live, unrelated process
      plantState(projectDir, { pid: sleeper.pid, identity });

      // WHEN
      await localDown({ projectDir });
      await new Promise((resolve) => setTimeout(resolve, 200));

      // THEN
      expect(sleeper.exitCode).toBeNull();
      expect(sleeper.signalCode).toBeNull();
      expect(output.join('')).not.toContain('stopped the local runtime');
    });

    it('stops the process whose identity the file records', async () => {
      // GIVEN
      const pid = sleeper.pid as number;
      plantState(projectDir, { pid, identity: systemProcessTable.identify(pid) });

      // WHEN
      const code = await localDown({ projectDir });
      await exited(sleeper);

      // THEN
      expect(code).toBe(0);
      expect(sleeper.signalCode).toBe('SIGTERM');
      expect(output.join('')).toContain(`stopped the local runtime (pid ${pid})`);
    });
  });
});

describe('runningRuntime', () => {
  let projectDir: string;
  let output: string[];

  beforeEach(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-up-test-'));
    output = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it('is the runtime the file names while that process runs', () => {
    // GIVEN
    plantState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const processes = fakeProcessTable(new Map([[RUNTIME_PID, RUNTIME]]));

    // WHEN
    const running = runningRuntime(projectDir, processes);

    // THEN
    expect(running?.pid).toBe(RUNTIME_PID);
  });

  it.each([
    ['a stale file whose PID another process has', { pid: RUNTIME_PID, identity: RUNTIME }],
    ['a file without identity whose PID is alive', { pid: RUNTIME_PID }],
    ['an invalid file', { pid: -1 }],
  ])('is nothing, with a note, for %s', (_, fields) => {
    // GIVEN
    plantState(projectDir, fields);
    const processes = fakeProcessTable(
      new Map([[RUNTIME_PID, { startTime: '9999999', bootId: 'boot-a' }]]),
    );

    // WHEN
    const running = runningRuntime(projectDir, processes);

    // THEN
    expect(running).toBeUndefined();
    expect(output.join('')).toContain('shardflow: ignoring');
  });
});
