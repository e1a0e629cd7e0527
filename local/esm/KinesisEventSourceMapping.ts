import { ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { POLL_INTERVAL_MS, SHARD_DISCOVERY_INTERVAL_MS, STARTING_POSITIONS } from './constants';
import { InMemoryCheckpointStore } from './InMemoryCheckpointStore';
import { LambdaBatchOutcome } from './LambdaBatchOutcome';
import { readMappingSettings } from './readMappingSettings';
import { type InitialPosition, ShardReader, type ShardReaderContext } from './ShardReader';
import { systemClock } from './systemClock';
import type {
  EventSourceMappingStats,
  KinesisEventSourceMappingOptions,
  KinesisMappingSettings,
} from './types';

interface KnownShard {
  readonly shard: Shard;
  readonly initialPosition: InitialPosition;
  reader?: ShardReader;
  running?: Promise<void>;
}

/**
 * Runs one `AWS::Lambda::EventSourceMapping` on a Kinesis stream locally, as Lambda does: a
 * reader per shard with up to ParallelizationFactor concurrent batches (ordered per partition
 * key), FilterCriteria, batches by BatchSize, MaximumBatchingWindowInSeconds and the 6 MB payload
 * limit, AWS's exact event shape (tumbling window fields included), checkpoints only after
 * success, and failures handled by a {@link BatchOutcome} (Lambda's retries, bisect, partial
 * batch responses, discards to the on-failure destination by default). Shards are listed again
 * periodically; a child shard is read only after its parent(s) are finished.
 *
 * @example
 * ```ts
 * const mapping = new KinesisEventSourceMapping({ definition, invoker: host, kinesis, region, invokeIdentityArn });
 * await mapping.start();
 * // … later
 * await mapping.stop();
 * ```
 */
export class KinesisEventSourceMapping {
  /** The mapping's settings with Lambda's defaults applied. */
  public readonly settings: KinesisMappingSettings;
  private readonly shards = new Map<string, KnownShard>();
  private readonly abort = new AbortController();
  private readonly context: ShardReaderContext;
  private readonly discoveryIntervalMs: number;
  private discovery: NodeJS.Timeout | undefined;
  private discovering: Promise<void> | undefined;
  private started = false;

  /**
   * @throws EventSourceMappingConfigError if a setting is outside what Lambda accepts or the source is not a Kinesis stream
   */
  public constructor(options: KinesisEventSourceMappingOptions) {
    const { settings } = readMappingSettings(options.definition);
    this.settings = settings;
    const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.discoveryIntervalMs = options.shardDiscoveryIntervalMs ?? SHARD_DISCOVERY_INTERVAL_MS;
    this.context = {
      settings,
      kinesis: options.kinesis,
      invoker: options.invoker,
      checkpoints: options.checkpoints ?? new InMemoryCheckpointStore(),
      outcome:
        options.outcome ??
        new LambdaBatchOutcome(
          settings,
          options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {},
        ),
      clock: options.clock ?? systemClock,
      pollIntervalMs: options.pollIntervalMs ?? POLL_INTERVAL_MS,
      signal: this.abort.signal,
      source: {
        eventSourceArn: settings.eventSourceArn,
        region: options.region,
        invokeIdentityArn: options.invokeIdentityArn,
      },
      warn,
      ...(options.onDiscard ? { onDiscard: options.onDiscard } : {}),
    };
  }

  /** UUID of the mapping. */
  public get uuid(): string {
    return this.settings.uuid;
  }

  /** Counters per mapping and per shard. */
  public get stats(): EventSourceMappingStats {
    const shards = [...this.shards.values()].map(
      (known) =>
        known.reader?.stats ?? {
          shardId: known.shard.ShardId ?? '',
          state: 'waiting-for-parent' as const,
          recordsDelivered: 0,
          batches: 0,
          invocations: 0,
          errors: 0,
          pendingRecords: 0,
          iteratorAgeMs: 0,
          millisBehindLatest: 0,
        },
    );
    const sum = (pick: (shard: (typeof shards)[number]) => number) =>
      shards.reduce((total, shard) => total + pick(shard), 0);
    const max = (pick: (shard: (typeof shards)[number]) => number) =>
      shards.reduce((most, shard) => Math.max(most, pick(shard)), 0);
    return {
      uuid: this.settings.uuid,
      functionName: this.settings.functionName,
      streamName: this.settings.streamName,
      state: this.abort.signal.aborted ? 'Stopped' : this.settings.enabled ? 'Enabled' : 'Disabled',
      recordsDelivered: sum((shard) => shard.recordsDelivered),
      batches: sum((shard) => shard.batches),
      invocations: sum((shard) => shard.invocations),
      errors: sum((shard) => shard.errors),
      iteratorAgeMs: max((shard) => shard.iteratorAgeMs),
      millisBehindLatest: max((shard) => shard.millisBehindLatest),
      shards,
    };
  }

  /**
   * Lists the shards and starts reading them; resolves once every readable shard has its first
   * iterator, so records put afterwards are delivered even with StartingPosition LATEST.
   * Does nothing for a mapping with `Enabled: false`.
   */
  public async start(): Promise<void> {
    if (this.started || !this.settings.enabled) return;
    this.started = true;
    await this.discover(true);
    this.scheduleDiscovery();
  }

  /** Stops polling and waits for in-flight invocations; unprocessed records stay unchecked-pointed. Idempotent. */
  public async stop(): Promise<void> {
    this.abort.abort();
    if (this.discovery) clearTimeout(this.discovery);
    await this.discovering?.catch(() => undefined);
    await Promise.all([...this.shards.values()].map((known) => known.running));
  }

  private scheduleDiscovery(): void {
    if (this.abort.signal.aborted) return;
    this.discovery = setTimeout(() => {
      this.discovering = this.discover(false)
        .catch((error: Error) =>
          this.context.warn(`shardflow: ${this.uuid} cannot list shards: ${error.message}`),
        )
        .finally(() => this.scheduleDiscovery());
    }, this.discoveryIntervalMs);
    this.discovery.unref();
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.context.kinesis.send(
        new ListShardsCommand(
          nextToken ? { NextToken: nextToken } : { StreamName: this.settings.streamName },
        ),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return shards;
  }

  /** Finds new shards; the first listing uses StartingPosition, shards appearing later start at TRIM_HORIZON. */
  private async discover(initial: boolean): Promise<void> {
    const initialPosition: InitialPosition = initial
      ? {
          ShardIteratorType: this.settings.startingPosition,
          ...(this.settings.startingPosition === STARTING_POSITIONS.AT_TIMESTAMP
            ? { Timestamp: new Date((this.settings.startingPositionTimestamp ?? 0) * 1000) }
            : {}),
        }
      : { ShardIteratorType: STARTING_POSITIONS.TRIM_HORIZON };
    for (const shard of await this.listShards()) {
      if (shard.ShardId && !this.shards.has(shard.ShardId)) {
        this.shards.set(shard.ShardId, { shard, initialPosition });
      }
    }
    await this.startReadyShards();
  }

  /** Starts every shard not yet read whose parents are finished (or no longer listed). */
  private async startReadyShards(): Promise<void> {
    const ready = [...this.shards.values()].filter((known) => {
      if (known.reader) return false;
      const parents = [known.shard.ParentShardId, known.shard.AdjacentParentShardId];
      return parents.every((parentId) => {
        if (!parentId) return true;
        const parent = this.shards.get(parentId);
        return parent === undefined || parent.reader?.ended === true;
      });
    });
    await Promise.all(
      ready.map(async (known) => {
        const reader = new ShardReader(
          known.shard.ShardId as string,
          known.initialPosition,
          this.context,
        );
        known.reader = reader;
        await reader.prepare();
        known.running = reader
          .run()
          .then(async () => {
            // A finished parent may unblock its children.
            if (reader.ended && !this.abort.signal.aborted) await this.startReadyShards();
          })
          .catch((error: Error) =>
            this.context.warn(
              `shardflow: ${this.uuid} cannot start child shards: ${error.message}`,
            ),
          );
      }),
    );
  }
}
