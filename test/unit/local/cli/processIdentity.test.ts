import { type ChildProcess, spawn } from 'node:child_process';
import {
  identifyWithProc,
  identifyWithPs,
  inspectWithProc,
  inspectWithPs,
  isValidPid,
  parseProcStat,
  parseProcStatusUid,
  sameProcess,
  systemProcessTable,
} from '#local/cli/processIdentity';

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('isValidPid', () => {
  it.each([-1, 0, 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '123', 'abc', null])(
    'rejects %p',
    (value) => {
      expect(isValidPid(value)).toBe(false);
    },
  );

  it.each([2, 4_194_304])('accepts %p', (value) => {
    expect(isValidPid(value)).toBe(true);
  });
});

describe('parseProcStat', () => {
  it('counts fields after the last parenthesis of the command name', () => {
    // GIVEN a command name with spaces and parentheses
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    const line = `4242 (a) b (c)) ${fields.join(' ')}\n`;

    // WHEN
    const parsed = parseProcStat(line);

    // THEN field 3 is the state, field 22 the start time
    expect(parsed).toEqual({ state: 'S', startTime: '22' });
  });

  it('fails on a line without a start time', () => {
    expect(() => parseProcStat('4242 (node) S 1 2')).toThrow('unexpected /proc/<pid>/stat line');
  });
});

describe.each([
  ['/proc', identifyWithProc],
  ['ps', identifyWithPs],
])('identify with %s', (_, identify) => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('gives a process the same identity every time, and another process another one', () => {
    // GIVEN
    child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const pid = child.pid as number;

    // WHEN
    const own = identify(process.pid);
    const again = identify(process.pid);
    const other = identify(pid);

    // THEN
    expect(own).toBeDefined();
    expect(sameProcess(again, own as NonNullable<typeof own>)).toBe(true);
    expect(other).toBeDefined();
    expect(sameProcess(other, own as NonNullable<typeof own>)).toBe(false);
  });

  it('finds no process once it has exited', async () => {
    // GIVEN
    child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const pid = child.pid as number;
    child.kill('SIGKILL');
    await exited(child);

    // WHEN
    const identity = identify(pid);

    // THEN
    expect(identity).toBeUndefined();
  });

  it('finds nothing for PIDs that address groups or init', () => {
    expect([-1, 0, 1].map((pid) => identify(pid))).toEqual([undefined, undefined, undefined]);
  });
});

describe('parseProcStatusUid', () => {
  it('is the real uid, the first of the Uid line', () => {
    expect(
      parseProcStatusUid('Name:\tnode\nUmask:\t0077\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n'),
    ).toBe(1000);
  });

  it('fails without a Uid line', () => {
    expect(() => parseProcStatusUid('Name:\tnode\n')).toThrow('no Uid line');
  });
});

describe.each([
  ['/proc', inspectWithProc],
  ['ps', inspectWithPs],
])('inspect with %s', (_, inspect) => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('tells who runs a process and with which arguments', () => {
    // GIVEN
    child = spawn('sleep', ['60'], { stdio: 'ignore' });

    // WHEN
    const details = inspect(child.pid as number);

    // THEN
    expect(details).toEqual({ uid: process.getuid?.(), argv: ['sleep', '60'] });
  });

  it('finds no process once it has exited', async () => {
    // GIVEN
    child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const pid = child.pid as number;
    child.kill('SIGKILL');
    await exited(child);

    // WHEN / THEN
    expect(inspect(pid)).toBeUndefined();
  });

  it('finds nothing for PIDs that address groups or init', () => {
    expect([-1, 0, 1].map((pid) => inspect(pid))).toEqual([undefined, undefined, undefined]);
  });
});

describe('systemProcessTable.signal', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it.each([-1, 0, 1, 1.5, Number.NaN])('fails to signal %p, sending nothing', (pid) => {
    // GIVEN
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);

    // WHEN
    const act = () => systemProcessTable.signal(pid, 'SIGTERM');

    // THEN
    expect(act).toThrow(`refusing to signal pid ${pid}`);
    expect(kill).not.toHaveBeenCalled();
  });
});
