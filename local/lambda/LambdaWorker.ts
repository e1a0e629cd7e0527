import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  BOOTSTRAP_PATH,
  FUNCTION_ERROR_TYPES,
  INIT_TIMEOUT_MS,
  MEMORY_QUERY_TIMEOUT_MS,
} from './constants';
import { WorkerStartError } from './errors';
import type {
  ContextFields,
  FunctionError,
  InvocationResult,
  LogSink,
  WorkerMemory,
} from './types';

type ChildMessage =
  | { type: 'ready'; initError?: FunctionError }
  | { type: 'result'; id: string; payload: string }
  | { type: 'error'; id: string; error: FunctionError }
  | { type: 'memory'; id: string; usage: NodeJS.MemoryUsage };

interface Pending {
  readonly id: string;
  readonly startedAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (result: InvocationResult) => void;
}

/** Options for {@link LambdaWorker}. @internal */
export interface LambdaWorkerOptions {
  readonly functionName: string;
  /** The complete environment of the process (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly execArgv: readonly string[];
  readonly log?: LogSink;
}

/**
 * One warm execution environment: a long-lived `node bootstrap.js` child process that loads the
 * handler once and runs one invocation at a time. A timeout or crash kills it for good; the
 * {@link FunctionHost} replaces it.
 * @internal
 */
export class LambdaWorker {
  /** Resolves once the handler module is loaded: `undefined`, or the init error. */
  public readonly ready: Promise<FunctionError | undefined>;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private pending: Pending | undefined;
  private exitDescription: string | undefined;
  private killed = false;
  private readonly memoryQueries = new Map<string, (usage: NodeJS.MemoryUsage) => void>();
  private memoryQueryCount = 0;

  public constructor(options: LambdaWorkerOptions) {
    try {
      this.child = fork(BOOTSTRAP_PATH, [], {
        cwd: options.cwd,
        env: { ...options.env },
        execArgv: [...options.execArgv],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
    } catch (error) {
      throw new WorkerStartError(options.functionName, { cause: error });
    }
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream === null) continue;
      const lines = createInterface({ input: stream });
      lines.on('line', (line) => options.log?.(`[${options.functionName}] ${line}`));
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitDescription ??= signal ? `signal: ${signal}` : `exit status ${code ?? 0}`;
        resolve();
      });
      // A process that cannot be spawned emits 'error' and never 'exit'.
      this.child.once('error', (error) => {
        this.exitDescription ??= `start failed: ${error.message}`;
        resolve();
      });
    });
    this.ready = new Promise((resolve) => {
      const initTimer = setTimeout(() => {
        resolve({
          errorType: FUNCTION_ERROR_TYPES.INIT_TIMEOUT,
          errorMessage: `Init phase took longer than ${INIT_TIMEOUT_MS / 1000} seconds`,
        });
        void this.kill();
      }, INIT_TIMEOUT_MS);
      const settle = (error: FunctionError | undefined) => {
        clearTimeout(initTimer);
        resolve(error);
      };
      void this.exited.then(() =>
        settle({
          errorType: FUNCTION_ERROR_TYPES.EXIT,
          errorMessage: `Runtime exited with error: ${this.exitDescription}`,
        }),
      );
      this.child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') settle(message.initError);
        else if (message.type === 'memory') this.memoryQueries.get(message.id)?.(message.usage);
        else this.settle(message);
      });
    });
    void this.exited.then(() => {
      const pending = this.pending;
      if (pending === undefined) return;
      this.finish(pending, {
        ok: false,
        requestId: pending.id,
        error: {
          errorType: FUNCTION_ERROR_TYPES.EXIT,
          errorMessage: `RequestId: ${pending.id} Error: Runtime exited with error: ${this.exitDescription}`,
        },
        durationMs: Date.now() - pending.startedAt,
      });
    });
  }

  /** Whether the process is still running (it can take another invocation once idle). */
  public get alive(): boolean {
    return !this.killed && this.exitDescription === undefined && this.child.connected;
  }

  /** Process id of the worker. */
  public get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Runs one invocation; resolves with the result, or a function error on timeout (the process
   * is then killed) or crash. Never rejects.
   */
  public invoke(
    event: unknown,
    context: ContextFields,
    timeoutMs: number,
    traceId: string,
  ): Promise<InvocationResult> {
    const id = context.awsRequestId;
    return new Promise((resolve) => {
      const startedAt = Date.now();
      const timer = setTimeout(() => {
        this.finish(this.pending, {
          ok: false,
          requestId: id,
          error: {
            errorType: FUNCTION_ERROR_TYPES.TIMEOUT,
            errorMessage: `RequestId: ${id} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          },
          durationMs: Date.now() - startedAt,
        });
        void this.kill();
      }, timeoutMs);
      this.pending = { id, startedAt, timer, resolve };
      if (!this.alive) return; // the exit handler reports it
      this.child.send({ type: 'invoke', id, event, context, traceId }, (error) => {
        if (error) void this.kill();
      });
    });
  }

  /**
   * Asks the process for its `process.memoryUsage()` (answered even while an invocation awaits
   * I/O); resolves `undefined` if it is not ready, gone, or does not answer within `timeoutMs`.
   */
  public memoryUsage(timeoutMs = MEMORY_QUERY_TIMEOUT_MS): Promise<WorkerMemory | undefined> {
    const pid = this.child.pid;
    if (!this.alive || pid === undefined) return Promise.resolve(undefined);
    this.memoryQueryCount += 1;
    const id = `memory-${this.memoryQueryCount}`;
    return new Promise((resolve) => {
      const done = (usage: NodeJS.MemoryUsage | undefined): void => {
        clearTimeout(timer);
        this.memoryQueries.delete(id);
        resolve(usage === undefined ? undefined : { pid, ...usage });
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.memoryQueries.set(id, done);
      this.child.send({ type: 'memory', id }, (error) => {
        if (error) done(undefined);
      });
    });
  }

  /** Kills the process (SIGKILL) and waits until it has exited. */
  public async kill(): Promise<void> {
    this.killed = true;
    if (this.exitDescription === undefined) this.child.kill('SIGKILL');
    await this.exited;
  }

  private settle(message: Exclude<ChildMessage, { type: 'ready' } | { type: 'memory' }>): void {
    const pending = this.pending;
    if (pending === undefined || pending.id !== message.id) return;
    const durationMs = Date.now() - pending.startedAt;
    this.finish(
      pending,
      message.type === 'result'
        ? { ok: true, requestId: message.id, payload: JSON.parse(message.payload), durationMs }
        : { ok: false, requestId: message.id, error: message.error, durationMs },
    );
  }

  private finish(pending: Pending | undefined, result: InvocationResult): void {
    if (pending === undefined || this.pending !== pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.resolve(result);
  }
}
