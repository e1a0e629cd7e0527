import { deployAssembly } from '#local/assembly/deployAssembly';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import { lambdaSdkEnvironment, localClients } from '#local/aws/index';
import { FailureCapture } from '#local/capture/FailureCapture';
import { toDiscardedBatchRecord } from '#local/capture/toDiscardedBatchRecord';
import { ChaosInvoker } from '#local/chaos/ChaosInvoker';
import { type ChaosProxies, startChaosProxies } from '#local/chaos/startChaosProxies';
import { FileCheckpointStore } from '#local/esm/FileCheckpointStore';
import { InMemoryCheckpointStore } from '#local/esm/InMemoryCheckpointStore';
import { KinesisEventSourceMapping } from '#local/esm/KinesisEventSourceMapping';
import { FunctionHost } from '#local/lambda/FunctionHost';
import type { FunctionInvoker } from '#local/lambda/types';
import { SUPPORTED_EVENT_SOURCE_TYPE } from './constants';
import { LocalRuntimeError } from './errors';
import { FunctionCodeStore } from './FunctionCodeStore';
import { findSchedules } from './findSchedules';
import { ScheduleRunner } from './ScheduleRunner';
import type { LocalRuntime, LocalRuntimeDescription, LocalRuntimeOptions } from './types';

/**
 * Runs a synthesized CDK app on the embedded AWS: loads the cloud assembly, creates its streams
 * and tables on the engines, copies each Lambda function's code into a private folder of this run
 * ({@link FunctionCodeStore}: nothing another user wrote or can still change is run), hosts each
 * function in warm worker processes with a Lambda-like environment, starts every Kinesis event
 * source mapping with Lambda's semantics
 * (retries, bisect, partial batch responses, parallelization, filters, tumbling windows), captures
 * what reaches on-failure destinations, and runs scheduled rules targeting the app's functions.
 * If any step fails, whatever was started is stopped again.
 *
 * @example
 * ```ts
 * const engines = await startEngines();
 * const runtime = await startLocalRuntime({ cdkOut: 'cdk.out', engines });
 * console.log(runtime.describe().names);
 * await runtime.stop();
 * await engines.stop();
 * ```
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { endpoints } = options.engines;
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const owned = options.clients === undefined ? localClients(endpoints) : undefined;
  const clients = options.clients ?? (owned as NonNullable<typeof owned>);
  const destroyOwnedClients = () => {
    owned?.kinesis.destroy();
    owned?.dynamodb.destroy();
    owned?.documentClient.destroy();
  };
  let deployment: Awaited<ReturnType<typeof deployAssembly>>;
  let assembly: ReturnType<typeof loadCloudAssembly>;
  let code: FunctionCodeStore | undefined;
  try {
    assembly = loadCloudAssembly(options.cdkOut);
    code = FunctionCodeStore.create(options.codeCopiesDirectory);
    const deployed = await deployAssembly(assembly, {
      endpoints,
      clients,
      warn,
      inlineCodeDirectory: code.inlineDirectory,
    });
    // Every function runs from a private copy of its code, never from cdk.out itself.
    const staged = code.stage(assembly, deployed.functions);
    deployment = { ...deployed, functions: staged.functions };
    options.log?.(
      `shardflow: copied the code of ${staged.functions.length} functions (${staged.directories} directories, ${staged.files} files, ${(staged.bytes / 1e6).toFixed(1)} MB) to ${code.directory} in ${Math.round(staged.durationMs)} ms`,
    );
  } catch (error) {
    code?.remove();
    destroyOwnedClients();
    throw error;
  }
  const store = code;

  const chaos = options.chaos && options.chaos.rate > 0 ? options.chaos : undefined;
  let proxies: ChaosProxies | undefined;
  try {
    proxies = chaos ? await startChaosProxies(endpoints, chaos) : undefined;
  } catch (error) {
    store.remove();
    destroyOwnedClients();
    throw new LocalRuntimeError('cannot start the chaos proxies', assembly.directory, {
      cause: error,
    });
  }
  const sdkEnvironment = {
    ...lambdaSdkEnvironment(endpoints),
    ...proxies?.environment,
    ...options.handlerEnvironment,
  };
  const functions = new Map(
    deployment.functions.map((definition) => [
      definition.functionName,
      new FunctionHost(definition, {
        sdkEnvironment,
        ...(options.log ? { log: options.log } : {}),
      }),
    ]),
  );
  const invokers = new Map<string, FunctionInvoker>(
    [...functions].map(([name, host]) => [name, chaos ? new ChaosInvoker(host, chaos) : host]),
  );
  const checkpoints =
    options.checkpoints ??
    (options.stateDir !== undefined
      ? new FileCheckpointStore(options.stateDir)
      : new InMemoryCheckpointStore());
  const capture = new FailureCapture(
    options.failuresFile !== undefined ? { file: options.failuresFile } : {},
  );
  const mappings: KinesisEventSourceMapping[] = [];
  const schedules = new ScheduleRunner(
    findSchedules(assembly, endpoints),
    (targetArn) => {
      const fn = deployment.functions.find(
        (candidate) =>
          targetArn === candidate.functionArn || targetArn.startsWith(`${candidate.functionArn}:`),
      );
      return fn ? invokers.get(fn.functionName) : undefined;
    },
    {
      region: endpoints.region,
      accountId: endpoints.accountId,
      warn,
      ...(options.scheduleTimeScale !== undefined ? { timeScale: options.scheduleTimeScale } : {}),
    },
  );
  const stopAll = async () => {
    await schedules.stop();
    await Promise.all(mappings.map((mapping) => mapping.stop()));
    await Promise.all([...functions.values()].map((host) => host.dispose()));
    store.remove();
    await proxies?.close();
    destroyOwnedClients();
    // After the mappings and functions: nothing captures any more.
    capture.close();
  };
  try {
    for (const definition of deployment.eventSourceMappings) {
      if (
        definition.eventSourceType !== SUPPORTED_EVENT_SOURCE_TYPE &&
        !definition.eventSourceArn.includes(':kinesis:')
      ) {
        warn(
          `shardflow: event source mapping ${definition.stack}/${definition.logicalId} on ${definition.eventSourceArn} is not run locally (only Kinesis streams are)`,
        );
        continue;
      }
      const invoker = invokers.get(definition.functionName);
      const fn = deployment.functions.find(
        (candidate) => candidate.functionName === definition.functionName,
      );
      if (invoker === undefined || fn === undefined) continue; // planDeployment guarantees both
      const mapping = new KinesisEventSourceMapping({
        definition,
        invoker,
        kinesis: clients.kinesis,
        region: endpoints.region,
        invokeIdentityArn: fn.roleArn,
        checkpoints,
        warn,
        onDiscard: (mappingId, shardId, discarded) => {
          const destinationArn = mapping.settings.onFailureDestination;
          if (destinationArn === undefined) return; // Lambda drops them without a destination.
          capture.add(
            toDiscardedBatchRecord(discarded, {
              destinationArn,
              eventSourceMappingUuid: mappingId,
              functionName: fn.functionName,
              functionArn: fn.functionArn,
              streamArn: mapping.settings.eventSourceArn,
              shardId,
            }),
          );
        },
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
        ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
        ...(options.shardDiscoveryIntervalMs !== undefined
          ? { shardDiscoveryIntervalMs: options.shardDiscoveryIntervalMs }
          : {}),
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
      });
      mappings.push(mapping);
      const destinationArn = mapping.settings.onFailureDestination;
      if (destinationArn !== undefined) {
        const target = deployment.resources.find((resource) => resource.arn === destinationArn);
        warn(
          `shardflow: ${target ? `${target.type} ${target.physicalName}` : destinationArn} is not yet emulated locally; DestinationConfig.OnFailure records of event source mapping ${mapping.uuid} (${fn.functionName}) are captured ${capture.file ? `in ${capture.file}` : 'in memory'} (shardflow failures)`,
        );
      }
    }
    await Promise.all(mappings.map((mapping) => mapping.start()));
    schedules.start();
  } catch (error) {
    await stopAll();
    throw new LocalRuntimeError('cannot start the event source mappings', assembly.directory, {
      cause: error,
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    deployment,
    functions,
    mappings,
    describe: (): LocalRuntimeDescription => ({
      cdkOut: assembly.directory,
      endpoints,
      names: deployment.names,
      functions: deployment.functions.map((fn) => ({
        functionName: fn.functionName,
        stack: fn.stack,
        logicalId: fn.logicalId,
        handler: fn.handler,
        codeDirectory: fn.codeDirectory,
        timeoutSeconds: fn.timeoutSeconds,
      })),
      eventSourceMappings: deployment.eventSourceMappings.map((mapping) => ({
        uuid: mapping.uuid,
        functionName: mapping.functionName,
        eventSourceArn: mapping.eventSourceArn,
        running: mappings.some((running) => running.uuid === mapping.uuid),
      })),
      outputs: deployment.outputs,
    }),
    stats: () => mappings.map((mapping) => mapping.stats),
    failures: () => capture.failures,
    chaosStats: () => {
      const injected = [...invokers.values()].map((invoker) =>
        invoker instanceof ChaosInvoker ? invoker.injected : { before: 0, after: 0 },
      );
      return {
        functionErrorsBeforeHandler: injected.reduce((total, count) => total + count.before, 0),
        functionErrorsAfterHandler: injected.reduce((total, count) => total + count.after, 0),
        dynamodbThrottled: proxies?.dynamodb.injected ?? 0,
        putRecordsEntriesFailed: proxies?.kinesis.injected ?? 0,
      };
    },
    scheduleStats: () => schedules.stats,
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}
