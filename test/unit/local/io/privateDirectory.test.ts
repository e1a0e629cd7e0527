import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UnsafePathError } from '#local/io/errors';
import { checkAncestors, ensurePrivateDirectory, restrictTree } from '#local/io/privateDirectory';

const modeOf = (file: string): string => (fs.lstatSync(file).mode & 0o777).toString(8);
const purpose = 'the test’s files';

describe('ensurePrivateDirectory', () => {
  let workDir: string;

  beforeEach(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-private-test-'));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('creates missing folders with mode 0700 under umask 022', () => {
    // GIVEN
    const dir = path.join(workDir, 'a', 'b');
    const umask = process.umask(0o022);

    try {
      // WHEN
      ensurePrivateDirectory(dir, { purpose });
    } finally {
      process.umask(umask);
    }

    // THEN
    expect(modeOf(path.join(workDir, 'a'))).toBe('700');
    expect(modeOf(dir)).toBe('700');
  });

  it('repairs the mode of an existing folder of this user when asked to', () => {
    // GIVEN
    const dir = path.join(workDir, 'loose');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o775);

    // WHEN
    ensurePrivateDirectory(dir, { purpose, repair: true });

    // THEN
    expect(modeOf(dir)).toBe('700');
  });

  it('follows a symbolic link only when asked to, and checks its target', () => {
    // GIVEN
    const target = path.join(workDir, 'target');
    fs.mkdirSync(target, { mode: 0o755 });
    fs.chmodSync(target, 0o755);
    const link = path.join(workDir, 'link');
    fs.symlinkSync(target, link);

    // WHEN
    const refused = () => ensurePrivateDirectory(link, { purpose });
    const followed = ensurePrivateDirectory(link, { purpose, followSymlink: true, repair: true });

    // THEN
    expect(refused).toThrow(`refusing to use ${link} for ${purpose}: it is a symbolic link`);
    expect(followed).toBe(fs.realpathSync(target));
    expect(modeOf(target)).toBe('700');
  });

  it('fails on a folder others may access, without repair', () => {
    // GIVEN
    const dir = path.join(workDir, 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o1777);

    // WHEN
    const act = () => ensurePrivateDirectory(dir, { purpose });

    // THEN
    expect(act).toThrow(`its mode is 0777, so other users may access it; run \`chmod 700 ${dir}\``);
  });

  it('fails on a folder anyone may write to, even with repair', () => {
    // GIVEN a folder shared by design, like /tmp
    const dir = path.join(workDir, 'tmp');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o1777);

    // WHEN
    const act = () => ensurePrivateDirectory(dir, { purpose, repair: true });

    // THEN
    expect(act).toThrow('its mode is 0777, so other users may access it');
    expect((fs.lstatSync(dir).mode & 0o7777).toString(8)).toBe('1777');
  });

  it('fails on a folder of another user, even with repair', () => {
    // GIVEN a folder right in the system's temporary folder (so that no folder above is this user's)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-theirs-test-'));
    const owner = fs.statSync(dir).uid;
    jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);

    try {
      // WHEN
      const act = () => ensurePrivateDirectory(dir, { purpose, repair: true });

      // THEN
      expect(act).toThrow(`it is owned by uid ${owner}, not by you (uid ${owner + 1}); remove it`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkAncestors', () => {
  let workDir: string;

  beforeEach(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-ancestors-test-'));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** A folder in the work folder with this mode, whatever the umask. */
  const folder = (name: string, mode: number): string => {
    const dir = path.join(workDir, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
    return dir;
  };

  it('fails on a state folder inside a folder everyone may write to, before creating anything', () => {
    // GIVEN a team folder anyone may write to, not sticky
    const shared = folder('shared', 0o777);
    const stateDir = path.join(shared, 'state');

    // WHEN
    const act = () =>
      ensurePrivateDirectory(stateDir, { purpose, repair: true, followSymlink: true });

    // THEN another user could rename `state` away and put their own in its place: refused
    expect(act).toThrow(
      `refusing to use ${stateDir} for ${purpose}: ${shared} is writable by group or others (mode 0777) and not sticky, so another user could replace ${stateDir} after it was checked; run \`chmod go-w ${shared}\``,
    );
    expect(act).toThrow(UnsafePathError);
    expect(fs.existsSync(stateDir)).toBe(false);
  });

  it('fails on a folder anywhere above that its group may write to', () => {
    // GIVEN
    const team = folder('team', 0o775);
    const dir = path.join(team, 'project', '.shardflow');

    // WHEN
    const act = () => ensurePrivateDirectory(dir, { purpose, repair: true });

    // THEN
    expect(act).toThrow(`${team} is writable by group or others (mode 0775) and not sticky`);
  });

  it('accepts a folder inside a sticky folder everyone may write to, like /tmp', () => {
    // GIVEN
    const tmp = folder('tmp', 0o1777);

    // WHEN
    const dir = ensurePrivateDirectory(path.join(tmp, 'state'), { purpose });

    // THEN
    expect(modeOf(dir)).toBe('700');
  });

  it('accepts the system temporary folder', () => {
    expect(() =>
      checkAncestors(path.join(os.tmpdir(), 'shardflow-x', 'tls'), purpose),
    ).not.toThrow();
  });

  it('fails on a folder above owned by another user than root', () => {
    // GIVEN a folder of another user's (as root: chown; otherwise: this user seen as another one)
    const theirs = folder('theirs', 0o755);
    const uid = fs.statSync(theirs).uid;
    let owner = uid;
    let me = uid;
    if (uid === 0) {
      owner = 4242;
      fs.chownSync(theirs, owner, owner);
    } else {
      me = uid + 1;
      jest.spyOn(process, 'getuid').mockReturnValue(me);
    }

    // WHEN
    const act = () => checkAncestors(path.join(theirs, 'state'), purpose);

    // THEN
    expect(act).toThrow(
      `${theirs} is owned by uid ${owner}, neither by you (uid ${me}) nor by root, so another user could replace`,
    );
  });

  it('checks the folders above where a symbolic link leads', () => {
    // GIVEN a link in a private folder to a state folder in a folder everyone may write to
    const shared = folder('shared', 0o777);
    const target = folder('shared/state', 0o700);
    const link = path.join(folder('private', 0o700), 'state');
    fs.symlinkSync(target, link);

    // WHEN
    const act = () => ensurePrivateDirectory(link, { purpose, followSymlink: true });

    // THEN
    expect(act).toThrow(`${shared} is writable by group or others (mode 0777) and not sticky`);
  });

  it('checks the folder that holds a symbolic link on the way', () => {
    // GIVEN a link in a folder everyone may write to, to a private folder
    const target = folder('private/state', 0o700);
    const shared = folder('shared', 0o777);
    const link = path.join(shared, 'state');
    fs.symlinkSync(target, link);

    // WHEN
    const act = () => ensurePrivateDirectory(link, { purpose, followSymlink: true });

    // THEN
    expect(act).toThrow(`${shared} is writable by group or others (mode 0777) and not sticky`);
  });
});

describe('restrictTree', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-restrict-test-'));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('removes group and other permissions from every folder and file, keeping the owner’s', () => {
    // GIVEN what umask 022 and the CDK leave
    fs.mkdirSync(path.join(dir, 'asset'), { mode: 0o777 });
    fs.chmodSync(path.join(dir, 'asset'), 0o777);
    fs.writeFileSync(path.join(dir, 'asset', 'index.js'), '', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'run.sh'), '', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'private.json'), '', { mode: 0o600 });

    // WHEN
    const changed = restrictTree(dir, { purpose });

    // THEN
    expect(changed.sort()).toEqual(
      ['asset', 'asset/index.js', 'run.sh'].map((name) => path.join(dir, name)),
    );
    expect(modeOf(path.join(dir, 'asset'))).toBe('700');
    expect(modeOf(path.join(dir, 'asset', 'index.js'))).toBe('600');
    expect(modeOf(path.join(dir, 'run.sh'))).toBe('700');
    expect(modeOf(path.join(dir, 'private.json'))).toBe('600');
  });

  it('restricts only the entries named, with everything in them', () => {
    // GIVEN
    fs.mkdirSync(path.join(dir, 'kinesis'), { mode: 0o755 });
    fs.chmodSync(path.join(dir, 'kinesis'), 0o755);
    fs.writeFileSync(path.join(dir, 'kinesis', 'data.json'), '', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'notes.txt'), '', { mode: 0o644 });

    // WHEN
    restrictTree(dir, { purpose, entries: ['kinesis', 'esm'] });

    // THEN
    expect(modeOf(path.join(dir, 'kinesis'))).toBe('700');
    expect(modeOf(path.join(dir, 'kinesis', 'data.json'))).toBe('600');
    expect(modeOf(path.join(dir, 'notes.txt'))).toBe('644');
  });

  it('fails on a symbolic link, and changes nothing through it', () => {
    // GIVEN
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-outside-'));
    fs.chmodSync(outside, 0o755);
    fs.symlinkSync(outside, path.join(dir, 'link'));

    try {
      // WHEN
      const act = () => restrictTree(dir, { purpose });

      // THEN
      expect(act).toThrow(`${path.join(dir, 'link')} is a symbolic link; remove it`);
      expect(modeOf(outside)).toBe('755');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('leaves symbolic links alone under the folders that may have them', () => {
    // GIVEN
    fs.mkdirSync(path.join(dir, 'cdk.out'));
    fs.symlinkSync('/', path.join(dir, 'cdk.out', 'link'));

    // WHEN
    const act = () =>
      restrictTree(dir, { purpose, symlinksAllowedUnder: [path.join(dir, 'cdk.out')] });

    // THEN
    expect(act).not.toThrow();
  });

  it('fails on an entry of another user', () => {
    // GIVEN
    fs.writeFileSync(path.join(dir, 'planted'), '');
    const owner = fs.statSync(dir).uid;
    jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);

    // WHEN
    const act = () => restrictTree(dir, { purpose });

    // THEN
    expect(act).toThrow(`${path.join(dir, 'planted')} is owned by uid ${owner}, not by you`);
  });
});
