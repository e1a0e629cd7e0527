import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnsafePathError } from './errors';

/** Permission bits of group and others: none may be set on what the local runtime keeps. */
export const GROUP_OTHER_BITS = 0o077;

/** Write permission of group and others: with it, they may rename, delete or replace entries of a folder. */
export const GROUP_OTHER_WRITE_BITS = 0o022;

const OTHERS_WRITE_BIT = 0o002;
/** On a folder (like /tmp): only an entry's owner (or the folder's, or root) may rename or delete it. */
const STICKY_BIT = 0o1000;
/** root may do anything anyway: what it owns is trusted, as OpenSSH's StrictModes trusts it. */
const ROOT_UID = 0;

/** Mode of the directories the local runtime creates. */
export const PRIVATE_DIR_MODE = 0o700;

/** Mode of the files the local runtime creates. */
export const PRIVATE_FILE_MODE = 0o600;

/** Options of {@link ensurePrivateDirectory}. */
export interface EnsurePrivateDirectoryOptions {
  /** What the directory holds, for error messages (`the local TLS certificate`). */
  readonly purpose: string;
  /**
   * Remove group and other permissions from an existing directory of this user instead of refusing it
   * (not from one that others may write to, or sticky like /tmp: that is refused all the same).
   * @default false
   */
  readonly repair?: boolean;
  /**
   * Accept `dir` itself being a symbolic link, and check the directory it points to (for a folder the
   * user named on the command line).
   * @default false
   */
  readonly followSymlink?: boolean;
}

/** Options of {@link restrictTree}. */
export interface RestrictTreeOptions {
  /** What the tree holds, for error messages. */
  readonly purpose: string;
  /**
   * Names of the entries of `dir` to restrict (with everything in them); others are left alone.
   * @default - every entry
   */
  readonly entries?: readonly string[];
  /**
   * Folders under which symbolic links are left alone (neither followed nor changed) instead of refused.
   * @default - none: a symbolic link anywhere is refused
   */
  readonly symlinksAllowedUnder?: readonly string[];
}

/** The current user's id; undefined where the platform has none (Windows: no owner or mode checks). */
export function currentUid(): number | undefined {
  return process.getuid?.();
}

/**
 * Creates `dir` (and missing parents) with mode 0700 unless it exists, then checks that it is a
 * directory private to the current user: a real directory (not a symbolic link, checked with lstat),
 * owned by the current user, with no group or other permissions — and, first, that no folder above
 * it lets another user replace it ({@link checkAncestors}).
 *
 * @returns the checked directory (the target when `followSymlink` followed a link)
 * @throws UnsafePathError naming the path and what is wrong with it
 *
 * @example
 * ensurePrivateDirectory('.shardflow', { purpose: 'the local runtime’s state', repair: true });
 */
export function ensurePrivateDirectory(
  dir: string,
  options: EnsurePrivateDirectoryOptions,
): string {
  const refuse = (reason: string): never => {
    throw new UnsafePathError(dir, `refusing to use ${dir} for ${options.purpose}: ${reason}`);
  };
  // Before anything is created: nothing is made in a place someone else controls.
  checkAncestors(dir, options.purpose);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    // Something that is not a directory is in the way: lstat below says what.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
  }
  let checked = dir;
  let stats = fs.lstatSync(dir);
  if (stats.isSymbolicLink()) {
    if (!options.followSymlink) {
      refuse(`it is a symbolic link (to ${fs.readlinkSync(dir)}); remove it`);
    }
    checked = fs.realpathSync(dir);
    stats = fs.lstatSync(checked);
  }
  if (!stats.isDirectory()) refuse('it is not a directory; remove it');
  const uid = currentUid();
  if (uid === undefined) return checked;
  if (stats.uid !== uid) {
    refuse(`it is owned by uid ${stats.uid}, not by you (uid ${uid}); remove it`);
  }
  if ((stats.mode & GROUP_OTHER_BITS) !== 0) {
    // A folder anyone may write to (such as /tmp) is shared by design: never made private here.
    if (!options.repair || (stats.mode & (OTHERS_WRITE_BIT | STICKY_BIT)) !== 0) {
      refuse(
        `its mode is ${octal(stats.mode)}, so other users may access it; run \`chmod 700 ${checked}\` or remove it`,
      );
    }
    fs.chmodSync(checked, stats.mode & PRIVATE_DIR_MODE);
  }
  return checked;
}

/**
 * Checks, like OpenSSH's StrictModes, that nobody but the current user and root can rename `dir`
 * away and put their own in its place (their own TLS certificate, state file …) after it was checked:
 * every folder above `dir` — on the path as given and on the real path its symbolic links lead to —
 * must be owned by the current user or root, and must not be writable by group or others unless it is
 * sticky (like /tmp, mode 1777, where only an entry's owner may rename or delete it). A symbolic link
 * on the way (`dir` itself included) must be owned by the current user or root. Folders that do not
 * exist yet are skipped: they are created private.
 *
 * @param purpose - what `dir` holds, for the error message
 * @throws UnsafePathError naming the first such folder (or link) from `dir` upwards
 *
 * @example
 * checkAncestors('/srv/shared/state', 'the local runtime’s state');
 * // UnsafePathError: refusing to use /srv/shared/state for the local runtime’s state: /srv/shared is
 * // writable by group or others (mode 0777) and not sticky, so another user could replace
 * // /srv/shared/state after it was checked; run `chmod go-w /srv/shared` or choose a folder elsewhere
 */
export function checkAncestors(dir: string, purpose: string): void {
  const uid = currentUid();
  if (uid === undefined) return;
  const refuse = (entry: string, reason: string, fix: string): never => {
    throw new UnsafePathError(
      entry,
      `refusing to use ${dir} for ${purpose}: ${entry} ${reason}, so another user could replace ${dir} after it was checked; ${fix}`,
    );
  };
  const checkOwner = (entry: string, stats: fs.Stats): void => {
    if (stats.uid !== uid && stats.uid !== ROOT_UID) {
      refuse(
        entry,
        `is owned by uid ${stats.uid}, neither by you (uid ${uid}) nor by root`,
        'choose a folder elsewhere',
      );
    }
  };
  const checkFolder = (entry: string, stats: fs.Stats): void => {
    if (!stats.isDirectory()) return; // in the way of mkdir, which says so
    checkOwner(entry, stats);
    if ((stats.mode & GROUP_OTHER_WRITE_BITS) !== 0 && (stats.mode & STICKY_BIT) === 0) {
      refuse(
        entry,
        `is writable by group or others (mode ${octal(stats.mode)}) and not sticky`,
        `run \`chmod go-w ${entry}\` or choose a folder elsewhere`,
      );
    }
  };
  const absolute = path.resolve(dir);
  // The path as given, from `dir` up: lstat, so that a link is seen as the link.
  let existing: string | undefined;
  for (const entry of upwards(absolute)) {
    const stats = ignoreMissing(() => fs.lstatSync(entry));
    if (stats === undefined) continue;
    existing ??= entry;
    if (stats.isSymbolicLink()) checkOwner(entry, stats);
    else if (entry !== absolute) checkFolder(entry, stats);
  }
  if (existing === undefined) return;
  // Where the links lead: the folders above the real path (`dir` itself is the caller's to check).
  const real = fs.realpathSync(existing);
  for (const entry of upwards(existing === absolute ? path.dirname(real) : real)) {
    checkFolder(entry, fs.statSync(entry));
  }
}

/**
 * Removes group and other permissions from everything under `dir` (top-down, so a directory is closed
 * before its entries are looked at), without following symbolic links. Entries that vanish meanwhile
 * (an engine renaming its files) are skipped. `dir` itself is left to {@link ensurePrivateDirectory}.
 *
 * @returns the paths whose mode was changed
 * @throws UnsafePathError for an entry owned by another user, or a symbolic link outside
 *   `symlinksAllowedUnder`
 */
export function restrictTree(dir: string, options: RestrictTreeOptions): string[] {
  const uid = currentUid();
  if (uid === undefined) return [];
  const allowed = (options.symlinksAllowedUnder ?? []).map((folder) => path.resolve(folder));
  const changed: string[] = [];
  const visit = (folder: string): void => {
    const names = ignoreMissing(() => fs.readdirSync(folder)) ?? [];
    const selected =
      folder === dir && options.entries !== undefined
        ? names.filter((name) => options.entries?.includes(name))
        : names;
    for (const name of selected) {
      const entry = path.join(folder, name);
      const stats = ignoreMissing(() => fs.lstatSync(entry));
      if (stats === undefined) continue;
      if (stats.isSymbolicLink()) {
        if (allowed.some((root) => isInside(path.resolve(entry), root))) continue;
        throw new UnsafePathError(
          entry,
          `refusing to keep ${options.purpose} in ${dir}: ${entry} is a symbolic link; remove it`,
        );
      }
      if (stats.uid !== uid) {
        throw new UnsafePathError(
          entry,
          `refusing to keep ${options.purpose} in ${dir}: ${entry} is owned by uid ${stats.uid}, not by you (uid ${uid}); remove it`,
        );
      }
      if ((stats.mode & GROUP_OTHER_BITS) !== 0) {
        ignoreMissing(() => fs.chmodSync(entry, stats.mode & PRIVATE_DIR_MODE));
        changed.push(entry);
      }
      if (stats.isDirectory()) visit(entry);
    }
  };
  visit(dir);
  return changed;
}

/** `entry` and every folder above it, up to the root. */
function* upwards(entry: string): Generator<string> {
  for (let current = entry; ; current = path.dirname(current)) {
    yield current;
    if (current === path.dirname(current)) return;
  }
}

function isInside(entry: string, root: string): boolean {
  const relative = path.relative(root, entry);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function ignoreMissing<T>(action: () => T): T | undefined {
  try {
    return action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a file where a folder of the path should be; mkdir fails on it and says so.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
