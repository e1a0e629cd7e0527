import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalState } from '#local/cli/localState';
import { alive, shardflow } from '#test/helpers/cliProcess';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
/** uid and gid of nobody: the other local user the tests play (as root, with setpriv). */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/**
 * Replaces the index.js of each Lambda asset of a cdk.out with a wrapper that appends a line to
 * `marker` when it is loaded, then runs the original: what another local user can do to the asset
 * folders `cdk synth` leaves writable by anyone (0777).
 */
const PLANT = `
const fs = require('fs'); const path = require('path');
const [cdkOut, marker] = process.argv.slice(1);
for (const name of fs.readdirSync(cdkOut).filter((n) => n.startsWith('asset.'))) {
  const dir = path.join(cdkOut, name);
  if (!fs.existsSync(path.join(dir, 'index.js'))) continue;
  fs.renameSync(path.join(dir, 'index.js'), path.join(dir, 'index.orig.js'));
  fs.writeFileSync(path.join(dir, 'index.js'),
    "require('fs').appendFileSync(" + JSON.stringify(marker) + ", 'ran as uid ' + process.getuid() + '\\\\n'); module.exports = require('./index.orig.js');",
    { mode: 0o666 });
  fs.chmodSync(path.join(dir, 'index.js'), 0o666);
}
console.log('planted as uid ' + process.getuid());
`;

/**
 * Plants the wrapper in every asset of `cdkOut`: as root, as nobody (setpriv), so the planted files
 * are another user's; otherwise as the current user, files anyone may write to (0666) — which anyone
 * could have written.
 */
function plant(cdkOut: string, marker: string): string {
  const command = asRoot
    ? [
        'setpriv',
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        process.execPath,
        '-e',
        PLANT,
        cdkOut,
        marker,
      ]
    : [process.execPath, '-e', PLANT, cdkOut, marker];
  const run = spawnSync(command[0] as string, command.slice(1), {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return `${run.stdout}${run.stderr}`;
}

/** Every entry under `root` that is not a 0700 folder or a 0600 file. */
function notPrivate(root: string): string[] {
  const found: string[] = [];
  const visit = (entry: string): void => {
    const stats = fs.lstatSync(entry);
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    if (stats.isDirectory()) {
      if (mode !== '0700') found.push(`${mode} ${entry}/`);
      for (const name of fs.readdirSync(entry)) visit(path.join(entry, name));
    } else if (!stats.isFile() || mode !== '0600') {
      found.push(`${mode} ${entry}`);
    }
  };
  visit(root);
  return found;
}

describe('shardflow local up --app <cdk.out>: function code another user could write', () => {
  let base: string;
  let pristine: string;
  const states: LocalState[] = [];

  /** A fresh copy of the synthesized cdk.out, asset folders 0777 as `cdk synth` leaves them. */
  const cdkOutCopy = (name: string): string => {
    const cdkOut = path.join(base, name);
    fs.cpSync(pristine, cdkOut, { recursive: true });
    for (const entry of fs.readdirSync(cdkOut).filter((n) => n.startsWith('asset.'))) {
      fs.chmodSync(path.join(cdkOut, entry), 0o777);
    }
    return cdkOut;
  };

  /** A file the planted code appends to, which the other user may write. */
  const markerFile = (name: string): string => {
    const marker = path.join(base, name);
    fs.writeFileSync(marker, '');
    fs.chmodSync(marker, 0o666);
    return marker;
  };

  const projectDir = (name: string): string => {
    const project = path.join(base, name);
    fs.mkdirSync(project);
    return project;
  };

  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-code-integrity-'));
    fs.chmodSync(base, 0o755); // the other user may reach cdk.out, as in a shared checkout
    pristine = path.join(base, 'cdk.out');
    // The app synthesized as `cdk synth` does it, under the usual umask 022.
    execFileSync(process.execPath, [require.resolve('tsx/cli'), 'infra/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_OUTDIR: pristine, CDK_DISABLE_VERSION_CHECK: '1' },
      stdio: 'ignore',
    });
  }, 180_000);

  afterAll(() => {
    // Whatever a failed test left running goes, so no engine outlives the suite.
    for (const state of states) {
      for (const pid of [state.pid, ...state.enginePids]) {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('cdk synth leaves the Lambda asset folders writable by anyone (what makes this matter)', () => {
    // THEN
    const modes = fs
      .readdirSync(pristine)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => (fs.statSync(path.join(pristine, name)).mode & 0o777).toString(8));
    expect(modes.length).toBeGreaterThan(0);
    expect(new Set(modes)).toEqual(new Set(['777']));
  });

  it('refuses to start when a handler in the cdk.out was planted, naming the file and its owner', async () => {
    // GIVEN another user replaced every handler of the assembly
    const cdkOut = cdkOutCopy('cdk.out.planted');
    const marker = markerFile('planted-before-up');
    expect(plant(cdkOut, marker)).toContain(
      `planted as uid ${asRoot ? NOBODY : process.getuid?.()}`,
    );
    const project = projectDir('project-planted');

    // WHEN
    const up = await shardflow(project, ['local', 'up', '--detach', '--app', cdkOut]);

    // THEN nothing was run: the runtime exited before it was ready, saying why
    const statePath = path.join(project, '.shardflow', 'local.json');
    if (fs.existsSync(statePath)) states.push(JSON.parse(fs.readFileSync(statePath, 'utf8')));
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('refusing to run function ');
    expect(up.stderr).toMatch(
      asRoot
        ? new RegExp(
            `${cdkOut}/asset\\.[0-9a-f]+/index\\.js is owned by uid ${NOBODY}, neither by you \\(uid 0\\) nor by root: another user may have written it`,
          )
        : new RegExp(
            `${cdkOut}/asset\\.[0-9a-f]+/index\\.js may be written by anyone \\(mode 0666\\)`,
          ),
    );
    expect(fs.readFileSync(marker, 'utf8')).toBe('');
    expect(fs.existsSync(statePath)).toBe(false);
    // … and its private folder for code copies is left empty
    expect(fs.readdirSync(path.join(project, '.shardflow', 'code'))).toEqual([]);
  }, 300_000);

  it('runs each function from a private copy: handlers planted in cdk.out after start never run', async () => {
    // GIVEN a runtime started from an intact cdk.out
    const cdkOut = cdkOutCopy('cdk.out.intact');
    const marker = markerFile('planted-after-up');
    const project = projectDir('project-intact');
    const up = await shardflow(project, ['local', 'up', '--detach', '--app', cdkOut]);
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const state = JSON.parse(
      fs.readFileSync(path.join(project, '.shardflow', 'local.json'), 'utf8'),
    ) as LocalState;
    states.push(state);
    const codeCopies = path.join(project, '.shardflow', 'code');
    const [run] = fs.readdirSync(codeCopies);
    expect(run).toMatch(new RegExp(`^run-${state.pid}-`));

    // WHEN another user then replaces every handler in cdk.out, and records flow
    expect(plant(cdkOut, marker)).toContain('planted as uid');
    const send = await shardflow(
      project,
      ['send', 'numbers', '-', '--partition-key', 'id'],
      `${JSON.stringify({ id: 'e1', value: 1 })}\n`,
    );
    const tail = await shardflow(project, [
      'tail',
      'numbers-doubled',
      '--from-start',
      '--max',
      '1',
      '--idle-timeout',
      '90',
    ]);

    // THEN the functions ran, from their private copies, and the planted code never did
    expect(send.code).toBe(0);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toContain('"value":2');
    expect(fs.readFileSync(marker, 'utf8')).toBe('');
    expect(notPrivate(path.join(codeCopies, run as string))).toEqual([]);

    // WHEN it is stopped
    const down = await shardflow(project, ['local', 'down']);

    // THEN its copies are gone with it
    expect(down.code).toBe(0);
    expect(fs.readdirSync(codeCopies)).toEqual([]);
  }, 300_000);
});
