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
