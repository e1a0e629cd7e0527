import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, sep } from 'node:path';
import { EXECUTION_ENV, FUNCTION_VERSION, HEAP_SHARE } from './constants';
import { FunctionHostDisposedError } from './errors';
import { LambdaWorker } from './LambdaWorker';
import type {
  ContextFields,
  FunctionConfiguration,
  FunctionHostOptions,
  FunctionHostStats,
  FunctionInvoker,
  InvocationResult,
  WorkerMemory,
} from './types';

/** shardflow's own node_modules, found from where an `@aws-sdk` package resolves. */
function defaultNodePath(): string {
  const resolved = require.resolve('@aws-sdk/client-kinesis');
  const marker = `${sep}node_modules${sep}`;
  return resolved.slice(0, resolved.lastIndexOf(marker) + marker.length - 1);
}

function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${FUNCTION_VERSION}]${randomBytes(16).toString('hex')}`;
}

function traceId(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/**
 * Runs one Lambda function locally the way Lambda does: each concurrent invocation gets a warm,
 * long-lived worker process (an execution environment; the pool grows on demand and idle workers
 * are reused) that sees only a Lambda-like environment — the function's variables, the SDK
 * settings for the engines, `AWS_LAMBDA_*`, `LAMBDA_TASK_ROOT`, `TZ=UTC`, `PATH`, and `NODE_PATH`
 * providing the `@aws-sdk/*` packages Lambda's runtime provides. A timeout or crash fails the
 * invocation (`Sandbox.Timedout`, `Runtime.ExitError`) and replaces the worker.
 *
 * @example
 * ```ts
 * const host = new FunctionHost(deployment.functions[0], { sdkEnvironment: lambdaSdkEnvironment(endpoints) });
 * const result = await host.invoke({ Records: [] });
 * await host.dispose();
 * ```
 */
export class FunctionHost implements FunctionInvoker {
  private readonly idle: { worker: LambdaWorker; stream: string }[] = [];
  private readonly workers = new Set<LambdaWorker>();
  private readonly environment: Readonly<Record<string, string>>;
  private readonly execArgv: readonly string[];
  private invocations = 0;
  private errors = 0;
  private busy = 0;
  private disposed = false;

  public constructor(
    private readonly configuration: FunctionConfiguration,
    private readonly options: FunctionHostOptions = {},
  ) {
    const region = configuration.functionArn.split(':')[3] || 'us-east-1';
    this.environment = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      NODE_PATH: options.nodePath ?? defaultNodePath(),
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      ...configuration.environment,
      ...options.sdkEnvironment,
      AWS_LAMBDA_FUNCTION_NAME: configuration.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(configuration.memorySizeMb),
      AWS_LAMBDA_FUNCTION_VERSION: FUNCTION_VERSION,
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${configuration.functionName}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: EXECUTION_ENV,
      LAMBDA_TASK_ROOT: configuration.codeDirectory,
      LAMBDA_RUNTIME_DIR: dirname(__filename),
      _HANDLER: configuration.handler,
    };
    this.execArgv = [
      `--max-old-space-size=${Math.max(32, Math.floor(configuration.memorySizeMb * HEAP_SHARE))}`,
    ];
  }

  /** Physical name of the hosted function. */
  public get functionName(): string {
    return this.configuration.functionName;
  }

  /** Invocation counters and worker counts. */
  public get stats(): FunctionHostStats {
    return {
      invocations: this.invocations,
      errors: this.errors,
      workers: this.workers.size,
      busy: this.busy,
    };
  }

  /**
   * Invokes the function with an event (a synchronous, RequestResponse invocation). Resolves
   * with the result or the function error; rejects only if the host is disposed.
   */
  public async invoke(event: unknown): Promise<InvocationResult> {
    if (this.disposed) throw new FunctionHostDisposedError(this.functionName);
    this.invocations += 1;
    this.busy += 1;
    try {
      const result = await this.run(event);
      if (!result.ok) this.errors += 1;
      return result;
    } finally {
      this.busy -= 1;
    }
  }

  /**
   * Memory of every live worker process (busy ones included), as each reports it; a worker that
   * is still loading its handler or does not answer in time is left out.
   */
  public async memory(): Promise<WorkerMemory[]> {
    const usages = await Promise.all([...this.workers].map((worker) => worker.memoryUsage()));
    return usages.filter((usage): usage is WorkerMemory => usage !== undefined);
  }

  /** Kills every worker process and waits until they have exited. Idempotent. */
  public async dispose(): Promise<void> {
    this.disposed = true;
    this.idle.length = 0;
    await Promise.all([...this.workers].map((worker) => worker.kill()));
    this.workers.clear();
  }

  private async run(event: unknown): Promise<InvocationResult> {
    const requestId = randomUUID();
    const startedAt = Date.now();
    const { worker, stream } = this.idle.pop() ?? this.spawn();
    const initError = await worker.ready;
    if (initError !== undefined || this.disposed) {
      this.retire(worker);
      return {
        ok: false,
        requestId,
        error: initError ?? { errorType: 'Runtime.ExitError', errorMessage: 'host disposed' },
        durationMs: Date.now() - startedAt,
      };
    }
    const timeoutMs = this.configuration.timeoutSeconds * 1000;
    const context: ContextFields = {
      awsRequestId: requestId,
      functionName: this.configuration.functionName,
      functionVersion: FUNCTION_VERSION,
      invokedFunctionArn: this.configuration.functionArn,
      memoryLimitInMB: String(this.configuration.memorySizeMb),
      logGroupName: `/aws/lambda/${this.configuration.functionName}`,
      logStreamName: stream,
      deadlineMs: Date.now() + timeoutMs,
    };
    const result = await worker.invoke(event, context, timeoutMs, traceId());
    if (worker.alive && !this.disposed) this.idle.push({ worker, stream });
    else this.retire(worker);
    return result;
  }

  private spawn(): { worker: LambdaWorker; stream: string } {
    const stream = logStreamName();
    const worker = new LambdaWorker({
      functionName: this.configuration.functionName,
      env: { ...this.environment, AWS_LAMBDA_LOG_STREAM_NAME: stream },
      cwd: this.configuration.codeDirectory,
      execArgv: this.execArgv,
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    this.workers.add(worker);
    return { worker, stream };
  }

  private retire(worker: LambdaWorker): void {
    this.workers.delete(worker);
    void worker.kill();
  }
}
