/** Base error of the runtime module: starting or stopping a local runtime. */
export class LocalRuntimeError extends Error {
  /** The cloud assembly directory the runtime was started from. */
  public readonly cdkOut: string;

  public constructor(message: string, cdkOut: string, options?: ErrorOptions) {
    super(`${message} (cloud assembly ${cdkOut})`, options);
    this.name = 'LocalRuntimeError';
    this.cdkOut = cdkOut;
  }
}

/** A schedule expression of an `AWS::Events::Rule` or `AWS::Scheduler::Schedule` cannot be run locally. */
export class InvalidScheduleError extends Error {
  /** The expression given. */
  public readonly expression: string;

  public constructor(expression: string, reason: string) {
    super(`schedule ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'InvalidScheduleError';
    this.expression = expression;
  }
}

/**
 * A file or folder of a function's code may have been written by another user, or leads out of the
 * code directory: the function is not run. The local runtime runs functions only from private copies
 * of their code, and refuses to copy what it cannot trust.
 */
export class UnsafeFunctionCodeError extends LocalRuntimeError {
  /** The function whose code it is (the first, if several share the code directory). */
  public readonly functionName: string;
  /** The file, folder or link refused. */
  public readonly path: string;

  public constructor(
    details: {
      readonly functionName: string;
      readonly stack: string;
      readonly logicalId: string;
      readonly templateFile: string;
      readonly codeDirectory: string;
      readonly path: string;
      readonly reason: string;
    },
    cdkOut: string,
  ) {
    super(
      `refusing to run function ${details.functionName} (${details.stack}/${details.logicalId} in ${details.templateFile}) from ${details.codeDirectory}: ${details.path} ${details.reason}`,
      cdkOut,
    );
    this.name = 'UnsafeFunctionCodeError';
    this.functionName = details.functionName;
    this.path = details.path;
  }
}

/** A path of a function's code cannot be trusted (see {@link copyCodeDirectory}). @internal */
export class UnsafeCodePathError extends Error {
  /** The file, folder or link refused. */
  public readonly path: string;
  /** What is wrong with it (`is owned by uid 65534, …`). */
  public readonly reason: string;

  public constructor(path: string, reason: string) {
    super(`${path} ${reason}`);
    this.name = 'UnsafeCodePathError';
    this.path = path;
    this.reason = reason;
  }
}
