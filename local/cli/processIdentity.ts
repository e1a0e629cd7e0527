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

/** Who runs a process, and what it runs. */
export interface ProcessDetails {
  /** Real user id (Linux: the first `Uid:` field of `/proc/<pid>/status`; elsewhere `ps -o ruid=`). */
  readonly uid: number;
  /**
   * Its arguments, the program first. Linux: `/proc/<pid>/cmdline`, exact (empty for a zombie).
   * Elsewhere: `ps -o args=` split at white space, so an argument with spaces comes in pieces.
   */
  readonly argv: readonly string[];
}

/** Looks processes up and signals them: the system's, or a fake in tests. */
export interface ProcessTable {
  /**
   * The identity of the process with this PID — one that has exited but is not yet reaped (a zombie)
   * included: it keeps its PID until then — or undefined when no process has it.
   * @throws ProcessInspectionError when the process table cannot be read on this platform
   */
  identify(pid: number): ProcessIdentity | undefined;
  /**
   * Who runs the process with this PID and what, or undefined when no process has it.
   * @throws ProcessInspectionError when the process table cannot be read on this platform
   */
  inspect(pid: number): ProcessDetails | undefined;
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

/** Owner and arguments from `/proc` (Linux). */
export function inspectWithProc(pid: number): ProcessDetails | undefined {
  if (!isValidPid(pid)) return undefined;
  let status: string;
  let cmdline: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw new ProcessInspectionError(`cannot read /proc/${pid}`, { cause: error });
  }
  // NUL-terminated arguments; nothing at all for a zombie (or a kernel thread).
  const argv = cmdline === '' ? [] : cmdline.replace(/\0$/, '').split('\0');
  return { uid: parseProcStatusUid(status), argv };
}

/** The real user id of a `/proc/<pid>/status` text: the first number of its `Uid:` line. */
export function parseProcStatusUid(status: string): number {
  const match = /^Uid:\s+(\d+)/m.exec(status);
  if (match?.[1] === undefined) {
    throw new ProcessInspectionError('unexpected /proc/<pid>/status: no Uid line');
  }
  return Number(match[1]);
}

/** Owner and arguments from `ps` (any POSIX system), for platforms without `/proc`. */
export function inspectWithPs(pid: number): ProcessDetails | undefined {
  if (!isValidPid(pid)) return undefined;
  let output: string;
  try {
    output = execFileSync('ps', ['-ww', '-o', 'ruid=', '-o', 'args=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (error) {
    if ((error as { status?: number }).status === 1) return undefined;
    throw new ProcessInspectionError('cannot run `ps` to inspect a process', { cause: error });
  }
  const [uid, ...argv] = output.trim().split(/\s+/);
  if (uid === undefined || uid === '') return undefined;
  if (!/^\d+$/.test(uid)) {
    throw new ProcessInspectionError(`unexpected \`ps\` output: ${output.slice(0, 200)}`);
  }
  return { uid: Number(uid), argv };
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

function hasProc(): boolean {
  return fs.existsSync('/proc/self/stat');
}

/** The system's process table: `/proc` where there is one, `ps` otherwise. */
export const systemProcessTable: ProcessTable = {
  identify: (pid) => (hasProc() ? identifyWithProc(pid) : identifyWithPs(pid)),
  inspect: (pid) => (hasProc() ? inspectWithProc(pid) : inspectWithPs(pid)),
  signal: (pid, signal) => {
    if (!isValidPid(pid)) throw new RangeError(`refusing to signal pid ${String(pid)}`);
    process.kill(pid, signal);
  },
};
