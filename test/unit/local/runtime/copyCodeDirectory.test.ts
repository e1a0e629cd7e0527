import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyCodeDirectory } from '#local/runtime/copyCodeDirectory';
import { UnsafeCodePathError } from '#local/runtime/errors';
import { sharedGroupAccounts, userPrivateGroupAccounts } from '#test/helpers/accountDatabases';

/** The uid nobody has on Linux: what a file another user planted is owned by. */
const ANOTHER_UID = 65534;

const modeOf = (file: string): string => (fs.lstatSync(file).mode & 0o777).toString(8);

/** Every entry under `root` as `mode relative-path`, folders with a trailing slash. */
function listing(root: string): string[] {
  const found: string[] = [];
  const visit = (folder: string): void => {
    for (const name of fs.readdirSync(folder).sort()) {
      const entry = path.join(folder, name);
      const stats = fs.lstatSync(entry);
      const relative = path.relative(root, entry);
      found.push(`${modeOf(entry)} ${relative}${stats.isDirectory() ? '/' : ''}`);
      if (stats.isDirectory()) visit(entry);
    }
  };
  visit(root);
  return found;
}

/**
 * Makes `entry` look written by another user: given to uid 65534 when the tests run as root, else the
 * current uid is made to look different — then everything the test made is another user's, the code
 * directory first.
 * @returns the path a refusal must name, and the owner it must give
 */
function plantedByAnotherUser(entry: string, root: string): { path: string; owner: number } {
  if (process.getuid?.() === 0) {
    fs.lchownSync(entry, ANOTHER_UID, ANOTHER_UID);
    return { path: entry, owner: ANOTHER_UID };
  }
  const owner = fs.statSync(root).uid;
  jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);
  return { path: fs.realpathSync(root), owner };
}

describe('copyCodeDirectory', () => {
  let workDir: string;
  let asset: string;
  let copy: string;

  beforeEach(() => {
    workDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-code-copy-')));
    // As `cdk synth` leaves an asset folder under umask 022: the folder 0777, its files 0644.
    asset = path.join(workDir, 'cdk.out', 'asset.abc');
    fs.mkdirSync(path.join(asset, 'lib'), { recursive: true });
    fs.chmodSync(asset, 0o777);
    fs.writeFileSync(path.join(asset, 'index.js'), 'exports.handler = async () => "mine";', {
      mode: 0o644,
    });
    fs.writeFileSync(path.join(asset, 'lib', 'util.js'), 'module.exports = 1;', { mode: 0o644 });
    fs.mkdirSync(path.join(workDir, 'private'), { mode: 0o700 });
    copy = path.join(workDir, 'private', 'copy');
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** Copies `asset` to `copy`, afresh: a refused copy leaves what it made so far (its caller removes it). */
  const copying = () => {
    fs.rmSync(copy, { recursive: true, force: true });
    return copyCodeDirectory(asset, copy);
  };

  it('copies a folder anyone may write to into private folders and files, executables 0700', () => {
    // GIVEN an executable too
    fs.writeFileSync(path.join(asset, 'lib', 'tool.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.chmodSync(path.join(asset, 'lib', 'tool.sh'), 0o755);

    // WHEN
    const copied = copying();

    // THEN
    expect(listing(copy)).toEqual([
      '600 index.js',
      '700 lib/',
      '700 lib/tool.sh',
      '600 lib/util.js',
    ]);
    expect(modeOf(copy)).toBe('700');
    expect(fs.readFileSync(path.join(copy, 'index.js'), 'utf8')).toBe(
      'exports.handler = async () => "mine";',
    );
    expect(copied).toEqual({ files: 3, bytes: 37 + 19 + 10 });
  });

  it('fails, naming the file and its owner, on a handler another user planted in the asset folder', () => {
    // GIVEN another user moved index.js aside and put their own in its place
    fs.renameSync(path.join(asset, 'index.js'), path.join(asset, 'index.orig.js'));
    fs.writeFileSync(path.join(asset, 'index.js'), 'module.exports = require("./index.orig.js");');
    const planted = plantedByAnotherUser(path.join(asset, 'index.js'), asset);

    // WHEN / THEN
    expect(copying).toThrow(UnsafeCodePathError);
    expect(copying).toThrow(
      `${planted.path} is owned by uid ${planted.owner}, neither by you (uid ${process.getuid?.()}) nor by root: another user may have written it`,
    );
  });

  it('fails on a folder that another user put in the code', () => {
    // GIVEN a folder of another user's (as root; else everything looks another user's)
    const planted = plantedByAnotherUser(path.join(asset, 'lib'), asset);

    // WHEN / THEN
    expect(copying).toThrow(`${planted.path} is owned by uid ${planted.owner}`);
  });

  it('fails on a file anyone may write to', () => {
    // GIVEN
    fs.chmodSync(path.join(asset, 'lib', 'util.js'), 0o666);

    // WHEN / THEN
    expect(copying).toThrow(
      `${path.join(asset, 'lib', 'util.js')} may be written by anyone (mode 0666): another user may have changed it`,
    );
  });

  it('fails on a file that members of a shared group may write (umask 002, group `users`)', () => {
    // GIVEN a group-writable file of the user's primary group, which another account has too
    const util = path.join(asset, 'lib', 'util.js');
    fs.chownSync(util, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    fs.chmodSync(util, 0o664);
    const sharing = () => {
      fs.rmSync(copy, { recursive: true, force: true });
      return copyCodeDirectory(asset, copy, { accounts: sharedGroupAccounts() });
    };

    // WHEN / THEN
    expect(sharing).toThrow(UnsafeCodePathError);
    expect(sharing).toThrow(
      `${util} may be written by members of group users (mode 0664): another user may have changed it; run \`chmod g-w ${util}\`, or synthesize again with umask 022`,
    );
  });

  it('copies group-writable files of the user-private group (umask 002, group of one)', () => {
    // GIVEN every file group-writable, as umask 002 leaves them
    for (const file of [path.join(asset, 'index.js'), path.join(asset, 'lib', 'util.js')]) {
      fs.chownSync(file, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      fs.chmodSync(file, 0o664);
    }

    // WHEN
    const copied = copyCodeDirectory(asset, copy, { accounts: userPrivateGroupAccounts() });

    // THEN
    expect(listing(copy)).toEqual(['600 index.js', '700 lib/', '600 lib/util.js']);
    expect(copied.files).toBe(2);
  });

  it('fails on a symbolic link out of the code directory, and on a link loop', () => {
    // GIVEN index.js -> ../../elsewhere.js; then, instead, lib/up -> .. (the code directory itself)
    fs.writeFileSync(path.join(workDir, 'elsewhere.js'), 'exports.handler = async () => "other";');
    fs.rmSync(path.join(asset, 'index.js'));
    fs.symlinkSync('../../elsewhere.js', path.join(asset, 'index.js'));

    // WHEN / THEN
    expect(copying).toThrow(
      `${path.join(asset, 'index.js')} is a symbolic link to ../../elsewhere.js, which leads to ${path.join(workDir, 'elsewhere.js')}, outside the function's code directory ${asset}`,
    );

    // GIVEN
    fs.rmSync(path.join(asset, 'index.js'));
    fs.symlinkSync('..', path.join(asset, 'lib', 'up'));

    // WHEN / THEN
    expect(copying).toThrow(
      `${path.join(asset, 'lib', 'up')} is a symbolic link to ${asset}, a folder it is in: a loop`,
    );
  });

  it('copies what a symbolic link inside the code leads to in its place, and leaves out a dangling one', () => {
    // GIVEN node_modules/.bin/tool -> ../tool/cli.js and lib2 -> lib, as npm and users leave them
    fs.mkdirSync(path.join(asset, 'node_modules', '.bin'), { recursive: true });
    fs.mkdirSync(path.join(asset, 'node_modules', 'tool'));
    fs.writeFileSync(path.join(asset, 'node_modules', 'tool', 'cli.js'), 'cli');
    fs.symlinkSync('../tool/cli.js', path.join(asset, 'node_modules', '.bin', 'tool'));
    fs.symlinkSync('lib', path.join(asset, 'lib2'));
    fs.symlinkSync('missing.js', path.join(asset, 'dangling.js'));

    // WHEN
    copying();

    // THEN no link is left, and the copies are private
    expect(listing(copy)).toEqual([
      '600 index.js',
      '700 lib/',
      '600 lib/util.js',
      '700 lib2/',
      '600 lib2/util.js',
      '700 node_modules/',
      '700 node_modules/.bin/',
      '600 node_modules/.bin/tool',
      '700 node_modules/tool/',
      '600 node_modules/tool/cli.js',
    ]);
    expect(fs.readFileSync(path.join(copy, 'node_modules', '.bin', 'tool'), 'utf8')).toBe('cli');
  });

  it('fails on a named pipe, which could block the copy', () => {
    // GIVEN
    execFileSync('mkfifo', [path.join(asset, 'pipe')]);

    // WHEN / THEN
    expect(copying).toThrow(
      `${path.join(asset, 'pipe')} is not a regular file, folder or symbolic link`,
    );
  });

  it('fails when the copy exists already: copies are made exclusively', () => {
    // GIVEN
    fs.mkdirSync(copy);

    // WHEN / THEN
    expect(() => copyCodeDirectory(asset, copy)).toThrow(/EEXIST/);
  });
});
