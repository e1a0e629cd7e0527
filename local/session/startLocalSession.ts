import * as path from 'node:path';
import { startEngines } from '#local/engines/index';
import type { EngineFailure, RunningEngines } from '#local/engines/types';
import { startLocalRuntime } from '#local/runtime/index';
import type { LocalRuntime } from '#local/runtime/types';
import { isCloudAssembly, synthesize } from './synthesize';
import type { LocalSessionState } from './types';

/** Options for {@link startLocalSession}. */
export interface LocalSessionOptions {
  /** A CDK project directory (with cdk.json) or a synthesized cloud assembly. */
  readonly app: string;
  /**
   * Where to synthesize the app.
   * @default <app>/.shardflow/cdk.out
   */
  readonly cdkOutDir?: string;
  /** @default - any free ports */
  readonly portBase?: number;
  /** @default - in memory */
  readonly stateDir?: string;
  /**
   * Where failure records of on-failure destinations are kept, for `shardflow failures`.
   * @default - in memory only
   */
  readonly failuresFile?: string;
  /**
   * Inject failures into invocations, DynamoDB and PutRecords at this rate, reproducibly from `seed`.
   * @default - no chaos
   */
  readonly chaos?: { readonly rate: number; readonly seed: number };
  /**
   * Receives warning lines (resource types not emulated, mapping settings, read errors).
   * @default - written to stderr
   */
  readonly onWarn?: (line: string) => void;
  /** Receives handler and runtime log lines. @default - discarded */
  readonly onLog?: (line: string) => void;
}

/** The embedded AWS with an app deployed on it and its event source mappings running. */
export interface LocalSession {
  readonly state: LocalSessionState;
  readonly engines: RunningEngines;
  /** The deployed app: functions, mappings, their stats, captured failures, chaos counters. */
  readonly runtime: LocalRuntime;
  /**
   * Settles when an engine exited on its own ({@link RunningEngines.failed}). By then the session
   * has already begun to stop (mappings and functions first): nothing of it sends to the dead
   * engine's port, which another local user could bind. Never settles after `stop()`.
   */
  readonly failed: Promise<EngineFailure>;
  /** Stops the mappings, the function hosts and the engines; resolves when every process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts kinesis-mock and DynamoDB Local, synthesizes the app (unless given a cloud assembly) while they
 * boot, deploys the assembly on them and starts every event source mapping. Whatever was started is
 * stopped again if a later step fails.
 *
 * @example
 * const session = await startLocalSession({ app: process.cwd() });
 * try { … } finally { await session.stop(); }
 */
export async function startLocalSession(options: LocalSessionOptions): Promise<LocalSession> {
  const app = path.resolve(options.app);
  const assembly = isCloudAssembly(app)
    ? Promise.resolve(app)
    : synthesize(app, options.cdkOutDir ?? path.join(app, '.shardflow', 'cdk.out'));
  const enginesStarting = startEngines({ portBase: options.portBase, stateDir: options.stateDir });
  const [cdkOut, engines] = await settleBoth(assembly, enginesStarting);
  try {
    const runtime = await startLocalRuntime({
      cdkOut,
      engines,
      log: options.onLog,
      warn: options.onWarn,
      failuresFile: options.failuresFile,
      chaos: options.chaos,
      // Checkpoints live beside the engines' data, so a restarted runtime resumes where it stopped.
      stateDir: options.stateDir === undefined ? undefined : path.join(options.stateDir, 'esm'),
    });
    const state: LocalSessionState = {
      version: 1,
      pid: process.pid,
      enginePids: engines.pids,
      startedAt: new Date().toISOString(),
      cdkOut,
      endpoints: engines.endpoints,
      names: runtime.describe().names,
    };
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= runtime.stop().finally(() => engines.stop());
      return stopping;
    };
    const failed = engines.failed.then((failure) => {
      if (stopping !== undefined) return new Promise<never>(() => undefined);
      void stop();
      return failure;
    });
    return { state, engines, runtime, failed, stop };
  } catch (error) {
    await engines.stop();
    throw error;
  }
}

/** Awaits both; if either fails, stops the engines that did start before re-throwing. */
async function settleBoth(
  assembly: Promise<string>,
  engines: Promise<RunningEngines>,
): Promise<[string, RunningEngines]> {
  const [a, e] = await Promise.allSettled([assembly, engines]);
  if (a.status === 'fulfilled' && e.status === 'fulfilled') {
    return [a.value, e.value];
  }
  if (e.status === 'fulfilled') {
    await e.value.stop();
  }
  throw a.status === 'rejected' ? a.reason : (e as PromiseRejectedResult).reason;
}
