import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { ENGINE_ENV_DENYLIST, ENGINE_LOG_TAIL_LINES } from './constants';
import { EngineError } from './errors';
import type { EngineName } from './types';

/** Log lines of an engine that could not bind its port. */
const BIND_FAILURE = /EADDRINUSE|Address already in use|BindException/;

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What {@link EngineProcess.spawn} runs. */
export interface EngineProcessOptions {
  readonly engine: EngineName;
  readonly command: string;
  readonly args: readonly string[];
  /** Engine-specific variables, added to the filtered parent environment. */
  readonly env: Readonly<Record<string, string>>;
  /** @default - the current directory */
  readonly cwd?: string;
  /** @default - log lines are only kept for error messages */
  readonly onLog?: (engine: EngineName, line: string) => void;
}

/**
 * One engine process, started in its own process group so that stopping it also stops anything
 * it spawned. It does not keep the parent's event loop alive.
 */
export class EngineProcess {
  /** Which engine this is. */
  public readonly engine: EngineName;
  /** The process id, which is also its process group id. */
  public readonly pid: number;
  /** Settles when the process has exited. */
  public readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private exit?: ProcessExit;
  private bindFailed = false;

  private constructor(child: ChildProcess, options: EngineProcessOptions) {
    if (child.pid === undefined) throw new EngineError(`${options.engine} did not start`);
    this.engine = options.engine;
    this.pid = child.pid;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      (stream as Socket).unref();
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        if (BIND_FAILURE.test(line)) this.bindFailed = true;
        this.tail.push(line);
        if (this.tail.length > ENGINE_LOG_TAIL_LINES) this.tail.shift();
        options.onLog?.(this.engine, line);
      });
    }
    child.unref();
  }

  /**
   * Starts an engine process.
   *
   * @throws EngineError when the command cannot be started at all
   */
  public static async spawn(options: EngineProcessOptions): Promise<EngineProcess> {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: { ...inheritedEnvironment(), ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [event] = (await Promise.race([once(child, 'spawn'), once(child, 'error')])) as [unknown];
    if (event instanceof Error) {
      throw new EngineError(`${options.engine} could not be started: ${event.message}`, {
        engine: options.engine,
        cause: event,
      });
    }
    return new EngineProcess(child, options);
  }

  /** The last log lines (stdout and stderr). */
  public get logTail(): readonly string[] {
    return [...this.tail];
  }

  /** Whether the engine logged that its port is taken (kinesis-mock then hangs instead of exiting). */
  public get portInUse(): boolean {
    return this.bindFailed;
  }

  /** Whether the process is still running. */
  public get running(): boolean {
    return this.exit === undefined;
  }

  /** Sends a signal to the whole process group, ignoring a group that is already gone. */
  public signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already; 'exit' follows.
    }
  }

  /**
   * Stops the process: SIGTERM to its group, SIGKILL after `graceMs`; resolves once it has exited.
   * Idempotent.
   */
  public async stop(graceMs: number): Promise<ProcessExit> {
    // Keep this process alive until the engine is gone, or stop() would never resolve.
    this.child.ref();
    this.signal('SIGTERM');
    const timer = delay(graceMs, undefined, { ref: false });
    if ((await Promise.race([this.exited, timer])) === undefined) this.signal('SIGKILL');
    const exit = await this.exited;
    this.child.unref();
    // Anything the engine spawned into its group must not outlive it.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Nothing left.
    }
    return exit;
  }
}

function inheritedEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !ENGINE_ENV_DENYLIST.some((prefix) => name.startsWith(prefix)),
    ),
  );
}
