import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnsafePathError } from '#local/io/errors';
import {
  checkAncestors,
  currentUid,
  GROUP_OTHER_WRITE_BITS,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
} from '#local/io/privateDirectory';
import type { LocalSessionState } from '#local/session/types';
import { NoLocalRuntimeError } from './errors';
import {
  isValidPid,
  type ProcessDetails,
  type ProcessIdentity,
  type ProcessTable,
  sameProcess,
  systemProcessTable,
} from './processIdentity';

/** Where `shardflow local up` keeps what other commands need to find the running local AWS. */
export const LOCAL_DIR = '.shardflow';
/** The state file inside {@link LOCAL_DIR}. */
export const LOCAL_STATE_FILE = 'local.json';

/** 0 where the platform has no such flag (Windows): no owner or mode checks there either. */
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

/** Contents of `.shardflow/local.json`, written by `local up` once everything is ready. */
export interface LocalState extends LocalSessionState {
  /**
   * Start time and boot of the process `pid`, so that `local down` signals that process and never
   * another one that got its PID later.
   * @default - absent in files of older versions (and where the process table cannot be read):
   *   `local down` then signals nothing
   */
  readonly identity?: ProcessIdentity;
}

/** What {@link readLocalStateFile} found. */
export type LocalStateFile =
  | { readonly status: 'absent' }
  /** Not a state file `local up` could have written (not JSON, a bad PID, a symbolic link …). */
  | { readonly status: 'invalid'; readonly reason: string }
  /** Someone other than the current user (or root) could have written it: never acted on. */
  | { readonly status: 'untrusted'; readonly reason: string }
  | { readonly status: 'valid'; readonly state: LocalState };

/** Whether the process a state file names is the runtime that wrote it. */
export type RuntimeStatus =
  | { readonly status: 'running' }
  /** No process has the PID any more. */
  | { readonly status: 'gone' }
  /** Another process has the PID now. */
  | { readonly status: 'replaced'; readonly found: ProcessIdentity }
  /** A process has the PID, but whether it is the runtime cannot be told. */
  | { readonly status: 'unverifiable'; readonly reason: string }
  /**
   * The process has the recorded identity (which anyone can read in /proc), but is another user's or
   * not a shardflow local runtime: the file was not written by the runtime it names.
   */
  | { readonly status: 'foreign'; readonly reason: string };

/** Whether a runtime is running in a project directory, by {@link findLocalRuntime}. */
export type LocalRuntime =
  /** No state file: no runtime was started here (or it was stopped). */
  | { readonly status: 'absent' }
  | { readonly status: 'running'; readonly state: LocalState }
  /** A state file, but no runtime it names can be verified to run; `reason` says why. */
  | { readonly status: 'not-running'; readonly reason: string };

/** What the runtime's process runs: `<node> …/shardflow[.js] local up …` (see {@link isLocalRuntimeCommand}). */
const CLI_SCRIPT = /^shardflow(\.[cm]?js)?$/;

/** Path of the state file for a project directory. */
export function localStatePath(projectDir: string = process.cwd()): string {
  return path.join(projectDir, LOCAL_DIR, LOCAL_STATE_FILE);
}

/**
 * Writes the state file atomically, so a reader never sees half of it: a new file of this user's
 * only (mode 0600, created exclusively, never through an existing file or link) renamed over the old one.
 */
export function writeLocalState(state: LocalState, projectDir: string = process.cwd()): string {
  const file = localStatePath(projectDir);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const temporary = `${file}.${randomUUID()}.tmp`;
  try {
    fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, {
      mode: PRIVATE_FILE_MODE,
      flag: 'wx',
    });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  return file;
}

/**
 * Reads and checks the state file, which decides what `local down` signals and where other commands
 * send records, so it is trusted only if nobody but the current user (or root) can have written it:
 *
 * - `untrusted` (with the reason) when `.shardflow/` is not a real directory of the current user that
 *   neither group nor others may write to, when a folder above it lets another user replace it (see
 *   {@link checkAncestors}), or when the file is another user's or group/other-writable;
 * - `invalid` when it is a symbolic link (opened with O_NOFOLLOW, checked with fstat on the open
 *   file) or not a regular file, not JSON, or names a PID that is not an integer greater than 1 —
 *   such a file must never lead to a signal.
 */
export function readLocalStateFile(projectDir: string = process.cwd()): LocalStateFile {
  const dir = path.join(projectDir, LOCAL_DIR);
  const file = localStatePath(projectDir);
  const uid = currentUid();
  let dirStats: fs.Stats;
  try {
    dirStats = fs.lstatSync(dir);
  } catch (error) {
    if (isMissing(error)) return { status: 'absent' };
    throw error;
  }
  if (!dirStats.isDirectory()) {
    return {
      status: 'untrusted',
      reason: `${dir} is ${dirStats.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`,
    };
  }
  if (uid !== undefined) {
    const unsafe = unsafeOwnerOrMode(dir, dirStats, uid);
    if (unsafe !== undefined) return { status: 'untrusted', reason: unsafe };
    try {
      checkAncestors(dir, 'the local runtime’s state');
    } catch (error) {
      if (error instanceof UnsafePathError) return { status: 'untrusted', reason: error.message };
      throw error;
    }
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted here must not block the open; fstat below refuses it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (isMissing(error)) return { status: 'absent' };
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      return { status: 'invalid', reason: 'it is a symbolic link' };
    }
    return { status: 'untrusted', reason: `it cannot be opened (${(error as Error).message})` };
  }
  let text: string;
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return { status: 'invalid', reason: 'it is not a regular file' };
    if (uid !== undefined) {
      const unsafe = unsafeOwnerOrMode(file, stats, uid);
      if (unsafe !== undefined) return { status: 'untrusted', reason: unsafe };
    }
    text = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 'invalid', reason: 'it is not JSON' };
  }
  const reason = invalidReason(value);
  return reason === undefined
    ? { status: 'valid', state: value as LocalState }
    : { status: 'invalid', reason };
}

/** Reads the state file, or returns undefined when there is none (or it is invalid or not trusted). */
export function readLocalState(projectDir: string = process.cwd()): LocalState | undefined {
  const read = readLocalStateFile(projectDir);
  return read.status === 'valid' ? read.state : undefined;
}

/** Removes the state file if it belongs to the runtime `pid` (or unconditionally without `pid`). */
export function removeLocalState(projectDir: string = process.cwd(), pid?: number): void {
  if (pid !== undefined) {
    const read = readLocalStateFile(projectDir);
    if (read.status !== 'valid' || read.state.pid !== pid) return;
  }
  fs.rmSync(localStatePath(projectDir), { force: true });
}

/**
 * Tells whether the process the state file names is still the runtime that wrote it: the process with
 * that PID has the recorded {@link LocalState.identity} (start time and boot), is the current user's
 * (real uid), and runs shardflow's `local up` ({@link isLocalRuntimeCommand}). The identity alone is
 * not enough: anyone can read it in /proc and write it into a state file.
 */
export function runtimeStatus(
  state: LocalState,
  processes: ProcessTable = systemProcessTable,
): RuntimeStatus {
  const { pid, identity } = state;
  let details: ProcessDetails | undefined;
  try {
    const found = processes.identify(pid);
    if (found === undefined) return { status: 'gone' };
    if (identity === undefined) {
      return {
        status: 'unverifiable',
        reason: 'the file records no process identity (written by an older shardflow?)',
      };
    }
    if (!sameProcess(found, identity)) return { status: 'replaced', found };
    details = processes.inspect(pid);
    // Looked up again: the details must be of the process whose identity was compared.
    const again = processes.identify(pid);
    if (details === undefined || again === undefined) return { status: 'gone' };
    if (!sameProcess(again, identity)) return { status: 'replaced', found: again };
  } catch (error) {
    return { status: 'unverifiable', reason: (error as Error).message };
  }
  const uid = currentUid();
  if (uid !== undefined && details.uid !== uid) {
    return {
      status: 'foreign',
      reason: `pid ${pid} is a process of uid ${details.uid}, not yours (uid ${uid})`,
    };
  }
  if (!isLocalRuntimeCommand(details.argv)) {
    return {
      status: 'foreign',
      reason: `pid ${pid} is not a shardflow local runtime: it runs \`${shorten(details.argv.join(' '))}\``,
    };
  }
  return { status: 'running' };
}

/**
 * Whether a command line is that of a local runtime: shardflow's CLI script (`bin/shardflow.js`, or
 * the `shardflow` link package managers put in `node_modules/.bin`) run with `local up` — as a user
 * runs it in the foreground, and as `local up --detach` starts it again in the background
 * (`<node> <script> local up …` without `--detach`).
 */
export function isLocalRuntimeCommand(argv: readonly string[]): boolean {
  return argv.some(
    (arg, i) =>
      CLI_SCRIPT.test(path.basename(arg)) && argv[i + 1] === 'local' && argv[i + 2] === 'up',
  );
}

/**
 * Whether the runtime the state file names is still running here, verified as `local down` verifies
 * it before it signals anything: a trusted file ({@link readLocalStateFile}) naming a process that is
 * still the runtime that wrote it ({@link runtimeStatus}). Prints nothing.
 */
export function findLocalRuntime(
  projectDir: string = process.cwd(),
  processes: ProcessTable = systemProcessTable,
): LocalRuntime {
  const read = readLocalStateFile(projectDir);
  switch (read.status) {
    case 'absent':
      return read;
    case 'invalid':
      return { status: 'not-running', reason: `it is invalid (${read.reason})` };
    case 'untrusted':
      return { status: 'not-running', reason: `it is not trusted: ${read.reason}` };
    case 'valid':
      break;
  }
  const { pid } = read.state;
  const status = runtimeStatus(read.state, processes);
  switch (status.status) {
    case 'running': {
      // A runtime whose engine died stops itself; until it has, the engine's port may be anyone's.
      const deadEngine = read.state.enginePids.find((engine) => !processExists(processes, engine));
      if (deadEngine !== undefined) {
        return {
          status: 'not-running',
          reason: `its engine process ${deadEngine} is gone, so its port may be another program’s now`,
        };
      }
      return { status: 'running', state: read.state };
    }
    case 'gone':
      return { status: 'not-running', reason: `it is stale: no process has pid ${pid}` };
    case 'replaced':
      return {
        status: 'not-running',
        reason: `it is stale: another process has taken pid ${pid}`,
      };
    case 'unverifiable':
      return {
        status: 'not-running',
        reason: `cannot verify that pid ${pid} is a local runtime (${status.reason}); if it is, stop it with \`kill ${pid}\``,
      };
    case 'foreign':
      return { status: 'not-running', reason: status.reason };
  }
}

/**
 * The runtime `.shardflow/local.json` names, if it is verified to run ({@link findLocalRuntime}); a
 * file that is stale, invalid or not trusted is reported on stderr and ignored, so it never keeps
 * `local up` from starting.
 */
export function runningRuntime(
  projectDir: string = process.cwd(),
  processes: ProcessTable = systemProcessTable,
): LocalState | undefined {
  const runtime = findLocalRuntime(projectDir, processes);
  if (runtime.status === 'not-running') {
    process.stderr.write(
      `shardflow: ignoring ${displayPath(localStatePath(projectDir))}: ${runtime.reason}\n`,
    );
  }
  return runtime.status === 'running' ? runtime.state : undefined;
}

/**
 * The runtime every command that talks to the local engines uses (`send`, `tail`, `failures`,
 * `redrive`): the one {@link findLocalRuntime} verifies to run here, never the endpoints of a file
 * whose runtime is gone (another program may listen on its ports now).
 *
 * @throws NoLocalRuntimeError when none is verified to run, with why a state file there is ignored
 */
export function requireRunningRuntime(
  projectDir: string = process.cwd(),
  processes: ProcessTable = systemProcessTable,
): LocalState {
  const runtime = findLocalRuntime(projectDir, processes);
  if (runtime.status === 'running') return runtime.state;
  throw new NoLocalRuntimeError(
    projectDir,
    runtime.status === 'absent'
      ? undefined
      : `${displayPath(localStatePath(projectDir))}: ${runtime.reason}`,
  );
}

/** A path relative to the current directory when it is inside it, for messages. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function invalidReason(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'it is not a JSON object';
  const state = value as Record<string, unknown>;
  if (state.version !== 1) return `unknown version ${JSON.stringify(state.version)}`;
  if (!isValidPid(state.pid)) {
    return `pid must be an integer greater than 1, got ${JSON.stringify(state.pid)}`;
  }
  if (!Array.isArray(state.enginePids) || !state.enginePids.every(isValidPid)) {
    return 'enginePids must be integers greater than 1';
  }
  if (state.identity !== undefined && !isIdentity(state.identity)) {
    return 'identity must be { startTime: string, bootId?: string }';
  }
  if (typeof state.endpoints !== 'object' || state.endpoints === null) return 'endpoints missing';
  const { credentials } = state.endpoints as Record<string, unknown>;
  if (
    typeof credentials !== 'object' ||
    credentials === null ||
    !isNonEmptyString((credentials as Record<string, unknown>).accessKeyId) ||
    !isNonEmptyString((credentials as Record<string, unknown>).secretAccessKey)
  ) {
    return 'endpoints.credentials must be { accessKeyId: string, secretAccessKey: string }, both non-empty';
  }
  if (typeof state.names !== 'object' || state.names === null) return 'names missing';
  return undefined;
}

function isIdentity(value: unknown): value is ProcessIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const identity = value as Record<string, unknown>;
  return (
    typeof identity.startTime === 'string' &&
    (identity.bootId === undefined || typeof identity.bootId === 'string')
  );
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Why `entry` may have been written by someone else: another owner, or group/other write permission. */
function unsafeOwnerOrMode(entry: string, stats: fs.Stats, uid: number): string | undefined {
  if (stats.uid !== uid) return `${entry} is owned by uid ${stats.uid}, not by you (uid ${uid})`;
  if ((stats.mode & GROUP_OTHER_WRITE_BITS) !== 0) {
    return `${entry} is writable by group or others (mode 0${(stats.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Whether a process has this PID; one whose table cannot be read counts as present. */
function processExists(processes: ProcessTable, pid: number): boolean {
  try {
    return processes.identify(pid) !== undefined;
  } catch {
    return true;
  }
}
