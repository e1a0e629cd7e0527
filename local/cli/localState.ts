import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineEndpoints } from '#local/engines/types';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '#local/io/privateDirectory';
import {
  isValidPid,
  type ProcessIdentity,
  type ProcessTable,
  sameProcess,
  systemProcessTable,
} from './processIdentity';

/** Where `shardflow local up` keeps what other commands need to find the running local AWS. */
export const LOCAL_DIR = '.shardflow';
/** The state file inside {@link LOCAL_DIR}. */
export const LOCAL_STATE_FILE = 'local.json';

/** A resource of the local deployment, by the logical name users type. */
export interface LocalResourceName {
  readonly type: string;
  readonly physicalName: string;
  readonly arn: string;
  readonly stack: string;
  readonly logicalId: string;
}

/** Contents of `.shardflow/local.json`, written by `local up` once everything is ready. */
export interface LocalState {
  readonly version: 1;
  /** Process id of the `local up` runtime (what `local down` stops). */
  readonly pid: number;
  /** Process ids of the engines (and their helper processes) this runtime started. */
  readonly enginePids: readonly number[];
  readonly startedAt: string;
  readonly cdkOut: string;
  readonly endpoints: EngineEndpoints;
  /** Logical name (`numbers`) → the resource deployed locally. */
  readonly names: Readonly<Record<string, LocalResourceName>>;
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
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'valid'; readonly state: LocalState };

/** Whether the process a state file names is the runtime that wrote it. */
export type RuntimeStatus =
  | { readonly status: 'running' }
  /** No process has the PID any more. */
  | { readonly status: 'gone' }
  /** Another process has the PID now. */
  | { readonly status: 'replaced'; readonly found: ProcessIdentity }
  /** A process has the PID, but whether it is the runtime cannot be told. */
  | { readonly status: 'unverifiable'; readonly reason: string };

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
 * Reads and checks the state file: `invalid` (with the reason) when it is not a regular file, not JSON,
 * or names a PID that is not an integer greater than 1 — such a file must never lead to a signal.
 */
export function readLocalStateFile(projectDir: string = process.cwd()): LocalStateFile {
  const file = localStatePath(projectDir);
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent' };
    throw error;
  }
  if (!stats.isFile()) return { status: 'invalid', reason: 'it is not a regular file' };
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent' };
    return { status: 'invalid', reason: 'it is not JSON' };
  }
  const reason = invalidReason(value);
  return reason === undefined
    ? { status: 'valid', state: value as LocalState }
    : { status: 'invalid', reason };
}

/** Reads the state file, or returns undefined when there is none (or it is invalid). */
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
 * Tells whether the process the state file names is still the runtime that wrote it, by comparing
 * its recorded {@link LocalState.identity} with the process table's.
 */
export function runtimeStatus(
  state: LocalState,
  processes: ProcessTable = systemProcessTable,
): RuntimeStatus {
  let found: ProcessIdentity | undefined;
  try {
    found = processes.identify(state.pid);
  } catch (error) {
    return { status: 'unverifiable', reason: (error as Error).message };
  }
  if (found === undefined) return { status: 'gone' };
  if (state.identity === undefined) {
    return {
      status: 'unverifiable',
      reason: 'the file records no process identity (written by an older shardflow?)',
    };
  }
  return sameProcess(found, state.identity) ? { status: 'running' } : { status: 'replaced', found };
}

/** Whether a process is alive; false for anything but a single process' id (see {@link isValidPid}). */
export function isAlive(pid: number): boolean {
  if (!isValidPid(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
