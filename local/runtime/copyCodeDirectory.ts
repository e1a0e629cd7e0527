import * as fs from 'node:fs';
import * as path from 'node:path';
import { currentUid, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '#local/io/privateDirectory';
import { type AccountDatabase, sharedWritingGroup } from '#local/io/privateGroup';
import { COPY_CHUNK_BYTES, OTHERS_WRITE_BIT, PRIVATE_EXECUTABLE_MODE, ROOT_UID } from './constants';
import { UnsafeCodePathError } from './errors';

const {
  O_RDONLY,
  O_WRONLY,
  O_CREAT,
  O_EXCL,
  // Absent on Windows, which has neither owners nor these races to guard against.
  O_NOFOLLOW = 0,
  O_NONBLOCK = 0,
} = fs.constants;

/** What {@link copyCodeDirectory} copied. */
export interface CodeCopy {
  /** Files written. */
  readonly files: number;
  /** Bytes written. */
  readonly bytes: number;
}

/** Options of {@link copyCodeDirectory}. */
export interface CopyCodeDirectoryOptions {
  /**
   * The account and group databases that tell whether the group of a group-writable file is the
   * current user's private group.
   * @default - /etc/passwd and /etc/group, read once per process
   */
  readonly accounts?: AccountDatabase;
}

/** Whether `entry` is `root` or inside it. */
function isInside(entry: string, root: string): boolean {
  const relative = path.relative(root, entry);
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  );
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Copies a function's code directory `source` into `destination` (a new folder, which must not exist,
 * in a private folder), trusting only what nobody but the current user (or root) can have written:
 *
 * - every file, folder and symbolic link on the way must be owned by the current user or root — a file
 *   another user planted is owned by them, even in a folder anyone may write to (the CDK leaves
 *   `cdk.out/asset.*` folders 0777), so such a folder is fine to copy from as long as everything in it
 *   is the user's;
 * - each file is read through a descriptor opened without following a symbolic link (`O_NOFOLLOW`) and
 *   checked with fstat: a regular file, of the user or root, that others may not write to — nor members
 *   of its group, unless that is the user's private group (with umask 002 and a shared primary group
 *   such as `users`, its other members could edit the handler); and it must still be the file at its
 *   path (same inode, same real path), so a folder swapped for a link while copying is noticed;
 * - a symbolic link must lead to a file or folder inside `source` (followed to the end), and what it
 *   leads to is copied in its place (loops are refused; a dangling link is left out).
 *
 * Copies are made exclusively (`O_EXCL`, `mkdir` of a new folder): folders 0700, files 0600, or 0700
 * if the original had an execute bit.
 *
 * @throws UnsafeCodePathError naming the file, folder or link that cannot be trusted and why
 *
 * @example
 * const { files, bytes } = copyCodeDirectory('cdk.out/asset.3d93…', '.shardflow/code/run-42-x/0-asset.3d93…');
 */
export function copyCodeDirectory(
  source: string,
  destination: string,
  options: CopyCodeDirectoryOptions = {},
): CodeCopy {
  const uid = currentUid();
  const root = fs.realpathSync.native(source);
  let files = 0;
  let bytes = 0;

  const checkOwner = (entry: string, stats: fs.Stats): void => {
    if (uid === undefined || stats.uid === uid || stats.uid === ROOT_UID) return;
    throw new UnsafeCodePathError(
      entry,
      `is owned by uid ${stats.uid}, neither by you (uid ${uid}) nor by root: another user may have written it`,
    );
  };

  const copyFile = (from: string, to: string): void => {
    let input: number;
    try {
      input = fs.openSync(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
        throw new UnsafeCodePathError(from, 'became a symbolic link while it was copied');
      }
      throw error;
    }
    try {
      const stats = fs.fstatSync(input);
      if (!stats.isFile()) throw new UnsafeCodePathError(from, 'is not a regular file');
      checkOwner(from, stats);
      if (uid !== undefined && (stats.mode & OTHERS_WRITE_BIT) !== 0) {
        throw new UnsafeCodePathError(
          from,
          `may be written by anyone (mode ${octal(stats.mode)}): another user may have changed it`,
        );
      }
      const group = sharedWritingGroup(stats, options.accounts);
      if (group !== undefined) {
        throw new UnsafeCodePathError(
          from,
          `may be written by members of group ${group} (mode ${octal(stats.mode)}): another user may have changed it; run \`chmod g-w ${from}\`, or synthesize again with umask 022`,
        );
      }
      // What was opened is the file at `from`, reached without a symbolic link on the way.
      const now = fs.lstatSync(from);
      if (now.ino !== stats.ino || now.dev !== stats.dev || fs.realpathSync.native(from) !== from) {
        throw new UnsafeCodePathError(from, 'was replaced while it was copied');
      }
      const mode = (stats.mode & 0o111) !== 0 ? PRIVATE_EXECUTABLE_MODE : PRIVATE_FILE_MODE;
      const output = fs.openSync(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      try {
        fs.fchmodSync(output, mode); // exactly, whatever the umask
        const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(stats.size, 1)));
        for (;;) {
          const read = fs.readSync(input, buffer, 0, buffer.length, null);
          if (read === 0) break;
          let written = 0;
          while (written < read) {
            written += fs.writeSync(output, buffer, written, read - written);
          }
          bytes += read;
        }
      } finally {
        fs.closeSync(output);
      }
      files += 1;
    } finally {
      fs.closeSync(input);
    }
  };

  /** Copies the folder `from` (a real path inside `root`); `open` are the folders being copied. */
  const copyFolder = (from: string, to: string, open: readonly string[]): void => {
    fs.mkdirSync(to, { mode: PRIVATE_DIR_MODE });
    fs.chmodSync(to, PRIVATE_DIR_MODE);
    for (const name of fs.readdirSync(from)) {
      const entry = path.join(from, name);
      const target = path.join(to, name);
      const stats = fs.lstatSync(entry);
      checkOwner(entry, stats);
      if (stats.isDirectory()) {
        copyFolder(entry, target, [...open, entry]);
      } else if (stats.isFile()) {
        copyFile(entry, target);
      } else if (stats.isSymbolicLink()) {
        copyLinked(entry, target, open);
      } else {
        throw new UnsafeCodePathError(entry, 'is not a regular file, folder or symbolic link');
      }
    }
  };

  const copyLinked = (link: string, target: string, open: readonly string[]): void => {
    let real: string;
    try {
      real = fs.realpathSync.native(link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // dangling: nothing to copy
      throw error;
    }
    if (!isInside(real, root)) {
      throw new UnsafeCodePathError(
        link,
        `is a symbolic link to ${fs.readlinkSync(link)}, which leads to ${real}, outside the function's code directory ${root}`,
      );
    }
    const stats = fs.statSync(real);
    if (stats.isDirectory()) {
      if (open.some((folder) => isInside(folder, real))) {
        throw new UnsafeCodePathError(
          link,
          `is a symbolic link to ${real}, a folder it is in: a loop`,
        );
      }
      checkOwner(real, stats);
      copyFolder(real, target, [...open, real]);
    } else {
      copyFile(real, target);
    }
  };

  const given = fs.lstatSync(source);
  if (given.isSymbolicLink()) checkOwner(source, given); // a link another user put in place
  const stats = fs.lstatSync(root);
  if (!stats.isDirectory()) throw new UnsafeCodePathError(root, 'is not a folder');
  checkOwner(root, stats);
  copyFolder(root, destination, [root]);
  return { files, bytes };
}
