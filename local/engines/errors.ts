import type { EngineName } from './types';

/** Base error of the embedded engines. */
export class EngineError extends Error {
  /** The engine concerned, if one is. */
  public readonly engine?: EngineName;

  public constructor(message: string, options: { engine?: EngineName; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'EngineError';
    this.engine = options.engine;
  }
}

/** Java is not on PATH, so DynamoDB Local cannot start. */
export class JavaMissingError extends EngineError {
  public constructor(options: { cause?: unknown } = {}) {
    super(
      'DynamoDB Local needs Java 17 or newer: install it (e.g. `apt-get install openjdk-17-jre-headless` or https://adoptium.net) and make sure `java` is on PATH.',
      { engine: 'dynamodb', cause: options.cause },
    );
    this.name = 'JavaMissingError';
  }
}

/** The `java` on PATH is older than DynamoDB Local supports. */
export class JavaTooOldError extends EngineError {
  /** The version `java -version` reported. */
  public readonly version: string;

  public constructor(version: string) {
    super(
      `DynamoDB Local needs Java 17 or newer, but \`java\` on PATH is ${version}: install a newer one (e.g. \`apt-get install openjdk-17-jre-headless\` or https://adoptium.net) and put it first on PATH.`,
      { engine: 'dynamodb' },
    );
    this.name = 'JavaTooOldError';
    this.version = version;
  }
}

/** The `java` on PATH has no `jdk.compiler` module, which runs DynamoDB Local's loopback launcher. */
export class JavaCompilerMissingError extends EngineError {
  /** The version `java -version` reported. */
  public readonly version: string;

  public constructor(version: string, options: { cause?: unknown } = {}) {
    super(
      `DynamoDB Local is started through a launcher that binds it to 127.0.0.1 (local/engines/LoopbackDynamoDbLocal.java, run from source), which needs the jdk.compiler module, but \`java\` on PATH (${version}) has none: install a JDK (e.g. \`apt-get install openjdk-17-jdk-headless\`, or a JDK rather than a JRE from https://adoptium.net) and put it first on PATH.`,
      { engine: 'dynamodb', cause: options.cause },
    );
    this.name = 'JavaCompilerMissingError';
    this.version = version;
  }
}

/** An engine did not answer its first request in time. */
export class EngineStartTimeoutError extends EngineError {
  /** The engine's last log lines. */
  public readonly logTail: readonly string[];

  public constructor(
    engine: EngineName,
    timeoutMs: number,
    logTail: readonly string[],
    cause?: unknown,
  ) {
    super(
      `${engine} did not answer within ${timeoutMs}ms; its last log lines:\n${formatTail(logTail)}`,
      { engine, cause },
    );
    this.name = 'EngineStartTimeoutError';
    this.logTail = logTail;
  }
}

/** An engine process exited while it was starting. */
export class EngineExitedError extends EngineError {
  /** The process exit code, or null when a signal ended it. */
  public readonly exitCode: number | null;
  /** The signal that ended the process, if any. */
  public readonly signal: NodeJS.Signals | null;
  /** The engine's last log lines. */
  public readonly logTail: readonly string[];

  public constructor(
    engine: EngineName,
    exit: { code: number | null; signal: NodeJS.Signals | null },
    logTail: readonly string[],
  ) {
    super(
      `${engine} exited while starting (${exit.signal ?? `code ${exit.code}`}); its last log lines:\n${formatTail(logTail)}`,
      { engine },
    );
    this.name = 'EngineExitedError';
    this.exitCode = exit.code;
    this.signal = exit.signal;
    this.logTail = logTail;
  }
}

/** An engine could not listen on its port: another process took it since it was probed. */
export class EnginePortInUseError extends EngineError {
  /** The engine's last log lines. */
  public readonly logTail: readonly string[];

  public constructor(engine: EngineName, logTail: readonly string[]) {
    super(
      `${engine} could not listen: its port is in use; its last log lines:\n${formatTail(logTail)}`,
      {
        engine,
      },
    );
    this.name = 'EnginePortInUseError';
    this.logTail = logTail;
  }
}

/** No free loopback port was found. */
export class NoFreePortError extends EngineError {
  public constructor(portBase: number, count: number) {
    super(`no ${count} free loopback ports at or above ${portBase} (up to 65535)`);
    this.name = 'NoFreePortError';
  }
}

function formatTail(logTail: readonly string[]): string {
  return logTail.length === 0 ? '  (no output)' : logTail.map((line) => `  ${line}`).join('\n');
}
