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
  LOCAL_DIR,
  type LocalState,
  localStatePath,
  readLocalState,
  readLocalStateFile,
  removeLocalState,
  runtimeStatus,
  writeLocalState,
} from './localState';
import { type ProcessIdentity, type ProcessTable, systemProcessTable } from './processIdentity';

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
  return options.detach ? upDetached() : upForeground(options);
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
  try {
    // Again, now that synthesis is done: the CDK makes its asset folders world-writable (0777).
    secureLocalFiles(options.stateDir);
    const file = writeLocalState({ ...session.state, identity: ownIdentity() });
    process.stdout.write(describe(session.state, file));
    await stopped;
    process.stderr.write('shardflow: stopping the local runtime…\n');
  } finally {
    await session.stop();
    removeLocalState(process.cwd(), process.pid);
    process.removeListener('SIGINT', requestStop);
    process.removeListener('SIGTERM', requestStop);
  }
  return 0;
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
 * It signals only the process `.shardflow/local.json` names, and only while that process is still the
 * one that wrote the file: same start time in the same boot ({@link LocalState.identity}). A file
 * that is stale (the PID is gone or belongs to another process now) or invalid (a PID that is not an
 * integer greater than 1, not JSON) is removed and nothing is signalled; a file without an identity
 * naming a live process is left alone.
 */
export async function localDown(options: LocalDownOptions = {}): Promise<number> {
  const projectDir = options.projectDir ?? process.cwd();
  const processes = options.processes ?? systemProcessTable;
  const file = displayPath(localStatePath(projectDir));
  const read = readLocalStateFile(projectDir);
  if (read.status === 'absent') {
    process.stdout.write('no local runtime is running here\n');
    return 0;
  }
  if (read.status === 'invalid') {
    removeLocalState(projectDir);
    process.stderr.write(
      `shardflow: ${file} is invalid (${read.reason}); removed it, nothing was stopped\n`,
    );
    return 1;
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
    case 'running':
      break;
  }
  const isRunning = (): boolean => runtimeStatus(state, processes).status === 'running';
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
 * The runtime `.shardflow/local.json` names, if that process still runs; a stale or invalid file is
 * reported on stderr and ignored, so it never keeps `local up` from starting.
 */
export function runningRuntime(
  projectDir: string = process.cwd(),
  processes: ProcessTable = systemProcessTable,
): LocalState | undefined {
  const file = displayPath(localStatePath(projectDir));
  const read = readLocalStateFile(projectDir);
  if (read.status === 'absent') return undefined;
  if (read.status === 'invalid') {
    process.stderr.write(`shardflow: ignoring ${file}: ${read.reason}\n`);
    return undefined;
  }
  const { pid } = read.state;
  const status = runtimeStatus(read.state, processes);
  switch (status.status) {
    case 'running':
      return read.state;
    case 'gone':
    case 'replaced':
      process.stderr.write(
        `shardflow: ignoring stale ${file}: ${status.status === 'gone' ? 'no process has' : 'another process has taken'} pid ${pid}\n`,
      );
      return undefined;
    case 'unverifiable':
      process.stderr.write(
        `shardflow: ignoring ${file}: cannot verify that pid ${pid} is a local runtime (${status.reason}); if it is, stop it with \`kill ${pid}\`\n`,
      );
      return undefined;
  }
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

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
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
