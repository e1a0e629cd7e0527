import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  isAlive,
  type LocalState,
  localStatePath,
  readLocalStateFile,
  runtimeStatus,
  writeLocalState,
} from '#local/cli/localState';
import type { ProcessIdentity, ProcessTable } from '#local/cli/processIdentity';

const IDENTITY: ProcessIdentity = { startTime: '1234567', bootId: 'boot-a' };

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
  },
  names: {},
  identity: IDENTITY,
};

const table = (identity: ProcessIdentity | undefined | Error): ProcessTable => ({
  identify: () => {
    if (identity instanceof Error) throw identity;
    return identity;
  },
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
      expect(read).toEqual({ status: 'invalid', reason: 'it is not a regular file' });
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

    it('is unverifiable for a live PID when the file records no identity', () => {
      // GIVEN
      const { identity: _, ...withoutIdentity } = STATE;

      // WHEN
      const status = runtimeStatus(withoutIdentity, table(IDENTITY));

      // THEN
      expect(status.status).toBe('unverifiable');
    });
  });

  describe('isAlive', () => {
    it.each([-1, 0, 1, 1.5])('is false for pid %p without signalling', (pid) => {
      // GIVEN
      const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);

      // WHEN
      const alive = isAlive(pid);

      // THEN
      expect(alive).toBe(false);
      expect(kill).not.toHaveBeenCalled();
    });

    it('is true for this process', () => {
      expect(isAlive(process.pid)).toBe(true);
    });
  });
});
