/** Base error of the lambda module: hosting function processes. */
export class LambdaHostError extends Error {
  /** Function the error concerns. */
  public readonly functionName: string;

  public constructor(message: string, functionName: string, options?: ErrorOptions) {
    super(`${functionName}: ${message}`, options);
    this.name = 'LambdaHostError';
    this.functionName = functionName;
  }
}

/** An invocation was requested after the host was disposed. */
export class FunctionHostDisposedError extends LambdaHostError {
  public constructor(functionName: string) {
    super('the function host is disposed', functionName);
    this.name = 'FunctionHostDisposedError';
  }
}

/** A worker process could not be started at all (not a handler error: those are invocation results). */
export class WorkerStartError extends LambdaHostError {
  public constructor(functionName: string, options?: ErrorOptions) {
    super('cannot start a worker process', functionName, options);
    this.name = 'WorkerStartError';
  }
}
