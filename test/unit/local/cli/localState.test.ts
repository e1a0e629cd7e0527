import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NoLocalRuntimeError } from '#local/cli/errors';
import {
  findLocalRuntime,
  isLocalRuntimeCommand,
  type LocalState,
  localStatePath,
  readLocalStateFile,
  requireRunningRuntime,
  runtimeStatus,
  writeLocalState,
} from '#local/cli/localState';
import type { ProcessDetails, ProcessIdentity, ProcessTable } from '#local/cli/processIdentity';

const IDENTITY: ProcessIdentity = { startTime: '1234567', bootId: 'boot-a' };
const UID = process.getuid?.() ?? 0;
/** The runtime as `local up --detach` starts it in the background. */
const RUNTIME: ProcessDetails = {
  uid: UID,
  argv: ['/usr/bin/node', '/work/app/node_modules/shardflow/bin/shardflow.js', 'local', 'up'],
};

const STATE: LocalState = {
  version: 1,
  pid: 4242,
  enginePids: [4243, 4244],
  startedAt: new Date(0).toISOString(),
  cdkOut: 'cdk.out',
  endpoints: {
    kinesis: 'http://127.0.0.1:1',
    kinesisTls: 'https://127.0.0.1:2',
    dynamodb: 'http://127.0.0.1:3',
    kinesisCaFile: 'ca.pem',
    region: 'us-east-1',
    accountId: '000000000000',
    credentials: { accessKeyId: 'SFLOCALTEST', secretAccessKey: 'secret' },
  },
  names: {},
  identity: IDENTITY,
};

const table = (
  identity: ProcessIdentity | undefined | Error,
  details: ProcessDetails = RUNTIME,
): ProcessTable => ({
  identify: () => {
    if (identity instanceof Error) throw identity;
    return identity;
  },
  inspect: () => (identity === undefined ? undefined : details),
  signal: () => {
    throw new Error('no signal expected');
  },
});

describe('localState', () => {
  let projectDir: string;

  beforeEach(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-state-test-'));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  describe('writeLocalState', () => {
    it('writes a file only the user can read, in a folder only the user can enter, under umask 022', () => {
      // GIVEN
      const umask = process.umask(0o022);

      try {
        // WHEN
        const file = writeLocalState(STATE, projectDir);

        // THEN
        expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
        expect((fs.statSync(path.dirname(file)).mode & 0o777).toString(8)).toBe('700');
        expect(fs.readdirSync(path.dirname(file))).toEqual(['local.json']);
      } finally {
        process.umask(umask);
      }
    });

    it('replaces a planted symbolic link instead of writing through it', () => {
      // GIVEN
      const target = path.join(projectDir, 'target');
      fs.writeFileSync(target, 'keep');
      fs.mkdirSync(path.join(projectDir, '.shardflow'));
      fs.symlinkSync(target, localStatePath(projectDir));

      // WHEN
      writeLocalState(STATE, projectDir);

      // THEN
      expect(fs.readFileSync(target, 'utf8')).toBe('keep');
      expect(fs.lstatSync(localStatePath(projectDir)).isFile()).toBe(true);
    });
  });

  describe('readLocalStateFile', () => {
    const plant = (content: string): void => {
      fs.mkdirSync(path.join(projectDir, '.shardflow'), { recursive: true });
      fs.writeFileSync(localStatePath(projectDir), content);
    };

    it('reads what writeLocalState wrote', () => {
      // GIVEN
      writeLocalState(STATE, projectDir);

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({ status: 'valid', state: STATE });
    });

    it('is absent without a file', () => {
      expect(readLocalStateFile(projectDir)).toEqual({ status: 'absent' });
    });

    it.each([
      ['pid -1', { pid: -1 }, 'pid must be an integer greater than 1, got -1'],
      ['pid 0', { pid: 0 }, 'pid must be an integer greater than 1, got 0'],
      ['pid 1', { pid: 1 }, 'pid must be an integer greater than 1, got 1'],
      ['pid "abc"', { pid: 'abc' }, 'pid must be an integer greater than 1, got "abc"'],
      ['pid 1.5', { pid: 1.5 }, 'pid must be an integer greater than 1, got 1.5'],
      ['engine pid -1', { enginePids: [-1] }, 'enginePids must be integers greater than 1'],
      [
        'identity without start time',
        { identity: {} },
        'identity must be { startTime: string, bootId?: string }',
      ],
      ['another version', { version: 2 }, 'unknown version 2'],
      [
        'no credentials',
        { endpoints: { ...STATE.endpoints, credentials: undefined } },
        'endpoints.credentials must be { accessKeyId: string, secretAccessKey: string }, both non-empty',
      ],
      [
        'an empty access key id',
        {
          endpoints: { ...STATE.endpoints, credentials: { accessKeyId: '', secretAccessKey: 's' } },
        },
        'endpoints.credentials must be { accessKeyId: string, secretAccessKey: string }, both non-empty',
      ],
      [
        'a secret access key that is not a string',
        {
          endpoints: {
            ...STATE.endpoints,
            credentials: { accessKeyId: 'SFLOCAL', secretAccessKey: 1 },
          },
        },
        'endpoints.credentials must be { accessKeyId: string, secretAccessKey: string }, both non-empty',
      ],
    ])('fails on %s', (_, fields, reason) => {
      // GIVEN
      plant(JSON.stringify({ ...STATE, ...fields }));

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({ status: 'invalid', reason });
    });

    it('fails on a file that is not JSON', () => {
      plant('{"pid": 4');
      expect(readLocalStateFile(projectDir)).toEqual({
        status: 'invalid',
        reason: 'it is not JSON',
      });
    });

    it('fails on a symbolic link', () => {
      // GIVEN
      const target = path.join(projectDir, 'elsewhere.json');
      fs.writeFileSync(target, JSON.stringify(STATE));
      fs.mkdirSync(path.join(projectDir, '.shardflow'));
      fs.symlinkSync(target, localStatePath(projectDir));

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({ status: 'invalid', reason: 'it is a symbolic link' });
    });

    it('fails on a FIFO without blocking', () => {
      // GIVEN
      fs.mkdirSync(path.join(projectDir, '.shardflow'));
      execFileSync('mkfifo', [localStatePath(projectDir)]);

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({ status: 'invalid', reason: 'it is not a regular file' });
    });

    it.each([
      ['.shardflow', '0777'],
      ['.shardflow', '0730'],
      ['.shardflow/local.json', '0646'],
      ['.shardflow/local.json', '0660'],
    ])('does not trust a file when %s has mode %s', (entry, mode) => {
      // GIVEN
      writeLocalState(STATE, projectDir);
      fs.chmodSync(path.join(projectDir, entry), Number.parseInt(mode, 8));

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({
        status: 'untrusted',
        reason: `${path.join(projectDir, entry)} is writable by group or others (mode ${mode})`,
      });
    });

    it('does not trust a file in a folder of another user', () => {
      // GIVEN
      writeLocalState(STATE, projectDir);
      const dir = path.join(projectDir, '.shardflow');
      const owner = fs.statSync(dir).uid;
      jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({
        status: 'untrusted',
        reason: `${dir} is owned by uid ${owner}, not by you (uid ${owner + 1})`,
      });
    });

    it('does not trust a .shardflow that is a symbolic link', () => {
      // GIVEN a link to a folder that holds a valid state file
      const elsewhere = path.join(projectDir, 'elsewhere');
      writeLocalState(STATE, elsewhere);
      fs.symlinkSync(path.join(elsewhere, '.shardflow'), path.join(projectDir, '.shardflow'));

      // WHEN
      const read = readLocalStateFile(projectDir);

      // THEN
      expect(read).toEqual({
        status: 'untrusted',
        reason: `${path.join(projectDir, '.shardflow')} is a symbolic link`,
      });
    });

    it('does not trust a file in a project whose folder everyone may write to', () => {
      // GIVEN
      const project = path.join(projectDir, 'project');
      writeLocalState(STATE, project);
      fs.chmodSync(project, 0o777);

      // WHEN
      const read = readLocalStateFile(project);

      // THEN
      expect(read.status).toBe('untrusted');
      expect(read.status === 'untrusted' && read.reason).toContain(
        `${project} is writable by group or others (mode 0777) and not sticky`,
      );
    });
  });

  describe('runtimeStatus', () => {
    it.each([
      ['running', IDENTITY, { status: 'running' }],
      ['gone', undefined, { status: 'gone' }],
      [
        'replaced',
        { startTime: '1', bootId: 'boot-a' },
        { status: 'replaced', found: { startTime: '1', bootId: 'boot-a' } },
      ],
      [
        'replaced (another boot)',
        { ...IDENTITY, bootId: 'boot-b' },
        { status: 'replaced', found: { ...IDENTITY, bootId: 'boot-b' } },
      ],
      ['unverifiable', new Error('no /proc'), { status: 'unverifiable', reason: 'no /proc' }],
    ])('is %s', (_, found, expected) => {
      expect(runtimeStatus(STATE, table(found))).toEqual(expected);
    });

    it.each([
      [
        'another user’s runtime',
        { ...RUNTIME, uid: UID + 1 },
        `pid 4242 is a process of uid ${UID + 1}, not yours (uid ${UID})`,
      ],
      [
        'a process that is not a runtime',
        { uid: UID, argv: ['sleep', '300'] },
        'pid 4242 is not a shardflow local runtime: it runs `sleep 300`',
      ],
    ])('is foreign for %s with the recorded identity', (_, details, reason) => {
      expect(runtimeStatus(STATE, table(IDENTITY, details))).toEqual({
        status: 'foreign',
        reason,
      });
    });

    it('is unverifiable for a live PID when the file records no identity', () => {
      // GIVEN
      const { identity: _, ...withoutIdentity } = STATE;

      // WHEN
      const status = runtimeStatus(withoutIdentity, table(IDENTITY));

      // THEN
      expect(status.status).toBe('unverifiable');
    });
  });

  describe('isLocalRuntimeCommand', () => {
    it.each([
      ['npx shardflow local up', ['node', '/p/node_modules/.bin/shardflow', 'local', 'up']],
      [
        'local up --detach in the background',
        [
          '/usr/bin/node',
          '/p/node_modules/shardflow/bin/shardflow.js',
          'local',
          'up',
          '--app',
          '.',
        ],
      ],
      ['node with options', ['node', '--enable-source-maps', 'bin/shardflow.js', 'local', 'up']],
      [
        'ps output of a path with spaces',
        ['node', '/Users/Jane', 'Doe/app/node_modules/.bin/shardflow', 'local', 'up'],
      ],
    ])('is true for %s', (_, argv) => {
      expect(isLocalRuntimeCommand(argv)).toBe(true);
    });

    it.each([
      ['sleep', ['sleep', '300']],
      ['another command of the CLI', ['node', 'bin/shardflow.js', 'local', 'down']],
      ['another script', ['node', 'other.js', 'local', 'up']],
      ['local up elsewhere on the line', ['node', 'bin/shardflow.js', 'send', 'local', 'up']],
      ['a zombie', []],
    ])('is false for %s', (_, argv) => {
      expect(isLocalRuntimeCommand(argv)).toBe(false);
    });
  });

  describe('findLocalRuntime and requireRunningRuntime', () => {
    it('find the runtime the file names while it runs', () => {
      // GIVEN
      writeLocalState(STATE, projectDir);
      const processes = table(IDENTITY);

      // WHEN / THEN
      expect(findLocalRuntime(projectDir, processes)).toEqual({ status: 'running', state: STATE });
      expect(requireRunningRuntime(projectDir, processes)).toEqual(STATE);
    });

    it('find none while one of its engines is gone (its port may be anyone’s)', () => {
      // GIVEN the runtime runs, but engine 4244 has exited
      writeLocalState(STATE, projectDir);
      const processes: ProcessTable = {
        ...table(IDENTITY),
        identify: (pid) => (pid === 4244 ? undefined : IDENTITY),
      };

      // WHEN / THEN
      expect(findLocalRuntime(projectDir, processes)).toEqual({
        status: 'not-running',
        reason: 'its engine process 4244 is gone, so its port may be another program’s now',
      });
      expect(() => requireRunningRuntime(projectDir, processes)).toThrow(NoLocalRuntimeError);
    });

    it('find none without a file', () => {
      expect(findLocalRuntime(projectDir, table(IDENTITY))).toEqual({ status: 'absent' });
      expect(() => requireRunningRuntime(projectDir, table(IDENTITY))).toThrow(
        new NoLocalRuntimeError(projectDir),
      );
    });

    it.each([
      ['its runtime is gone', undefined, RUNTIME, 'it is stale: no process has pid 4242'],
      [
        'its PID is another process now',
        { startTime: '1', bootId: 'boot-a' },
        RUNTIME,
        'it is stale: another process has taken pid 4242',
      ],
      [
        'its PID is a process that is not a runtime',
        IDENTITY,
        { uid: UID, argv: ['sleep', '300'] },
        'pid 4242 is not a shardflow local runtime: it runs `sleep 300`',
      ],
    ])('fail when %s', (_, found, details, reason) => {
      // GIVEN
      writeLocalState(STATE, projectDir);
      const processes = table(found, details);

      // WHEN
      const runtime = findLocalRuntime(projectDir, processes);
      const act = () => requireRunningRuntime(projectDir, processes);

      // THEN
      expect(runtime).toEqual({ status: 'not-running', reason });
      expect(act).toThrow(
        `no local runtime is running here; start one with \`shardflow local up\` (ignored ${localStatePath(projectDir)}: ${reason})`,
      );
    });
  });
});
