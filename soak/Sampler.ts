import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { EventSourceMappingStats } from '#local/esm/types';
import type { WorkerMemory } from '#local/lambda/types';
import { probeLag } from './probeLag';
import { readVmRss } from './readVmRss';
import type { PipelineSample, ProcessSample, SoakSample } from './types';

/** A hosted function the sampler asks for its workers' memory (a `FunctionHost` fits). */
export interface SampledFunction {
  readonly functionName: string;
  /** Pipeline of the function, or its role. */
  readonly label: string;
  memory(): Promise<WorkerMemory[]>;
}

/** Options of {@link Sampler}. */
export interface SamplerOptions {
  readonly kinesis: KinesisClient;
  /** The mappings' counters (`runtime.stats()`). */
  readonly stats: () => EventSourceMappingStats[];
  /** Pipeline of a mapping's function. */
  readonly pipelineOf: (functionName: string) => string;
  readonly functions: readonly SampledFunction[];
  /** Records on a pipeline's output and failure streams so far. */
  readonly outputs: (pipeline: string) => { readonly out: number; readonly failures: number };
  /** Records put per logical input stream so far. */
  readonly sent: () => Readonly<Record<string, number>>;
  /** Receives a line when a probe fails (the sample then has no lag for that pipeline). */
  readonly onError?: (line: string) => void;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Records of a mapping that are finished: delivered, filtered out, or given up on. */
export function processedRecords(stats: EventSourceMappingStats): number {
  return stats.shards.reduce(
    (sum, shard) =>
      sum + shard.recordsDelivered + (shard.recordsFiltered ?? 0) + (shard.recordsDiscarded ?? 0),
    0,
  );
}

/**
 * Takes the soak's samples: per pipeline the mapping's counters, records out and the age of its
 * oldest unprocessed record (probed on the stream from the checkpoints); per handler worker
 * process its RSS (`/proc/<pid>/status`) and V8 heap (asked over the worker's IPC channel). It
 * also notices worker processes that went away between two samples.
 */
export class Sampler {
  /** Worker processes seen in one sample and gone in a later one. */
  public readonly exits: { functionName: string; pid: number; t: number }[] = [];
  readonly #options: SamplerOptions;
  readonly #clock: () => number;
  #alive = new Map<number, string>();

  public constructor(options: SamplerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** One sample, `t` ms after driving started. */
  public async sample(t: number): Promise<SoakSample> {
    const [pipelines, processes] = await Promise.all([this.#pipelines(), this.#processes(t)]);
    return { t, sent: { ...this.#options.sent() }, pipelines, processes };
  }

  async #pipelines(): Promise<PipelineSample[]> {
    return Promise.all(
      this.#options.stats().map(async (stats) => {
        const pipeline = this.#options.pipelineOf(stats.functionName);
        let lagMs: number | undefined;
        try {
          const lags = await Promise.all(
            stats.shards
              .filter((shard) => shard.state === 'polling')
              .map((shard) =>
                probeLag(
                  this.#options.kinesis,
                  stats.streamName,
                  shard.shardId,
                  shard.checkpoint,
                  this.#clock,
                ),
              ),
          );
          lagMs = Math.max(0, ...lags);
        } catch (error) {
          this.#options.onError?.(`lag probe of ${pipeline} failed: ${(error as Error).message}`);
        }
        const { out, failures } = this.#options.outputs(pipeline);
        const lastError = stats.shards.find((shard) => shard.lastError)?.lastError;
        return {
          pipeline,
          processed: processedRecords(stats),
          out,
          failures,
          errors: stats.errors,
          ...(lagMs === undefined ? {} : { lagMs }),
          iteratorAgeMs: stats.iteratorAgeMs,
          millisBehindLatest: stats.millisBehindLatest,
          ...(lastError === undefined ? {} : { lastError }),
        };
      }),
    );
  }

  async #processes(t: number): Promise<ProcessSample[]> {
    const perFunction = await Promise.all(
      this.#options.functions.map(async (fn) => {
        const workers = await fn.memory();
        return Promise.all(
          workers.map(async (worker) => ({
            functionName: fn.functionName,
            label: fn.label,
            pid: worker.pid,
            rssBytes: (await readVmRss(worker.pid)) ?? worker.rss,
            heapUsedBytes: worker.heapUsed,
            heapTotalBytes: worker.heapTotal,
          })),
        );
      }),
    );
    const processes = perFunction.flat();
    // A worker only leaves a host when it crashed, timed out or failed to start.
    const now = new Map(processes.map((p) => [p.pid, p.functionName]));
    for (const [pid, functionName] of this.#alive) {
      if (now.has(pid)) continue;
      if (isRunning(pid)) now.set(pid, functionName);
      else this.exits.push({ functionName, pid, t });
    }
    this.#alive = now;
    return processes;
  }
}

/** Whether a process still exists (a worker that did not answer in time is not gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
