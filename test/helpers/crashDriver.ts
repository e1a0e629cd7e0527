import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { localClients } from '#local/aws/index';
import { LOCAL_DIR, type LocalState, readLocalState } from '#local/cli/localState';
import { KINESIS_MOCK_PERSIST_INTERVAL_MS } from '#local/engines/constants';
import { readStream } from '#local/io/readStream';
import { KinesisSink } from '#sinks/index';
import type { InputFeed } from './appDriver';

const CLI = path.resolve(__dirname, '../../bin/shardflow.js');
/** kinesis-mock's state file under `<state-dir>/kinesis` (its default PERSIST_FILE_NAME). */
const KINESIS_STATE_FILE = path.join('kinesis', 'kinesis-data.json');
/** The mappings' checkpoints under `<state-dir>` (startLocalSession: `esm/`, FileCheckpointStore). */
const CHECKPOINT_FILE = path.join('esm', 'checkpoints.json');
const READY_TIMEOUT_MS = 180_000;
const GONE_TIMEOUT_MS = 15_000;

/** One row of the process table. */
interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** `R`, `S`, … ; `Z` is a zombie: it has exited and only waits to be reaped. */
  readonly state: string;
}

/** Every process, from /proc (Linux, as CI). */
function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const entry = processEntry(Number(name));
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

function processEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const [state = '?', ppid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(ppid), state };
  } catch {
    return undefined; // Gone while listing.
  }
}

/** A process's command line, or undefined once it is gone. */
export function commandOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` still runs `command` (when given): a zombie has exited, and a pid the system gave
 * to another program since is not the process that was seen.
 */
export function isRunning(pid: number, command?: string): boolean {
  const entry = processEntry(pid);
  if (entry === undefined || entry.state === 'Z') return false;
  return command === undefined || commandOf(pid) === command;
}

/** `root` and every process below it. */
function processTree(root: number): number[] {
  const table = processTable();
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const { pid, ppid } of table) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/** Signals the process group `pid` leads, if any, and the process itself. */
function signalGroupAndProcess(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // Not a group leader, or gone already.
    }
  }
}

/** What one SIGKILL of the local runtime did. */
export interface Crash {
  readonly runtimePid: number;
  /** Processes killed: the runtime, its function workers, the engine guardian and the engines. */
  readonly killed: number;
  /** Per-shard checkpoints the mappings had saved when they were stopped. */
  readonly checkpoints: number;
  /** How long kinesis-mock ran on alone, writing what it had acknowledged, before the SIGKILL. */
  readonly kinesisAloneMs: number;
}

/** Options of {@link CrashableRuntime}. */
export interface CrashableRuntimeOptions {
  /** The CDK app (first start; later starts load the assembly it synthesized). */
  readonly app: string;
  /** The project directory the CLI runs in (its `.shardflow/` holds local.json and cdk.out). */
  readonly workDir: string;
  /** `--state-dir`. */
  readonly stateDir: string;
}

/**
 * `shardflow local up --state-dir DIR` in a child process, killed with SIGKILL together with
 * everything it started, and started again on the same state directory.
 *
 * kinesis-mock stands in for Kinesis, which does not lose what it acknowledged; but it writes its
 * state to disk only every {@link KINESIS_MOCK_PERSIST_INTERVAL_MS}, in place (a kill during a
 * write leaves a torn file). So every other process is frozen (SIGSTOP) at the random moment and
 * killed later: it runs no instruction in between, so for it this is a SIGKILL at that moment.
 * kinesis-mock runs on until it has completed a write begun after the last put anyone made, then
 * everything is killed (see {@link CrashableRuntime.crash}). Killing the others at once instead is
 * not possible: kinesis-mock logs to a pipe the CLI reads, and dies (EPIPE) at its next log line
 * once the CLI is gone.
 */
export class CrashableRuntime {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private current?: LocalState;
  private starts = 0;
  /** Every process of every runtime, pid → command line, to prove none is left. */
  private readonly seen = new Map<number, string>();
  private readonly logFile: string;

  public constructor(private readonly options: CrashableRuntimeOptions) {
    this.logFile = path.join(options.workDir, 'local-up.log');
  }

  /** The running runtime's local.json. */
  public get state(): LocalState {
    if (this.current === undefined) throw new Error('the local runtime is not running');
    return this.current;
  }

  /**
   * Starts `shardflow local up` in its own process group and resolves with its local.json once it
   * is ready. The first start synthesizes the app; later ones load the assembly it wrote to
   * `.shardflow/cdk.out` (the same template, ~15 s less per restart).
   */
  public async start(): Promise<LocalState> {
    const { workDir, stateDir } = this.options;
    const app = this.starts === 0 ? this.options.app : path.join(workDir, LOCAL_DIR, 'cdk.out');
    this.starts += 1;
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `\n=== start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(
      process.execPath,
      // Relative to the working directory, as users write it (issue 15): absent on the first start.
      [
        CLI,
        'local',
        'up',
        '--app',
        app,
        '--state-dir',
        path.relative(workDir, stateDir),
        '--verbose',
      ],
      { cwd: workDir, detached: true, stdio: ['ignore', log, log], env: process.env },
    );
    fs.closeSync(log);
    this.child = child;
    let gone = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        gone = true;
        resolve();
      }),
    );
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const state = readLocalState(workDir);
      if (state !== undefined && state.pid === child.pid) {
        this.current = state;
        this.remember(state.pid);
        return state;
      }
      if (gone) throw new Error(`local up exited before it was ready:\n${this.logTail()}`);
      await delay(200);
    }
    throw new Error(`local up was not ready after ${READY_TIMEOUT_MS} ms:\n${this.logTail()}`);
  }

  /**
   * Crashes the runtime. At once, SIGSTOP to the engine guardian, DynamoDB Local, the Kinesis TLS
   * proxy and the CLI's process group (the CLI and its function workers): whatever they were doing
   * stops there. Then `quiesce` stops the test's producer and returns the time of its last
   * acknowledged put; once kinesis-mock has completed a write begun after that, every process of
   * the runtime gets SIGKILL. Resolves once they are all gone.
   */
  public async crash(quiesce: () => Promise<number>): Promise<Crash> {
    const state = this.state;
    const [kinesisMock] = state.enginePids;
    if (kinesisMock === undefined) throw new Error('local.json names no kinesis-mock process');
    const tree = processTree(state.pid);
    for (const pid of tree) this.remember(pid);
    const kinesis = new Set(processTree(kinesisMock));
    // The CLI last: nothing of it may run on once it stops (the guardian would stop the engines).
    const frozen = [...tree.filter((pid) => pid !== state.pid && !kinesis.has(pid)), state.pid];
    for (const pid of frozen) signalGroupAndProcess(pid, 'SIGSTOP');
    const frozenAt = Date.now();
    const lastPut = Math.max(await quiesce(), frozenAt);
    await this.awaitKinesisPersisted(lastPut);
    const checkpoints = this.checkpointCount();
    for (const pid of [...frozen, ...kinesis]) signalGroupAndProcess(pid, 'SIGKILL');
    const kinesisAloneMs = Date.now() - frozenAt;
    await this.awaitGone(tree);
    this.current = undefined;
    return { runtimePid: state.pid, killed: tree.length, checkpoints, kinesisAloneMs };
  }

  /** Kills whatever still runs of any runtime this object started, at once, and waits until it is gone. */
  public async killAll(): Promise<void> {
    const pids = new Set<number>();
    if (this.child?.pid !== undefined && isRunning(this.child.pid)) {
      for (const pid of processTree(this.child.pid)) pids.add(pid);
    }
    for (const [pid, command] of this.seen) if (isRunning(pid, command)) pids.add(pid);
    for (const pid of pids) this.remember(pid);
    for (const pid of pids) signalGroupAndProcess(pid, 'SIGKILL');
    await this.awaitGone([...pids]).catch(() => undefined);
    this.current = undefined;
  }

  /** Processes of the runtimes still running (pid and command), and how many were seen in all. */
  public leftovers(): { running: string[]; seen: number } {
    const running = [...this.seen]
      .filter(([pid, command]) => isRunning(pid, command))
      .map(([pid, command]) => `${pid} ${command}`);
    return { running, seen: this.seen.size };
  }

  /** The last lines of the runtimes' output (all starts, appended). */
  public logTail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Lines of the runtimes' output matching `pattern` (handler errors, for diagnosis). */
  public logLines(pattern: RegExp, max = 20): string[] {
    try {
      return fs
        .readFileSync(this.logFile, 'utf8')
        .split('\n')
        .filter((line) => pattern.test(line))
        .slice(0, max);
    } catch {
      return [];
    }
  }

  private remember(pid: number): void {
    const command = commandOf(pid);
    if (command !== undefined && !this.seen.has(pid)) this.seen.set(pid, command);
  }

  private checkpointCount(): number {
    try {
      const file = path.join(this.options.stateDir, CHECKPOINT_FILE);
      return Object.keys(JSON.parse(fs.readFileSync(file, 'utf8'))).length;
    } catch {
      return 0;
    }
  }

  /**
   * Waits for two complete writes of kinesis-mock's state file after `since`: the first may hold a
   * snapshot taken before `since`; the second began after the first ended (kinesis-mock writes one
   * at a time, then sleeps an interval), so it holds every record acknowledged before `since`. A
   * write is complete when the file parses and its mtime did not move while it was read. Right
   * after one, the next is an interval away: a kill then cannot tear the file.
   */
  private async awaitKinesisPersisted(since: number): Promise<void> {
    const file = path.join(this.options.stateDir, KINESIS_STATE_FILE);
    const deadline = Date.now() + 20 * KINESIS_MOCK_PERSIST_INTERVAL_MS;
    const complete: number[] = [];
    while (Date.now() < deadline) {
      const before = mtimeOf(file);
      if (before !== undefined && before > since && !complete.includes(before)) {
        if (parses(file) && mtimeOf(file) === before) complete.push(before);
        if (complete.length >= 2) return;
      }
      await delay(20);
    }
    throw new Error(`kinesis-mock did not write ${file} twice within the deadline`);
  }

  private async awaitGone(pids: readonly number[]): Promise<void> {
    const deadline = Date.now() + GONE_TIMEOUT_MS;
    await Promise.race([this.exited, delay(GONE_TIMEOUT_MS, undefined, { ref: false })]);
    for (;;) {
      const running = pids.filter((pid) => isRunning(pid, this.seen.get(pid)));
      if (running.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`still running after SIGKILL: ${running.map(commandOf).join('; ')}`);
      }
      await delay(50);
    }
  }
}

function mtimeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function parses(file: string): boolean {
  try {
    JSON.parse(fs.readFileSync(file, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/** A producer's progress through each feed's records: `acked[i]` records of feed i were acknowledged. */
export interface FeedProgress {
  readonly acked: number[];
}

/**
 * Sends the records of each feed from `progress.acked` up to `targets` in chunks every `paceMs`,
 * spread over `durationMs`, until then or until `signal` aborts; resolves when the last chunk in
 * flight is acknowledged. Unordered PutRecords of 500, as appDriver's sendFeeds sends them.
 */
export async function feedChunks(
  state: LocalState,
  feeds: readonly InputFeed[],
  progress: FeedProgress,
  targets: readonly number[],
  options: { readonly durationMs: number; readonly paceMs: number; readonly signal: AbortSignal },
): Promise<void> {
  const { kinesis } = localClients(state.endpoints);
  const sinks = feeds.map(
    (feed) =>
      new KinesisSink({
        streamName: physicalName(state, feed.input),
        client: kinesis,
        ordered: false,
      }),
  );
  const ends = Date.now() + options.durationMs;
  try {
    while (!options.signal.aborted) {
      const ticksLeft = Math.max(1, Math.floor((ends - Date.now()) / options.paceMs));
      await Promise.all(
        feeds.map(async (feed, i) => {
          const from = progress.acked[i] as number;
          const to = Math.min(
            targets[i] as number,
            from + Math.ceil(((targets[i] as number) - from) / ticksLeft),
          );
          if (to <= from) return;
          await (sinks[i] as KinesisSink).send(
            feed.records
              .slice(from, to)
              .map((r) => ({ data: r.data, partitionKey: r.partitionKey })),
          );
          progress.acked[i] = to;
        }),
      );
      if (Date.now() >= ends) return;
      await delay(options.paceMs, undefined, { signal: options.signal }).catch(() => undefined);
    }
  } finally {
    kinesis.destroy();
  }
}

/**
 * Reads each feed's input stream back from the start and sends again, in their order, the
 * acknowledged records it does not hold (a multiset of record texts: invalid records may repeat).
 * Returns how many were sent again.
 */
export async function resendMissing(
  state: LocalState,
  feeds: readonly InputFeed[],
  progress: FeedProgress,
): Promise<number> {
  const { kinesis } = localClients(state.endpoints);
  try {
    const counts = await Promise.all(
      feeds.map(async (feed, i) => {
        const held = new Map<string, number>();
        await readStream({
          client: kinesis,
          streamName: physicalName(state, feed.input),
          fromStart: true,
          idleTimeoutMs: 1_000,
          onRecord: (record) => {
            const text = Buffer.from(record.data).toString('utf8');
            held.set(text, (held.get(text) ?? 0) + 1);
          },
        });
        const missing = feed.records.slice(0, progress.acked[i]).filter((r) => {
          const count = held.get(r.data) ?? 0;
          held.set(r.data, count - 1);
          return count <= 0;
        });
        const sink = new KinesisSink({
          streamName: physicalName(state, feed.input),
          client: kinesis,
          ordered: false,
        });
        await sink.send(missing.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
        return missing.length;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    kinesis.destroy();
  }
}

function physicalName(state: LocalState, logical: string): string {
  const entry = state.names[logical];
  if (entry === undefined) throw new Error(`no resource '${logical}' in the local deployment`);
  return entry.physicalName;
}
