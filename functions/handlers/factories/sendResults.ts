import type { Logger } from '@aws-lambda-powertools/logger';
import {
  type AnyWindowedPipelineDefinition,
  sideOutputRecords,
  type WindowResult,
} from '#runtime/index';
import type { PipelineStore, RecordSink, SessionPipelineStore } from '../types';

/** What closing and emitting needs. */
export interface EmitContext {
  readonly definition: AnyWindowedPipelineDefinition;
  readonly store: PipelineStore;
  readonly outputSink: RecordSink;
  readonly logger?: Logger;
  /** Session-window pipelines: where their sessions live. */
  readonly sessionStore?: SessionPipelineStore | undefined;
  /** One sink per side-output stream of the pipeline (`.alert()`), by logical stream name. */
  readonly sideOutputSinks?: Readonly<Record<string, RecordSink>>;
}

/** What closing or repairing did. */
export interface EmitReport {
  /** Windows emitted (closed here, or repaired). */
  readonly windows: number;
  /** Records written to the output stream and the side-output streams. */
  readonly records: number;
  /** PutRecords retries. */
  readonly retries: number;
}

/** A report of nothing emitted. */
export const NOTHING_EMITTED: EmitReport = { windows: 0, records: 0, retries: 0 };

/**
 * Writes final results to the output stream, then their side-output records (alerts) to each
 * side stream — all before the caller marks the windows emitted, so a crash in between re-emits
 * both through the sweeper with the same ids (at-least-once, stable ids).
 */
export async function sendResults(
  context: EmitContext,
  results: readonly WindowResult[],
): Promise<{ records: number; retries: number }> {
  const stats = await context.outputSink.send(
    results.map((result) => ({ data: JSON.stringify(result), partitionKey: result.key })),
  );
  let records = stats.records;
  let retries = stats.retries;
  const byStream = new Map<string, Array<{ data: string; partitionKey: string }>>();
  for (const result of results) {
    for (const { stream, record } of sideOutputRecords(context.definition, result)) {
      const list = byStream.get(stream) ?? [];
      list.push({ data: JSON.stringify(record), partitionKey: record.key });
      byStream.set(stream, list);
    }
  }
  for (const [stream, list] of byStream) {
    const sink = context.sideOutputSinks?.[stream];
    if (sink === undefined) {
      throw new Error(`pipeline ${context.definition.name}: no sink for side output '${stream}'`);
    }
    const sent = await sink.send(list);
    records += sent.records;
    retries += sent.retries;
  }
  return { records, retries };
}
