import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkJava } from './checkJava';
import {
  ENGINE_READY_TIMEOUT_MS,
  ENGINE_STOP_GRACE_MS,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  LOOPBACK_HOST,
} from './constants';
import { createEngineCredentials } from './createEngineCredentials';
import {
  type DynamoDbEngineOptions,
  probeDynamoDbEngine,
  spawnDynamoDbEngine,
} from './DynamoDbEngine';
import type { EngineProcess } from './EngineProcess';
import { EnginePortInUseError } from './errors';
import { findFreePorts } from './freePort';
import { Guardian } from './Guardian';
import {
  createKinesisSocketDir,
  type KinesisEngineOptions,
  probeKinesisEngine,
  probeKinesisTlsProxy,
  removeKinesisSocketDir,
  spawnKinesisEngine,
  spawnKinesisTlsProxy,
  stopKinesisEngine,
} from './KinesisEngine';
import { stopOnParentExit } from './stopOnParentExit';
import { ensureTlsCertificate } from './tlsCertificate';
import type {
  EngineCredentials,
  EngineEndpoints,
  EngineFailure,
  RunningEngines,
  StartEnginesOptions,
} from './types';
import { waitUntilReady } from './waitUntilReady';

/** How often a start is tried when a probed port was taken before an engine could bind it. */
const PORT_ATTEMPTS = 3;

/**
 * Starts kinesis-mock and DynamoDB Local on free loopback ports and resolves once both answer
 * requests.
 *
 * Three processes run: kinesis-mock, a TLS proxy in front of it (HTTP/2 for the SDK's default
 * client; kinesis-mock's own TLS port is unreliable), and DynamoDB Local. Ports are taken in the
 * order Kinesis plain, Kinesis TLS, DynamoDB.
 *
 * Nothing listens beyond 127.0.0.1, and no browser gets through: kinesis-mock (which would bind
 * every interface) listens only on Unix sockets in a private folder, and its plain port is a front
 * in its own process (kinesisMockPreload.js); DynamoDB Local is bound to 127.0.0.1 by
 * LoopbackDynamoDbLocal.java. Every port — Kinesis plain, Kinesis TLS, DynamoDB — answers 403 to a
 * request with an `Origin` or `Sec-Fetch-*` header, or whose `Host` is not `127.0.0.1`,
 * `localhost` or `[::1]` with that port (loopbackFront.js); SDK clients send neither.
 *
 * Nor does another user of the machine get through, though 127.0.0.1 is open to every user: each
 * start generates new random credentials (`endpoints.credentials`), and every port answers 403 to
 * a request whose SigV4 `Authorization` does not name exactly their access key id. The engine
 * processes get the key id through their environment (readable only by this user), never their
 * command line; a front without it does not start. Use `localClients(endpoints)` or
 * `lambdaSdkEnvironment(endpoints)` to sign with them.
 *
 * The engines never outlive this process: they stop on `stop()`, on exit, on SIGINT/SIGTERM/SIGHUP,
 * and — through a small guardian process — even when this process is killed with SIGKILL.
 * The engines do not keep the event loop alive.
 *
 * With `stateDir`, Kinesis data is kept in `<stateDir>/kinesis` (written every second; `stop()`
 * also keeps a complete copy, because kinesis-mock can leave its file empty when stopped
 * mid-write), DynamoDB tables in `<stateDir>/dynamodb`, and the TLS certificate in
 * `<stateDir>/tls`; otherwise all is in memory and the certificate is cached under the OS temp
 * folder. DynamoDB Local always runs with `-sharedDb`: every credential and region sees the same
 * tables, so a restart with `stateDir` finds its tables under the new access key id.
 *
 * @throws JavaMissingError / JavaTooOldError when Java 17+ is not on PATH
 * @throws EngineExitedError / EngineStartTimeoutError with the engine's last log lines
 * @throws EnginePortInUseError when probed ports were taken by another process three times running
 *
 * @example
 * ```ts
 * const engines = await startEngines({ stateDir: '.shardflow/state' });
 * const { kinesis } = localClients(engines.endpoints);
 * // ...
 * await engines.stop();
 * ```
 */
export async function startEngines(options: StartEnginesOptions = {}): Promise<RunningEngines> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // Ports are probed, then bound by the engines: another process may take one in between.
      if (!(error instanceof EnginePortInUseError) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function startOnce(options: StartEnginesOptions): Promise<RunningEngines> {
  const { onLog } = options;
  // Absolute: DynamoDB Local runs in its own directory, where a relative path means another place.
  const stateDir = options.stateDir === undefined ? undefined : resolve(options.stateDir);
  const readyTimeoutMs = options.readyTimeoutMs ?? ENGINE_READY_TIMEOUT_MS;
  const [ports, certificate] = await Promise.all([
    findFreePorts(3, options.portBase),
    ensureTlsCertificate(stateDir === undefined ? undefined : join(stateDir, 'tls')),
    checkJava(),
  ]);
  const [plainPort = 0, tlsPort = 0, dynamoDbPort = 0] = ports;
  const credentials = createEngineCredentials();
  const kinesisOptions: KinesisEngineOptions = {
    plainPort,
    tlsPort,
    socketDir: await createKinesisSocketDir(),
    certificate,
    credentials,
    dataDir: stateDir === undefined ? undefined : join(stateDir, 'kinesis'),
    onLog,
  };
  const dynamoDbOptions: DynamoDbEngineOptions = {
    port: dynamoDbPort,
    credentials,
    dataDir: stateDir === undefined ? undefined : join(stateDir, 'dynamodb'),
    onLog,
  };

  const guardian = await Guardian.start(kinesisOptions.socketDir).catch(async (error: unknown) => {
    await removeKinesisSocketDir(kinesisOptions.socketDir);
    throw error;
  });
  const processes: EngineProcess[] = [];
  const stop = async (): Promise<void> => {
    guardian.dismiss();
    const [kinesis, ...others] = processes;
    await Promise.all([
      kinesis && stopKinesisEngine(kinesis, kinesisOptions, ENGINE_STOP_GRACE_MS),
      ...others.map((child) => child.stop(ENGINE_STOP_GRACE_MS)),
    ]);
    await removeKinesisSocketDir(kinesisOptions.socketDir);
  };
  // One stop, whoever asks first (a signal, or the caller): a second caller waits for the same one.
  let stopping: Promise<void> | undefined;
  const stopOnce = (): Promise<void> => {
    stopping ??= stop();
    return stopping;
  };
  const unregister = stopOnParentExit({
    stop: stopOnce,
    terminateNow: () => {
      for (const child of processes) child.signal('SIGTERM');
      rmSync(kinesisOptions.socketDir, { recursive: true, force: true });
    },
  });
  try {
    const ca = await readFile(certificate.caFile, 'utf8');
    for (const spawnProcess of [
      () => spawnKinesisEngine(kinesisOptions),
      () => spawnKinesisTlsProxy(kinesisOptions),
      () => spawnDynamoDbEngine(dynamoDbOptions),
    ]) {
      const child = await spawnProcess();
      processes.push(child);
      guardian.watch(child.pid);
    }
    const [kinesis, tlsProxy, dynamodb] = processes as [
      EngineProcess,
      EngineProcess,
      EngineProcess,
    ];
    await Promise.all([
      waitUntilReady(kinesis, () => probeKinesisEngine(kinesisOptions), readyTimeoutMs),
      waitUntilReady(tlsProxy, () => probeKinesisTlsProxy(kinesisOptions, ca), readyTimeoutMs),
      waitUntilReady(dynamodb, () => probeDynamoDbEngine(dynamoDbOptions), readyTimeoutMs),
    ]);
  } catch (error) {
    unregister();
    await stopOnce();
    throw error;
  }

  return {
    endpoints: endpointsOf(kinesisOptions, dynamoDbOptions, certificate.caFile, credentials),
    pids: processes.map((child) => child.pid),
    failed: firstUnexpectedExit(processes, () => stopping !== undefined),
    stop: () => stopOnce().finally(unregister),
  };
}

/** The first of `processes` to exit while `stopped()` is false; pending for ever otherwise. */
function firstUnexpectedExit(
  processes: readonly EngineProcess[],
  stopped: () => boolean,
): Promise<EngineFailure> {
  return new Promise((resolve) => {
    for (const child of processes) {
      void child.exited.then(({ code, signal }) => {
        if (!stopped()) resolve({ engine: child.engine, pid: child.pid, code, signal });
      });
    }
  });
}

function endpointsOf(
  kinesis: KinesisEngineOptions,
  dynamodb: DynamoDbEngineOptions,
  kinesisCaFile: string,
  credentials: EngineCredentials,
): EngineEndpoints {
  return {
    kinesis: `http://${LOOPBACK_HOST}:${kinesis.plainPort}`,
    kinesisTls: `https://${LOOPBACK_HOST}:${kinesis.tlsPort}`,
    dynamodb: `http://${LOOPBACK_HOST}:${dynamodb.port}`,
    kinesisCaFile,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    credentials,
  };
}
