/** The embedded engines. */
export type EngineName = 'kinesis' | 'dynamodb';

/**
 * The credentials of one run of the engines, generated at random by `startEngines`. The access key
 * id is a secret: it is all that keeps other users of the machine out of the engines.
 */
export interface EngineCredentials {
  /** `SFLOCAL` and 32 random base32 characters; every request must be signed with it. */
  readonly accessKeyId: string;
  /** Random; the SDK signs with it, the engines do not check the signature. */
  readonly secretAccessKey: string;
}

/**
 * Where the embedded engines listen, and the credentials they require. All URLs are on 127.0.0.1,
 * the only address anything of the engines listens on. Each answers 403 to a request with an
 * `Origin` or `Sec-Fetch-*` header (a browser), whose `Host` is not `127.0.0.1`, `localhost` or
 * `[::1]` with the URL's port, or that is not signed with {@link EngineEndpoints.credentials}.
 */
export interface EngineEndpoints {
  /** kinesis-mock plain HTTP/1.1 port, for clients built with `NodeHttpHandler` (e.g. `http://127.0.0.1:4568`); a front in kinesis-mock's process, which itself listens only on private Unix sockets. */
  readonly kinesis: string;
  /** HTTPS endpoint (HTTP/2 and HTTP/1.1, certificate in `kinesisCaFile`) for the SDK's default Kinesis client in handler processes; a front that forwards to kinesis-mock. */
  readonly kinesisTls: string;
  /** DynamoDB Local (e.g. `http://127.0.0.1:8000`). */
  readonly dynamodb: string;
  /** PEM file of the certificate the Kinesis TLS port presents; give it to processes as NODE_EXTRA_CA_CERTS. */
  readonly kinesisCaFile: string;
  /** Region every local resource lives in. */
  readonly region: string;
  /** Account id used in local ARNs. */
  readonly accountId: string;
  /**
   * This run's credentials, new for every start. Every engine port refuses (403
   * AccessDeniedException) a request whose SigV4 `Authorization` does not name exactly
   * `credentials.accessKeyId`: 127.0.0.1 is open to every user of the machine, the key id is not.
   * Keep it private: it is written only to `.shardflow/local.json` (mode 0600) and given to
   * processes through their environment, never on a command line.
   */
  readonly credentials: EngineCredentials;
}

/** Options for {@link startEngines}. */
export interface StartEnginesOptions {
  /**
   * First port to try; engines take the next three free loopback ports from here.
   * @default - any free ports chosen by the OS
   */
  readonly portBase?: number;
  /**
   * Directory that keeps the engines' data across restarts (kinesis-mock persistence, DynamoDB Local -dbPath).
   * @default - in memory, nothing kept
   */
  readonly stateDir?: string;
  /**
   * Receives the engines' own log lines (stdout/stderr), for debugging.
   * @default - discarded
   */
  readonly onLog?: (engine: EngineName, line: string) => void;
  /**
   * How long each engine may take to answer its first request, in milliseconds.
   * @default 90000
   */
  readonly readyTimeoutMs?: number;
}

/** Engines that have answered their first request and are ready for use. */
export interface RunningEngines {
  readonly endpoints: EngineEndpoints;
  /** Process ids of the engine processes: kinesis-mock, its TLS proxy, DynamoDB Local (for orphan checks and `local down`). */
  readonly pids: readonly number[];
  /**
   * Settles when an engine process exits without `stop()` having been called (a crash, an
   * out-of-memory kill): its port is free from then on, and any local user may bind it and receive
   * what clients send there, the run's access key id included. Whoever runs the engines must stop
   * sending at once. Never settles once `stop()` was called, never rejects.
   */
  readonly failed: Promise<EngineFailure>;
  /** Stops both engines and waits until their processes have exited. Idempotent. */
  stop(): Promise<void>;
}

/** An engine process that exited on its own. */
export interface EngineFailure {
  /** The process: `kinesis` is kinesis-mock and its TLS front (`pid` tells which). */
  readonly engine: EngineName;
  readonly pid: number;
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
}
