import {
  isUserPrivateGroup,
  parseAccountDatabase,
  sharedWritingGroup,
} from '#local/io/privateGroup';
import { sharedGroupAccounts, userPrivateGroupAccounts } from '#test/helpers/accountDatabases';

const ALICE = { uid: 1000, gid: 1000 };

/** /etc/passwd of a machine with user-private groups: alice's group 1000 is hers alone. */
const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'sync:x:4:65534:sync:/bin:/bin/sync',
  'alice:x:1000:1000:Alice:/home/alice:/bin/bash',
  'bob:x:1001:100:Bob:/home/bob:/bin/bash',
  '',
].join('\n');

/** /etc/group: alice and bob share the team group (2000) and bob's primary group users (100). */
const GROUP = ['root:x:0:', 'users:x:100:', 'alice:x:1000:', 'team:x:2000:alice,bob', ''].join(
  '\n',
);

describe('parseAccountDatabase', () => {
  it('parses accounts with their primary groups, and groups with their members', () => {
    // WHEN
    const database = parseAccountDatabase(`# local accounts\n${PASSWD}`, GROUP);

    // THEN
    expect(database?.accounts).toContainEqual({ name: 'bob', uid: 1001, gid: 100 });
    expect(database?.groups).toContainEqual({ name: 'team', gid: 2000, members: ['alice', 'bob'] });
    expect(database?.groups).toContainEqual({ name: 'alice', gid: 1000, members: [] });
  });

  it.each([
    ['a passwd line without 7 fields', 'alice:x:1000:1000', GROUP],
    ['a uid that is no number', 'alice:x:me:1000::/home/alice:/bin/sh', GROUP],
    ['a NIS entry in passwd (its accounts are elsewhere)', `${PASSWD}+::::::`, GROUP],
    ['a group line without 4 fields', PASSWD, 'alice:x:1000'],
    ['a gid that is no number', PASSWD, 'alice:x:-1:'],
    ['a NIS entry in group', PASSWD, `${GROUP}+:::`],
  ])('fails to parse %s', (_what, passwd, group) => {
    // WHEN / THEN
    expect(parseAccountDatabase(passwd, group)).toBeUndefined();
  });
});

describe('isUserPrivateGroup', () => {
  const database = parseAccountDatabase(PASSWD, GROUP);

  it('is true for the primary group of the user that nobody else has or is listed in', () => {
    expect(isUserPrivateGroup(1000, ALICE, database)).toBe(true);
  });

  it("judges root's group 0 by the same rule", () => {
    // GIVEN root's group, then the same with another account whose primary group is 0
    const shared = parseAccountDatabase(`${PASSWD}operator:x:11:0::/root:/sbin/nologin\n`, GROUP);

    // WHEN / THEN
    expect(isUserPrivateGroup(0, { uid: 0, gid: 0 }, database)).toBe(true);
    expect(isUserPrivateGroup(0, { uid: 0, gid: 0 }, shared)).toBe(false);
  });

  it('is false for a group that is not the primary group of the user', () => {
    expect(isUserPrivateGroup(2000, ALICE, database)).toBe(false);
    expect(isUserPrivateGroup(100, ALICE, database)).toBe(false);
  });

  it('is false for a primary group another account has too (umask 002 with a shared `users` group)', () => {
    // GIVEN alice's primary group is users (100), bob's too
    const users = parseAccountDatabase(
      PASSWD.replace('alice:x:1000:1000', 'alice:x:1000:100'),
      GROUP,
    );

    // WHEN / THEN
    expect(isUserPrivateGroup(100, { uid: 1000, gid: 100 }, users)).toBe(false);
  });

  it('is false for a primary group that lists members', () => {
    // GIVEN bob listed in alice's group
    const listed = parseAccountDatabase(PASSWD, GROUP.replace('alice:x:1000:', 'alice:x:1000:bob'));

    // WHEN / THEN
    expect(isUserPrivateGroup(1000, ALICE, listed)).toBe(false);
  });

  it('is false when the databases cannot say who is in the group', () => {
    // GIVEN the user not in /etc/passwd (a directory service), the group not in /etc/group
    const noUser = parseAccountDatabase(PASSWD.replace(/^alice:.*$/m, '# alice elsewhere'), GROUP);
    const noGroup = parseAccountDatabase(PASSWD, GROUP.replace('alice:x:1000:', 'other:x:3000:'));

    // WHEN / THEN
    expect(isUserPrivateGroup(1000, ALICE, undefined)).toBe(false);
    expect(isUserPrivateGroup(1000, ALICE, noUser)).toBe(false);
    expect(isUserPrivateGroup(1000, ALICE, noGroup)).toBe(false);
  });
});

describe('sharedWritingGroup', () => {
  const gid = process.getgid?.() ?? 0;

  it('names the group of a group-writable file that others are in, by name or else by gid', () => {
    expect(sharedWritingGroup({ mode: 0o100664, gid }, sharedGroupAccounts())).toBe('users');
    expect(sharedWritingGroup({ mode: 0o100664, gid: gid + 1 }, sharedGroupAccounts())).toBe(
      String(gid + 1),
    );
  });

  it('accepts a file writable by the user-private group, or not group-writable at all', () => {
    expect(sharedWritingGroup({ mode: 0o100664, gid }, userPrivateGroupAccounts())).toBeUndefined();
    expect(sharedWritingGroup({ mode: 0o100644, gid }, sharedGroupAccounts())).toBeUndefined();
  });
});

describe('systemAccountDatabase', () => {
  afterEach(() => {
    jest.dontMock('node:fs');
  });

  it('reads /etc/passwd and /etc/group once per process; unreadable: no group is private', async () => {
    // GIVEN a fresh module, reading account files that cannot be read
    const readFileSync = jest.fn(() => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    });
    let privateGroup: typeof import('#local/io/privateGroup') | undefined;
    await jest.isolateModulesAsync(async () => {
      jest.doMock('node:fs', () => ({ ...jest.requireActual('node:fs'), readFileSync }));
      privateGroup = await import('#local/io/privateGroup');
    });
    const gid = process.getgid?.() ?? 0;

    // WHEN
    const first = privateGroup?.systemAccountDatabase();
    const second = privateGroup?.systemAccountDatabase();
    const group = privateGroup?.sharedWritingGroup({ mode: 0o100664, gid });

    // THEN
    expect(first).toBeUndefined();
    expect(second).toBeUndefined();
    expect(readFileSync).toHaveBeenCalledTimes(1);
    expect(readFileSync).toHaveBeenCalledWith('/etc/passwd', 'utf8');
    if (process.getuid !== undefined) expect(group).toBe(String(gid));
  });
});
