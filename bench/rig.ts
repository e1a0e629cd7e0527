import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import type { PipelineStore, RecordSink, SessionPipelineStore } from '#handlers/types';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';

/** A sink that only counts what it was given (the handler has already serialized it). */
export class CountingSink implements RecordSink {
  records = 0;
  calls = 0;

  async send(records: readonly { readonly data: unknown }[]) {
    this.calls++;
    this.records += records.length;
    return {
      records: records.length,
      requests: Math.ceil(records.length / 500),
      retries: 0,
      bytes: 0,
    };
  }
}

const silentMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as Metrics;

/** A windowed handler wired to a given store, counting sinks and a clock the driver moves. */
export interface HandlerRig {
  readonly handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;
  readonly output: CountingSink;
  readonly failures: CountingSink;
  /** Runs the batches in order, the clock at each batch's last arrival time + 1 s. */
  run(events: readonly KinesisStreamEvent[]): Promise<void>;
}

const arrivalMs = (record: KinesisStreamRecord | undefined): number =>
  Math.round((record?.kinesis.approximateArrivalTimestamp ?? 0) * 1000);

/** Builds the handler exactly as the Lambda entry point does, with injected dependencies. */
export function handlerRig(
  definition: AnyWindowedPipelineDefinition,
  store: PipelineStore,
  sessionStore?: SessionPipelineStore,
): HandlerRig {
  const output = new CountingSink();
  const failures = new CountingSink();
  let now = 0;
  const handler = createWindowedHandler(definition, {
    store,
    sessionStore,
    outputSink: output,
    failureSink: failures,
    clock: () => now,
    logger: new Logger({ serviceName: definition.name, logLevel: 'SILENT' }),
    metrics: silentMetrics,
    // The in-memory store never asks whether an idle shard is caught up: no Kinesis client.
    tailProbe: null,
  });
  return {
    handler,
    output,
    failures,
    async run(events) {
      for (const event of events) {
        now = arrivalMs(event.Records[event.Records.length - 1]) + 1000;
        await handler(event);
      }
    },
  };
}
