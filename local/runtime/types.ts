import type { DeployClients, Deployment, NamedResource } from '#local/assembly/types';
import type { CapturedFailure } from '#local/capture/types';
import type { ChaosOptions } from '#local/chaos/types';
import type { EngineEndpoints } from '#local/engines/types';
import type { KinesisEventSourceMapping } from '#local/esm/KinesisEventSourceMapping';
import type { CheckpointStore, Clock, EventSourceMappingStats } from '#local/esm/types';
import type { FunctionHost } from '#local/lambda/FunctionHost';
import type { ScheduleStats } from './ScheduleRunner';

/** Options for {@link startLocalRuntime}. */
export interface LocalRuntimeOptions {
  /** The synthesized cloud assembly directory (cdk.out). */
  readonly cdkOut: string;
  /** The running engines (only their endpoints are used). */
  readonly engines: { readonly endpoints: EngineEndpoints };
  /**
   * Folder (private to the user, made so if needed) in which each run keeps private copies of its
   * functions' code, in a folder of its own removed when the runtime stops. Functions never run from
   * the cloud assembly itself: its asset folders may be writable by other users.
   * @default `.shardflow/code` in the current directory (the project of `shardflow local up`)
   */
  readonly codeCopiesDirectory?: string;
  /**
   * Receives the functions' stdout/stderr lines, prefixed `[functionName]`.
   * @default - discarded
   */
  readonly log?: (line: string) => void;
  /**
   * Receives warning lines (types not emulated, on-failure destinations captured locally, unusable schedules, read errors).
   * @default - written to stderr
   */
  readonly warn?: (line: string) => void;
  /**
   * SDK clients for the engines.
   * @default - `localClients(engines.endpoints)`
   */
  readonly clients?: DeployClients;
  /**
   * Where event source mappings keep their checkpoints.
   * @default - a `FileCheckpointStore` in `stateDir` if given, else in memory
   */
  readonly checkpoints?: CheckpointStore;
  /**
   * Directory keeping the mappings' checkpoints across restarts (`--state-dir`), so a restarted
   * runtime resumes each shard where it stopped. Ignored if `checkpoints` is given.
   * @default - checkpoints in memory
   */
  readonly stateDir?: string;
  /**
   * JSON lines file receiving the on-failure records (what `shardflow failures` lists); the CLI
   * passes `<project>/.shardflow/failures.jsonl`.
   * @default - failure records kept in memory only (`runtime.failures()`)
   */
  readonly failuresFile?: string;
  /**
   * Idle poll interval per shard, in milliseconds.
   * @default 1000
   */
  readonly pollIntervalMs?: number;
  /**
   * Back-off before a failed batch is retried, in milliseconds.
   * @default 1000
   */
  readonly retryDelayMs?: number;
  /**
   * How often each stream's shards are listed again (resharding), in milliseconds.
   * @default 5000
   */
  readonly shardDiscoveryIntervalMs?: number;
  /**
   * Time source of the mappings (record age, batching and tumbling windows); tests pin it.
   * @default - the system clock
   */
  readonly clock?: Clock;
  /**
   * Multiplies the wait before each scheduled invocation (`rate(1 minute)` with 0.01 fires every 600 ms).
   * @default 1
   */
  readonly scheduleTimeScale?: number;
  /**
   * Injects failures at `rate`, reproducibly from `seed`: function errors before the handler runs
   * and after it returned (side effects done), DynamoDB throttling and Kinesis PutRecords partial
   * failures for the handler processes (through loopback proxies given to them as endpoints).
   * @default - no chaos
   */
  readonly chaos?: ChaosOptions;
  /**
   * Variables added to every handler's environment after the engine settings (e.g. endpoints of
   * chaos proxies: `AWS_ENDPOINT_URL_DYNAMODB`).
   * @default {}
   */
  readonly handlerEnvironment?: Readonly<Record<string, string>>;
}

/** Failures a chaos run injected. */
export interface ChaosStats {
  readonly functionErrorsBeforeHandler: number;
  readonly functionErrorsAfterHandler: number;
  readonly dynamodbThrottled: number;
  readonly putRecordsEntriesFailed: number;
}

/** A serializable description of a running local runtime (for `.shardflow/local.json`). */
export interface LocalRuntimeDescription {
  readonly cdkOut: string;
  readonly endpoints: EngineEndpoints;
  /** Logical name → local resource. */
  readonly names: Readonly<Record<string, NamedResource>>;
  readonly functions: readonly {
    readonly functionName: string;
    readonly stack: string;
    readonly logicalId: string;
    readonly handler: string;
    readonly codeDirectory: string;
    readonly timeoutSeconds: number;
  }[];
  readonly eventSourceMappings: readonly {
    readonly uuid: string;
    readonly functionName: string;
    readonly eventSourceArn: string;
    readonly running: boolean;
  }[];
  /** Stack outputs: stack → key → value. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A cloud assembly deployed on the engines, with its functions hosted and mappings polling. */
export interface LocalRuntime {
  /** What was deployed; each function's `codeDirectory` is the private copy it runs from. */
  readonly deployment: Deployment;
  /** Function hosts by physical function name. */
  readonly functions: ReadonlyMap<string, FunctionHost>;
  /** The running Kinesis event source mappings. */
  readonly mappings: readonly KinesisEventSourceMapping[];
  /** Serializable names, endpoints and outputs. */
  describe(): LocalRuntimeDescription;
  /** Counters of every mapping. */
  stats(): EventSourceMappingStats[];
  /** On-failure records captured by this runtime, oldest first. */
  failures(): readonly CapturedFailure[];
  /** Counters of every scheduled rule run locally. */
  scheduleStats(): ScheduleStats[];
  /** Failures injected so far (all 0 without `chaos`). */
  chaosStats(): ChaosStats;
  /** Stops the mappings (waiting for in-flight invocations), then kills every function process. Idempotent. */
  stop(): Promise<void>;
}
