import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_FAILURES_FILE } from '#local/capture/constants';
import {
  ensurePrivateDirectory,
  PRIVATE_FILE_MODE,
  restrictTree,
} from '#local/io/privateDirectory';
import { startLocalSession } from '#local/session/startLocalSession';
import {
  displayPath,
  LOCAL_DIR,
  type LocalState,
  localStatePath,
  readLocalState,
  readLocalStateFile,
  removeLocalState,
  runningRuntime,
  runtimeStatus,
  writeLocalState,
} from './localState';
import {
  type ProcessIdentity,
  type ProcessTable,
  sameProcess,
  systemProcessTable,
} from './processIdentity';

/** Options of `shardflow local up`. */
export interface LocalUpOptions {
  readonly app: string;
  readonly detach?: boolean;
  readonly portBase?: number;
  readonly stateDir?: string;
  readonly chaos?: number;
  readonly seed?: number;
  readonly verbose?: boolean;
}

/** Options of `shardflow local down`. */
export interface LocalDownOptions {
  /** @default process.cwd() */
  readonly projectDir?: string;
  /** @default - the system's process table and `process.kill` */
  readonly processes?: ProcessTable;
  /** How long the runtime may take to stop after SIGTERM before it gets SIGKILL. @default 30 s */
  readonly stopTimeoutMs?: number;
}

/**
 * What the runtime keeps in a `--state-dir`: the engines' data and certificate (startEngines) and the
 * mappings' checkpoints (startLocalSession).
 */
const STATE_DIR_ENTRIES = ['kinesis', 'dynamodb', 'tls', 'esm'] as const;

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * `shardflow local up`: runs the app on the embedded AWS in the foreground until Ctrl-C, or with `--detach`
 * in a background process, returning once `.shardflow/local.json` says it is ready.
 */
export async function localUp(options: LocalUpOptions): Promise<number> {
  secureLocalFiles(options.stateDir);
  const running = runningRuntime();
  if (running) {
    process.stderr.write(
      `shardflow: a local runtime is already running here (pid ${running.pid}); run \`shardflow local down\` first\n`,
    );
    return 1;
  }
  if (options.stateDir === undefined) setPreviousFailuresAside();
  return options.detach ? upDetached() : upForeground(options);
}

/** Where an ephemeral run keeps the previous run's on-failure records. */
export const PREVIOUS_FAILURES_FILE = path.join(LOCAL_DIR, 'failures.previous.jsonl');

/**
 * An ephemeral run (no `--state-dir`) starts on fresh engines, so the on-failure records of the
 * previous run name batches of streams that are gone: they are moved to
 * {@link PREVIOUS_FAILURES_FILE} (replacing an older one), and the user is told where.
 */
function setPreviousFailuresAside(): void {
  const file = path.resolve(DEFAULT_FAILURES_FILE);
  if (!fs.existsSync(file)) return;
  const aside = path.resolve(PREVIOUS_FAILURES_FILE);
  fs.renameSync(file, aside);
  process.stderr.write(
    `shardflow: the previous run's on-failure records were moved to ${path.relative(process.cwd(), aside)}\n`,
  );
}

async function upForeground(options: LocalUpOptions): Promise<number> {
  const session = await startLocalSession({
    app: options.app,
    cdkOutDir: path.resolve(LOCAL_DIR, 'cdk.out'),
    failuresFile: path.resolve(DEFAULT_FAILURES_FILE),
    chaos:
      options.chaos === undefined ? undefined : { rate: options.chaos, seed: options.seed ?? 1 },
    portBase: options.portBase,
    stateDir: options.stateDir,
    onLog: options.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  // The listeners stay until cleanup is done: while one is registered, a second Ctrl-C does not kill
  // the process halfway through stopping, and the engines' own signal handling leaves the exit to us.
  let requestStop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  process.on('SIGINT', requestStop);
  process.on('SIGTERM', requestStop);
  let code = 0;
  try {
    // Again, now that synthesis is done: the CDK makes its asset folders world-writable (0777).
    secureLocalFiles(options.stateDir);
    const file = writeLocalState({ ...session.state, identity: ownIdentity() });
    process.stdout.write(describe(session.state, file));
    const failure = await Promise.race([stopped, session.failed]);
    if (failure === undefined) {
      process.stderr.write('shardflow: stopping the local runtime…\n');
    } else {
      // Its port is free now: no command may send there any more (another user may bind it).
      removeLocalState(process.cwd(), process.pid);
      process.stderr.write(
        `shardflow: ${failure.engine} (pid ${failure.pid}) exited on its own (${failure.signal ?? `code ${failure.code}`}); stopping the local runtime, since any local user could now take its port\n`,
      );
      code = 1;
    }
  } finally {
    await session.stop();
    removeLocalState(process.cwd(), process.pid);
    process.removeListener('SIGINT', requestStop);
    process.removeListener('SIGTERM', requestStop);
  }
  return code;
}

async function upDetached(): Promise<number> {
  const logFile = path.join(LOCAL_DIR, 'local.log');
  // A new file of this user's only: never written through a link or a file someone else left there.
  fs.rmSync(logFile, { force: true });
  const log = fs.openSync(logFile, 'wx', PRIVATE_FILE_MODE);
  const args = process.argv.slice(1).filter((arg) => arg !== '--detach');
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = readLocalState();
    if (state !== undefined && state.pid === child.pid) {
      child.unref();
      process.stdout.write(describe(state, path.join(LOCAL_DIR, 'local.json')));
      process.stdout.write(`logs: ${logFile}; stop with \`npx shardflow local down\`\n`);
      return 0;
    }
    const code = await Promise.race([exited, delay(200).then(() => undefined)]);
    if (code !== undefined) {
      process.stderr.write(
        `shardflow: the local runtime exited (${code}) before it was ready:\n${tail(logFile)}\n`,
      );
      return 1;
    }
  }
  child.kill('SIGTERM');
  process.stderr.write(
    `shardflow: the local runtime was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${tail(logFile)}\n`,
  );
  return 1;
}

/**
 * `shardflow local down`: stops the runtime started from this directory and waits until it is gone.
 *
 * It signals only the process `.shardflow/local.json` names, and only when everything says that
 * process is the runtime that wrote the file:
 *
 * - the file can only have been written by the current user: `.shardflow/` and `local.json` are the
 *   user's and neither group- nor other-writable, no folder above lets another user replace them,
 *   and `local.json` is not a symbolic link ({@link readLocalStateFile});
 * - the process still has the start time and boot the file records ({@link LocalState.identity}),
 *   belongs to the current user, and runs shardflow's `local up` ({@link runtimeStatus}).
 *
 * A file that is stale (the PID is gone or belongs to another process now) or invalid (a PID that is
 * not an integer greater than 1, not JSON, a symbolic link) is removed and nothing is signalled; a file
 * that is not trusted, without an identity, or naming a process that is not this user's runtime is
 * left alone, and nothing is signalled either.
 */
export async function localDown(options: LocalDownOptions = {}): Promise<number> {
  const projectDir = options.projectDir ?? process.cwd();
  const processes = options.processes ?? systemProcessTable;
  const file = displayPath(localStatePath(projectDir));
  const read = readLocalStateFile(projectDir);
  switch (read.status) {
    case 'absent':
      process.stdout.write('no local runtime is running here\n');
      return 0;
    case 'invalid':
      removeLocalState(projectDir);
      process.stderr.write(
        `shardflow: ${file} is invalid (${read.reason}); removed it, nothing was stopped\n`,
      );
      return 1;
    case 'untrusted':
      process.stderr.write(
        `shardflow: not trusting ${file}: ${read.reason}. Another user may have written it, so nothing was stopped; remove it (and make the folder yours alone) before the next \`shardflow local up\`\n`,
      );
      return 1;
    case 'valid':
      break;
  }
  const { state } = read;
  const status = runtimeStatus(state, processes);
  switch (status.status) {
    case 'gone':
    case 'replaced':
      removeLocalState(projectDir, state.pid);
      process.stdout.write(
        `${file} was stale: ${status.status === 'gone' ? 'no process has' : 'another process has taken'} pid ${state.pid}; removed it, nothing was stopped\n`,
      );
      return 0;
    case 'unverifiable':
      process.stderr.write(
        `shardflow: cannot verify that pid ${state.pid} is the local runtime ${file} names: ${status.reason}. Nothing was stopped; if it is, stop it with \`kill ${state.pid}\` and remove ${file}\n`,
      );
      return 1;
    case 'foreign':
      process.stderr.write(
        `shardflow: ${file} names a process that is not your local runtime: ${status.reason}. Nothing was stopped; the file was not written by a runtime of yours, remove it\n`,
      );
      return 1;
    case 'running':
      break;
  }
  // Verified once, above; from now on it is that process for as long as it has the same identity.
  const { identity } = state;
  const isRunning = (): boolean => {
    try {
      return identity !== undefined && sameProcess(processes.identify(state.pid), identity);
    } catch {
      return false; // the process table cannot be read any more: nothing more is signalled
    }
  };
  processes.signal(state.pid, 'SIGTERM');
  const deadline = Date.now() + (options.stopTimeoutMs ?? STOP_TIMEOUT_MS);
  while (isRunning() && Date.now() < deadline) {
    await delay(100);
  }
  if (isRunning()) {
    processes.signal(state.pid, 'SIGKILL');
  }
  removeLocalState(projectDir, state.pid);
  process.stdout.write(`stopped the local runtime (pid ${state.pid})\n`);
  return 0;
}

/**
 * Makes `.shardflow/` and the state directory private to this user — 0700, and no group or other
 * permission on anything in `.shardflow/` or in what the runtime keeps in the state directory (fixing
 * what older versions, another umask or the CDK left) — refusing other users' entries and symbolic
 * links (which could redirect a write elsewhere; links are left alone inside the synthesized cloud
 * assembly). New files are private by the CLI's umask (077).
 */
function secureLocalFiles(stateDir: string | undefined): void {
  const localDir = path.resolve(LOCAL_DIR);
  const purpose = 'the local runtime’s files';
  ensurePrivateDirectory(localDir, { purpose, repair: true });
  restrictTree(localDir, {
    purpose,
    symlinksAllowedUnder: [
      path.join(localDir, 'cdk.out'),
      ...(stateDir === undefined ? [] : [path.resolve(stateDir)]),
    ],
  });
  if (stateDir !== undefined) {
    const purpose = 'the local runtime’s state';
    const dir = ensurePrivateDirectory(path.resolve(stateDir), {
      purpose,
      repair: true,
      followSymlink: true,
    });
    // Only what the runtime keeps there: a state directory may be any folder the user named.
    restrictTree(dir, { purpose, entries: STATE_DIR_ENTRIES });
  }
}

/** This process' identity, for `local down`; undefined where the process table cannot be read. */
function ownIdentity(): ProcessIdentity | undefined {
  try {
    return systemProcessTable.identify(process.pid);
  } catch {
    return undefined;
  }
}

function describe(state: LocalState, file: string): string {
  const lines = [
    `shardflow local runtime ready (pid ${state.pid})`,
    `  kinesis   ${state.endpoints.kinesis}`,
    `  dynamodb  ${state.endpoints.dynamodb}`,
  ];
  for (const [name, resource] of Object.entries(state.names)) {
    lines.push(`  ${resource.type.padEnd(26)} ${name} → ${resource.physicalName}`);
  }
  lines.push(`state: ${file}`);
  return `${lines.join('\n')}\n`;
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
