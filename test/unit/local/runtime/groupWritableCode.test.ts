/**
 * Regression (security review R2-2): files of a cloud assembly that members of a shared group may write
 * were trusted — only world-writable ones were refused — by loadCloudAssembly (templates) and by
 * copyCodeDirectory (handler code). With umask 002 and a shared primary group (`users`), or a team
 * group, another member of the group edited the template (a function's `NODE_OPTIONS=--require
 * their.js`) or the handler, and it ran as the user of `local up --app <cdk.out>`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UntrustedAssemblyFileError } from '#local/assembly/errors';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import { planDeployment } from '#local/assembly/planDeployment';
import type { AccountDatabase } from '#local/io/privateGroup';
import { copyCodeDirectory } from '#local/runtime/copyCodeDirectory';
import { UnsafeCodePathError } from '#local/runtime/errors';
import { sharedGroupAccounts } from '#test/helpers/accountDatabases';

const FIXTURE = path.join(__dirname, '../../../fixtures/assembly');
const ENDPOINTS = { region: 'us-east-1', accountId: '000000000000' };

/** gid of nogroup on Linux: a group that is not root's. */
const ANOTHER_GID = 65534;

/**
 * Makes `file` writable by members of a group other users are in (mode 0664): as root, as in the review,
 * root's file of group nogroup (65534), which this machine's account databases decide on; else the
 * user's own file of their primary group, with account databases in which another account shares it.
 * @returns the account databases to load and copy with
 */
function writableByAnotherGroupMember(file: string): AccountDatabase | undefined {
  fs.chmodSync(file, 0o664);
  if (process.getuid?.() === 0) {
    fs.chownSync(file, 0, ANOTHER_GID);
    return undefined;
  }
  return sharedGroupAccounts();
}

describe('group-writable assembly files another member of the group may write', () => {
  let workDir: string;
  let cdkOut: string;

  beforeEach(() => {
    workDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-group-writable-')));
    cdkOut = path.join(workDir, 'cdk.out');
    fs.cpSync(FIXTURE, cdkOut, { recursive: true });
  });

  afterEach(() => {
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('fails to load a group-writable template another member set NODE_OPTIONS in', () => {
    // GIVEN a member of the template's group made a function load their file
    const template = path.join(cdkOut, 'FixtureStack.template.json');
    const accounts = writableByAnotherGroupMember(template);
    const edited = JSON.parse(fs.readFileSync(template, 'utf8'));
    edited.Resources.Echo.Properties.Environment = {
      Variables: { NODE_OPTIONS: `--require ${path.join(workDir, 'evil.js')}` },
    };
    fs.writeFileSync(template, JSON.stringify(edited));

    // WHEN / THEN
    const loading = () => loadCloudAssembly(cdkOut, { accounts });
    expect(loading).toThrow(UntrustedAssemblyFileError);
    expect(loading).toThrow(
      /^it may be written by members of group \S+ \(mode 0664\), so another user may have written it: refusing to read it; run `chmod g-w /,
    );
  });

  it('fails to copy a group-writable handler another member appended to', () => {
    // GIVEN the function's handler, in its asset folder as the CDK leaves it (0777), edited by a member
    const [fn] = planDeployment(loadCloudAssembly(cdkOut), { endpoints: ENDPOINTS }).deployment
      .functions;
    if (fn === undefined) throw new Error('the fixture has no function');
    fs.chmodSync(fn.codeDirectory, 0o777);
    const index = path.join(fn.codeDirectory, 'index.js');
    const accounts = writableByAnotherGroupMember(index);
    fs.appendFileSync(index, '\n/* planted by another member of the group */\n');

    // WHEN / THEN
    const copy = path.join(workDir, 'copy');
    const copying = () => {
      fs.rmSync(copy, { recursive: true, force: true }); // what a refused copy made so far
      return copyCodeDirectory(fn.codeDirectory, copy, { accounts });
    };
    expect(copying).toThrow(UnsafeCodePathError);
    expect(copying).toThrow(`${index} may be written by members of group `);
    expect(copying).toThrow(
      / may be written by members of group \S+ \(mode 0664\): another user may have changed it; run `chmod g-w /,
    );
  });
});
