import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * What tells one process apart from any later process given the same PID: when it started, in the
 * kernel's process table, and which boot that was in. Compared as recorded, never converted to a
 * wall-clock time (which would depend on the boot time the kernel reports, and on clock changes).
 */
export interface ProcessIdentity {
  /**
   * Linux: field 22 of `/proc/<pid>/stat`, clock ticks from boot to the process' start. Elsewhere:
   * `ps -o lstart=` in UTC (one-second resolution).
   */
  readonly startTime: string;
  /** Linux: `/proc/sys/kernel/random/boot_id`, random per boot. @default - absent elsewhere */
  readonly bootId?: string;
}

/** Looks processes up and signals them: the system's, or a fake in tests. */
export interface ProcessTable {
  /**
   * The identity of the process with this PID — one that has exited but is not yet reaped (a zombie)
   * included: it keeps its PID until then — or undefined when no process has it.
   * @throws ProcessInspectionError when the process table cannot be read on this platform
   */
  identify(pid: number): ProcessIdentity | undefined;
  /** Sends a signal; refuses PIDs that {@link isValidPid} rejects. */
  signal(pid: number, signal: NodeJS.Signals): void;
}

/** The process table cannot be read here (no /proc and no `ps`). */
export class ProcessInspectionError extends Error {
  public constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProcessInspectionError';
  }
}

/**
 * Whether `value` can name a single process to signal: an integer greater than 1. 0 and negative
 * numbers address process groups (-1: every process the user may signal), 1 is init.
 */
export function isValidPid(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 1;
}

/** Whether two identities are of the same process. */
export function sameProcess(a: ProcessIdentity | undefined, b: ProcessIdentity): boolean {
  return a !== undefined && a.startTime === b.startTime && a.bootId === b.bootId;
}

/**
 * State (field 3) and start time (field 22) of a `/proc/<pid>/stat` line. The command name (field 2)
 * is in parentheses and may itself contain spaces and parentheses, so fields are counted after the
 * last `)`.
 */
export function parseProcStat(line: string): { state: string; startTime: string } {
  const end = line.lastIndexOf(')');
  const fields = line
    .slice(end + 1)
    .trim()
    .split(/\s+/);
  const state = fields[0];
  const startTime = fields[22 - 3];
  if (end < 0 || state === undefined || startTime === undefined || !/^\d+$/.test(startTime)) {
    throw new ProcessInspectionError(`unexpected /proc/<pid>/stat line: ${line.slice(0, 200)}`);
  }
  return { state, startTime };
}

/** Identity from `/proc` (Linux). */
export function identifyWithProc(pid: number): ProcessIdentity | undefined {
  if (!isValidPid(pid)) return undefined;
  let line: string;
  try {
    line = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw new ProcessInspectionError(`cannot read /proc/${pid}/stat`, { cause: error });
  }
  const { state, startTime } = parseProcStat(line);
  // X: reaped, the entry is on its way out.
  if (state === 'X') return undefined;
  const boot = bootId();
  return boot === undefined ? { startTime } : { startTime, bootId: boot };
}

/** Identity from `ps` (any POSIX system), for platforms without `/proc`. */
export function identifyWithPs(pid: number): ProcessIdentity | undefined {
  if (!isValidPid(pid)) return undefined;
  let output: string;
  try {
    output = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' },
    });
  } catch (error) {
    // ps exits 1 with no output when no process has this PID.
    if ((error as { status?: number }).status === 1) return undefined;
    throw new ProcessInspectionError('cannot run `ps` to identify a process', { cause: error });
  }
  const startTime = output.trim();
  return startTime === '' ? undefined : { startTime };
}

let cachedBootId: string | undefined | null = null;

/** The boot id, read once; undefined where it cannot be read (the start time alone then decides). */
function bootId(): string | undefined {
  if (cachedBootId === null) {
    try {
      cachedBootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = undefined;
    }
  }
  return cachedBootId;
}

/** The system's process table: `/proc` where there is one, `ps` otherwise. */
export const systemProcessTable: ProcessTable = {
  identify: (pid) =>
    fs.existsSync('/proc/self/stat') ? identifyWithProc(pid) : identifyWithPs(pid),
  signal: (pid, signal) => {
    if (!isValidPid(pid)) throw new RangeError(`refusing to signal pid ${String(pid)}`);
    process.kill(pid, signal);
  },
};
