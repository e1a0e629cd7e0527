import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localDown } from '#local/cli/local';
import { runningRuntime } from '#local/cli/localState';
import type { ProcessDetails, ProcessIdentity, ProcessTable } from '#local/cli/processIdentity';
import { systemProcessTable } from '#local/cli/processIdentity';
import { plantLocalState } from '#test/helpers/plantLocalState';

const RUNTIME_PID = 4242;
const RUNTIME: ProcessIdentity = { startTime: '1234567', bootId: 'boot-a' };
const UID = process.getuid?.() ?? 0;
/** What a runtime started with `npx shardflow local up` runs. */
const RUNTIME_DETAILS: ProcessDetails = {
  uid: UID,
  argv: ['node', '/project/node_modules/.bin/shardflow', 'local', 'up', '--app', '.'],
};

/**
 * A process table of `processes`; `onSignal` plays what a process does on a signal. Every process is a
 * runtime of this user's unless `details` says otherwise.
 */
function fakeProcessTable(
  processes: Map<number, ProcessIdentity>,
  onSignal: (pid: number, signal: NodeJS.Signals) => void = () => undefined,
  details: ProcessDetails = RUNTIME_DETAILS,
): ProcessTable & { readonly signals: Array<[number, NodeJS.Signals]> } {
  const signals: Array<[number, NodeJS.Signals]> = [];
  return {
    signals,
    identify: (pid) => processes.get(pid),
    inspect: (pid) => (processes.has(pid) ? details : undefined),
    signal: (pid, signal) => {
      signals.push([pid, signal]);
      onSignal(pid, signal);
    },
  };
}

/**
 * A live process of this user's that looks like a runtime to `ps` and /proc: node running a script
 * named `shardflow.js` with `local up`.
 */
function fakeRuntimeProcess(dir: string): ChildProcess {
  const script = path.join(dir, 'shardflow.js');
  fs.writeFileSync(script, 'setInterval(() => undefined, 1000);\n');
  return spawn(process.execPath, [script, 'local', 'up'], { stdio: 'ignore' });
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
      const file = plantLocalState(projectDir, { pid });
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
    const file = plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
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
    plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
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
    const file = plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
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
    const file = plantLocalState(projectDir, { pid: RUNTIME_PID });
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
    const file = plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
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
    plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
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
    plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const running = new Map([[RUNTIME_PID, RUNTIME]]);
    const processes = fakeProcessTable(running, (pid) => {
      running.set(pid, { startTime: '7654321', bootId: 'boot-a' });
    });

    // WHEN
    await localDown({ projectDir, processes, stopTimeoutMs: 300 });

    // THEN
    expect(processes.signals).toEqual([[RUNTIME_PID, 'SIGTERM']]);
  });

  it('fails without signalling on a runtime of another user', async () => {
    // GIVEN the recorded identity and command line, but another user's process
    const file = plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const processes = fakeProcessTable(new Map([[RUNTIME_PID, RUNTIME]]), undefined, {
      ...RUNTIME_DETAILS,
      uid: UID + 1,
    });

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([]);
    expect(code).toBe(1);
    expect(output.join('')).toContain(
      `.shardflow/local.json names a process that is not your local runtime: pid ${RUNTIME_PID} is a process of uid ${UID + 1}, not yours (uid ${UID}). Nothing was stopped`,
    );
    expect(fs.existsSync(file)).toBe(true);
  });

  it('fails without signalling on a .shardflow folder of another user', async () => {
    // GIVEN a file as `local up` writes it, in a folder of another user's
    const file = plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
    const dir = path.join(projectDir, '.shardflow');
    const owner = fs.statSync(dir).uid;
    jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);
    const processes = fakeProcessTable(new Map([[RUNTIME_PID, RUNTIME]]), undefined, {
      ...RUNTIME_DETAILS,
      uid: owner + 1,
    });

    // WHEN
    const code = await localDown({ projectDir, processes });

    // THEN
    expect(processes.signals).toEqual([]);
    expect(code).toBe(1);
    expect(output.join('')).toContain(
      `shardflow: not trusting .shardflow/local.json: ${dir} is owned by uid ${owner}, not by you (uid ${owner + 1})`,
    );
    expect(fs.existsSync(file)).toBe(true);
  });

  describe('with real processes', () => {
    let sleeper: ChildProcess;
    let runtime: ChildProcess | undefined;

    beforeEach(() => {
      // Signals go to real processes again, but only to this test's own children.
      kill.mockRestore();
      sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
      runtime = undefined;
    });

    afterEach(async () => {
      for (const child of [sleeper, runtime]) {
        if (child !== undefined && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited(child);
        }
      }
    });

    /** Whether `child` still runs after a while, unsignalled. */
    const stillRuns = async (child: ChildProcess): Promise<boolean> => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return child.exitCode === null && child.signalCode === null;
    };

    it.each([
      ['a recorded identity of another process', { startTime: '1', bootId: 'another-boot' }],
      ['no recorded identity', undefined],
    ])('does not stop an unrelated live process named with %s', async (_, identity) => {
      // GIVEN a planted or stale file naming a live, unrelated process
      plantLocalState(projectDir, { pid: sleeper.pid, identity });

      // WHEN
      await localDown({ projectDir });

      // THEN
      expect(await stillRuns(sleeper)).toBe(true);
      expect(output.join('')).not.toContain('stopped the local runtime');
    });

    it.each([
      ['.shardflow', '0777'],
      ['.shardflow', '0770'],
      ['.shardflow/local.json', '0666'],
      ['.shardflow/local.json', '0620'],
    ])(
      'fails without signalling an unrelated process whose public identity a local.json records when %s has mode %s',
      async (entry, mode) => {
        // GIVEN start time and boot id of an unrelated process, which anyone can read in /proc, in a
        // file that others may have written
        const pid = sleeper.pid as number;
        const file = plantLocalState(projectDir, {
          pid,
          identity: systemProcessTable.identify(pid),
        });
        fs.chmodSync(path.join(projectDir, entry), Number.parseInt(mode, 8));

        // WHEN
        const code = await localDown({ projectDir, stopTimeoutMs: 1_000 });

        // THEN
        expect(code).toBe(1);
        expect(await stillRuns(sleeper)).toBe(true);
        expect(output.join('')).toContain(
          `shardflow: not trusting .shardflow/local.json: ${path.join(projectDir, entry)} is writable by group or others (mode ${mode}). Another user may have written it, so nothing was stopped`,
        );
        expect(fs.existsSync(file)).toBe(true);
      },
    );

    it('fails without signalling when a folder above the project lets others replace .shardflow', async () => {
      // GIVEN a project in a folder everyone may write to (not sticky)
      const shared = path.join(projectDir, 'shared');
      const project = path.join(shared, 'project');
      fs.mkdirSync(project, { recursive: true });
      fs.chmodSync(shared, 0o777);
      const pid = sleeper.pid as number;
      plantLocalState(project, { pid, identity: systemProcessTable.identify(pid) });

      // WHEN
      const code = await localDown({ projectDir: project, stopTimeoutMs: 1_000 });

      // THEN
      expect(code).toBe(1);
      expect(await stillRuns(sleeper)).toBe(true);
      expect(output.join('')).toContain(
        `${shared} is writable by group or others (mode 0777) and not sticky`,
      );
    });

    it('fails without signalling a process of this user that is not a shardflow runtime', async () => {
      // GIVEN a private file with the identity of an unrelated process
      const pid = sleeper.pid as number;
      const file = plantLocalState(projectDir, { pid, identity: systemProcessTable.identify(pid) });

      // WHEN
      const code = await localDown({ projectDir, stopTimeoutMs: 1_000 });

      // THEN
      expect(code).toBe(1);
      expect(await stillRuns(sleeper)).toBe(true);
      expect(output.join('')).toContain(
        `.shardflow/local.json names a process that is not your local runtime: pid ${pid} is not a shardflow local runtime: it runs \`sleep 60\`. Nothing was stopped`,
      );
      expect(fs.existsSync(file)).toBe(true);
    });

    it('stops the runtime whose identity the file records', async () => {
      // GIVEN
      runtime = fakeRuntimeProcess(projectDir);
      const pid = runtime.pid as number;
      const file = plantLocalState(projectDir, { pid, identity: systemProcessTable.identify(pid) });

      // WHEN
      const code = await localDown({ projectDir });
      await exited(runtime);

      // THEN
      expect(code).toBe(0);
      expect(runtime.signalCode).toBe('SIGTERM');
      expect(output.join('')).toContain(`stopped the local runtime (pid ${pid})`);
      expect(fs.existsSync(file)).toBe(false);
      expect(await stillRuns(sleeper)).toBe(true);
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
    plantLocalState(projectDir, { pid: RUNTIME_PID, identity: RUNTIME });
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
    [
      'a file naming a process that is not a runtime',
      { pid: RUNTIME_PID, identity: { startTime: '9999999', bootId: 'boot-a' } },
    ],
  ])('is nothing, with a note, for %s', (_, fields) => {
    // GIVEN
    plantLocalState(projectDir, fields);
    const processes = fakeProcessTable(
      new Map([[RUNTIME_PID, { startTime: '9999999', bootId: 'boot-a' }]]),
      undefined,
      { uid: UID, argv: ['sleep', '60'] },
    );

    // WHEN
    const running = runningRuntime(projectDir, processes);

    // THEN
    expect(running).toBeUndefined();
    expect(output.join('')).toContain('shardflow: ignoring');
  });
});
