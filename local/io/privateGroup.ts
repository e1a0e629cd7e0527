import * as fs from 'node:fs';
import { currentUid } from './privateDirectory';

/** Write permission of the group: with it, every member of the file's group may change the file. */
export const GROUP_WRITE_BIT = 0o020;

/** The local account database: accounts and their primary groups. */
export const PASSWD_FILE = '/etc/passwd';

/** The local group database: groups and their listed (supplementary) members. */
export const GROUP_FILE = '/etc/group';

/** An account of {@link PASSWD_FILE}. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  /** Primary group. */
  readonly gid: number;
}

/** A group of {@link GROUP_FILE}. */
export interface Group {
  readonly name: string;
  readonly gid: number;
  /** Accounts listed as members (supplementary members; those with it as primary group are not listed). */
  readonly members: readonly string[];
}

/** What the account and group databases say, parsed. */
export interface AccountDatabase {
  readonly accounts: readonly Account[];
  readonly groups: readonly Group[];
}

/** The user a group must be private to. */
export interface GroupUser {
  readonly uid: number;
  /** Primary group (`process.getgid()`). */
  readonly gid: number;
}

const NUMBER = /^\d+$/;

/**
 * The entries of a colon-separated database file with exactly `fields` fields each, or undefined when a
 * line is malformed (a NIS `+`/`-` line included: its accounts are elsewhere). Blank lines and `#`
 * comments are skipped, as glibc's files backend skips them.
 */
function parseLines(text: string, fields: number): string[][] | undefined {
  const entries: string[][] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const entry = line.split(':');
    const name = entry[0] ?? '';
    if (entry.length !== fields || name === '' || name.startsWith('+') || name.startsWith('-')) {
      return undefined;
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * Parses the text of /etc/passwd and /etc/group.
 *
 * @returns the accounts and groups, or undefined when either text is malformed (a line without the
 *   right number of fields, a uid or gid that is no number, a NIS `+`/`-` entry)
 *
 * @example
 * parseAccountDatabase('alice:x:1000:1000::/home/alice:/bin/sh\n', 'alice:x:1000:\n');
 */
export function parseAccountDatabase(passwd: string, group: string): AccountDatabase | undefined {
  const accountLines = parseLines(passwd, 7);
  const groupLines = parseLines(group, 4);
  if (accountLines === undefined || groupLines === undefined) return undefined;
  const accounts: Account[] = [];
  for (const [name = '', , uid = '', gid = ''] of accountLines) {
    if (!NUMBER.test(uid) || !NUMBER.test(gid)) return undefined;
    accounts.push({ name, uid: Number(uid), gid: Number(gid) });
  }
  const groups: Group[] = [];
  for (const [name = '', , gid = '', members = ''] of groupLines) {
    if (!NUMBER.test(gid)) return undefined;
    const listed = members
      .split(',')
      .map((member) => member.trim())
      .filter((member) => member !== '');
    groups.push({ name, gid: Number(gid), members: listed });
  }
  return { accounts, groups };
}

/**
 * Whether `gid` is a user-private group of `user` — a group nobody but the user is in, so that a file
 * writable by it may be written by the user alone: it is the user's primary group, the user's own
 * account in the database says so, no other account has it as primary group, and the group is listed
 * without members. root's group 0 is judged by the same rule.
 *
 * @param database - the parsed account and group databases; undefined (unreadable or malformed): no
 *   group is private
 *
 * @example
 * // true with `alice:x:1000:1000:…` in /etc/passwd, `alice:x:1000:` in /etc/group, and nobody else in 1000
 * isUserPrivateGroup(1000, { uid: 1000, gid: 1000 }, parseAccountDatabase(passwd, group));
 */
export function isUserPrivateGroup(
  gid: number,
  user: GroupUser,
  database: AccountDatabase | undefined,
): boolean {
  if (database === undefined || gid !== user.gid) return false;
  // The user's own account: else the account (and who shares its group) lives in another database.
  const own = database.accounts.filter((account) => account.uid === user.uid);
  if (own.length === 0 || own.some((account) => account.gid !== gid)) return false;
  // Nobody else has it as primary group …
  if (database.accounts.some((account) => account.uid !== user.uid && account.gid === gid)) {
    return false;
  }
  // … nor is listed in it (and it is in the group database, not in one that is not read).
  const entries = database.groups.filter((group) => group.gid === gid);
  return entries.length > 0 && entries.every((group) => group.members.length === 0);
}

let systemDatabase: { readonly database: AccountDatabase | undefined } | undefined;

/**
 * The account and group databases of this machine ({@link PASSWD_FILE}, {@link GROUP_FILE}), read and
 * parsed once per process; undefined when either cannot be read or parsed.
 */
export function systemAccountDatabase(): AccountDatabase | undefined {
  if (systemDatabase === undefined) {
    let database: AccountDatabase | undefined;
    try {
      database = parseAccountDatabase(
        fs.readFileSync(PASSWD_FILE, 'utf8'),
        fs.readFileSync(GROUP_FILE, 'utf8'),
      );
    } catch {
      database = undefined; // not private, then: nothing group-writable is trusted
    }
    systemDatabase = { database };
  }
  return systemDatabase.database;
}

/**
 * The group of a file that members of it other than the current user may write to — the file is
 * group-writable and its group is not a user-private group of the current user
 * ({@link isUserPrivateGroup}) — by its name, or its gid when it has none; undefined when only the user
 * may write to it through its group, or where the platform has no users (Windows).
 *
 * @param database - the account and group databases; by default {@link systemAccountDatabase}, read only
 *   when the file is group-writable
 *
 * @example
 * const group = sharedWritingGroup(fs.statSync('cdk.out/S.template.json'));
 * if (group !== undefined) console.log(`may be written by members of group ${group}`);
 */
export function sharedWritingGroup(
  stats: { readonly mode: number; readonly gid: number },
  database?: AccountDatabase,
): string | undefined {
  const uid = currentUid();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined || (stats.mode & GROUP_WRITE_BIT) === 0) {
    return undefined;
  }
  const known = database ?? systemAccountDatabase();
  if (isUserPrivateGroup(stats.gid, { uid, gid }, known)) return undefined;
  return known?.groups.find((group) => group.gid === stats.gid)?.name ?? String(stats.gid);
}
