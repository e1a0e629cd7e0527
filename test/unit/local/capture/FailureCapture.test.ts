import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FailureCapture } from '#local/capture/FailureCapture';
import type { CapturedFailure } from '#local/capture/types';
import { UnsafePathError } from '#local/io/errors';

const FAILURE = {
  requestContext: { condition: 'RetryAttemptsExhausted' },
  KinesisBatchInfo: { shardId: 'shardId-000000000000' },
} as unknown as CapturedFailure;

const modeOf = (file: string): string => (fs.lstatSync(file).mode & 0o777).toString(8);

describe('FailureCapture', () => {
  let dir: string;
  let file: string;
  let capture: FailureCapture | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-capture-test-'));
    file = path.join(dir, '.shardflow', 'failures.jsonl');
    capture = undefined;
  });

  afterEach(() => {
    capture?.close();
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('appends one JSON line per failure to a file only the user can read, under umask 022', () => {
    // GIVEN
    const umask = process.umask(0o022);
    try {
      capture = new FailureCapture({ file });
    } finally {
      process.umask(umask);
    }

    // WHEN
    capture.add(FAILURE);
    capture.add(FAILURE);

    // THEN
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(FAILURE)}\n`.repeat(2));
    expect(modeOf(file)).toBe('600');
    expect(modeOf(path.dirname(file))).toBe('700');
  });

  it('keeps appending to the file it opened when a link is put in its place', () => {
    // GIVEN a capture, then its file renamed away and a link to another file put in its place
    capture = new FailureCapture({ file });
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'keep\n');
    fs.renameSync(file, `${file}.moved`);
    fs.symlinkSync(target, file);

    // WHEN
    capture.add(FAILURE);

    // THEN nothing went through the link
    expect(fs.readFileSync(target, 'utf8')).toBe('keep\n');
    expect(fs.readFileSync(`${file}.moved`, 'utf8')).toBe(`${JSON.stringify(FAILURE)}\n`);
  });

  it('fails on a symbolic link, writing nothing through it', () => {
    // GIVEN
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'keep\n');
    fs.mkdirSync(path.dirname(file));
    fs.symlinkSync(target, file);

    // WHEN
    const act = () => new FailureCapture({ file });

    // THEN
    expect(act).toThrow(UnsafePathError);
    expect(act).toThrow(`refusing to append failure records to ${file}: it is a symbolic link`);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep\n');
  });

  it('fails on a file of another user', () => {
    // GIVEN
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, '');
    const owner = fs.statSync(file).uid;
    jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);

    // WHEN
    const act = () => new FailureCapture({ file });

    // THEN
    expect(act).toThrow(
      `refusing to append failure records to ${file}: it is owned by uid ${owner}, not by you (uid ${owner + 1})`,
    );
  });

  it('removes group and other permissions from an existing file of the user', () => {
    // GIVEN what an older version left under umask 022
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, `${JSON.stringify(FAILURE)}\n`, { mode: 0o666 });
    fs.chmodSync(file, 0o666);

    // WHEN
    capture = new FailureCapture({ file });
    capture.add(FAILURE);

    // THEN
    expect(modeOf(file)).toBe('600');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(FAILURE)}\n`.repeat(2));
  });

  it('keeps failures in memory only without a file', () => {
    // GIVEN
    capture = new FailureCapture();

    // WHEN
    capture.add(FAILURE);

    // THEN
    expect(capture.failures).toEqual([FAILURE]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
