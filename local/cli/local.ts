import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_FAILURES_FILE } from '#local/capture/constants';
import { startLocalSession } from '#local/session/startLocalSession';
import {
  isAlive,
  LOCAL_DIR,
  type LocalState,
  readLocalState,
  removeLocalState,
  writeLocalState,
} from './localState';

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

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * `shardflow local up`: runs the app on the embedded AWS in the foreground until Ctrl-C, or with `--detach`
 * in a background process, returning once `.shardflow/local.json` says it is ready.
 */
export async function localUp(options: LocalUpOptions): Promise<number> {
  const running = readLocalState();
  if (running && isAlive(running.pid)) {
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
    const file = writeLocalState(session.state);
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
  fs.mkdirSync(LOCAL_DIR, { recursive: true });
  const logFile = path.join(LOCAL_DIR, 'local.log');
  const log = fs.openSync(logFile, 'w');
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

/** `shardflow local down`: stops the runtime started from this directory and waits until it is gone. */
export async function localDown(): Promise<number> {
  const state = readLocalState();
  if (!state) {
    process.stdout.write('no local runtime is running here\n');
    return 0;
  }
  if (isAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(state.pid) && Date.now() < deadline) {
      await delay(100);
    }
    if (isAlive(state.pid)) {
      process.kill(state.pid, 'SIGKILL');
    }
  }
  removeLocalState();
  process.stdout.write(`stopped the local runtime (pid ${state.pid})\n`);
  return 0;
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
