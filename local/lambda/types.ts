/** What a function host needs to know about a function (a `LocalFunctionDefinition` fits). */
export interface FunctionConfiguration {
  /** Physical function name (`AWS_LAMBDA_FUNCTION_NAME`). */
  readonly functionName: string;
  /** Function ARN (the context's `invokedFunctionArn`; its region becomes `AWS_REGION` if none is given). */
  readonly functionArn: string;
  /** `Handler`: `<file>.<export>`, e.g. `index.handler`. */
  readonly handler: string;
  /** `Timeout` in seconds. */
  readonly timeoutSeconds: number;
  /** `MemorySize` in MB. */
  readonly memorySizeMb: number;
  /** `Environment.Variables`. */
  readonly environment: Readonly<Record<string, string>>;
  /** Directory holding the code (`LAMBDA_TASK_ROOT`). */
  readonly codeDirectory: string;
}

/** Receives a line a worker wrote to stdout or stderr, prefixed with the function name. */
export type LogSink = (line: string) => void;

/** Options for {@link FunctionHost}. */
export interface FunctionHostOptions {
  /**
   * Variables that make default SDK clients in the handler reach the engines (what
   * `lambdaSdkEnvironment(endpoints)` returns: endpoint URLs, credentials, region, CA file).
   * @default {}
   */
  readonly sdkEnvironment?: Readonly<Record<string, string>>;
  /**
   * Receives the workers' stdout and stderr lines, as `[functionName] line`.
   * @default - discarded
   */
  readonly log?: LogSink;
  /**
   * Directory whose `node_modules` provide what Lambda's runtime provides (`@aws-sdk/*`), via NODE_PATH.
   * @default - shardflow's own node_modules
   */
  readonly nodePath?: string;
}

/** The error a failed invocation reports, in Lambda's shape. */
export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stackTrace?: readonly string[];
}

/** Outcome of one invocation: the handler's (JSON) result, or a function error. */
export type InvocationResult =
  | {
      readonly ok: true;
      readonly requestId: string;
      /** The handler's result after a JSON round trip (`null` for undefined). */
      readonly payload: unknown;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly requestId: string;
      readonly error: FunctionError;
      readonly durationMs: number;
    };

/** Anything that invokes a function with an event: a {@link FunctionHost}, or a fake in tests. */
export interface FunctionInvoker {
  readonly functionName: string;
  invoke(event: unknown): Promise<InvocationResult>;
}

/** Counters of a function host. */
export interface FunctionHostStats {
  readonly invocations: number;
  readonly errors: number;
  /** Worker processes alive now. */
  readonly workers: number;
  /** Worker processes busy with an invocation now. */
  readonly busy: number;
}

/** Memory of one worker process: its pid and what it reports as `process.memoryUsage()` (bytes). */
export interface WorkerMemory {
  readonly pid: number;
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Fields of the Lambda context a worker builds for one invocation. @internal */
export interface ContextFields {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadlineMs: number;
}
