import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineEndpoints } from '#local/engines/types';

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
}

/** Path of the state file for a project directory. */
export function localStatePath(projectDir: string = process.cwd()): string {
  return path.join(projectDir, LOCAL_DIR, LOCAL_STATE_FILE);
}

/** Writes the state file atomically, so a reader never sees half of it. */
export function writeLocalState(state: LocalState, projectDir: string = process.cwd()): string {
  const file = localStatePath(projectDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(temporary, file);
  return file;
}

/** Reads the state file, or returns undefined when no local runtime was started from this directory. */
export function readLocalState(projectDir: string = process.cwd()): LocalState | undefined {
  const file = localStatePath(projectDir);
  if (!fs.existsSync(file)) {
    return undefined;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as LocalState;
}

/** Removes the state file if it belongs to this process (or unconditionally with `force`). */
export function removeLocalState(projectDir: string = process.cwd(), pid?: number): void {
  const state = readLocalState(projectDir);
  if (state && (pid === undefined || state.pid === pid)) {
    fs.rmSync(localStatePath(projectDir), { force: true });
  }
}

/** Whether a process is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
