import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { outputStreamVariable, requireEnv, STATE_TABLE_VARIABLE } from '#commons/environment';
import type { AnyWindowedPipelineDefinition } from '#runtime/index';
import { KinesisSink } from '#sinks/index';
import { HANDLER_DEFAULTS } from '../constants';
import type { PipelineStore, RecordSink, SessionPipelineStore } from '../types';
import { createPipelineStore } from './createPipelineStore';
import { createSessionStore } from './createSessionStore';
import { isSessionPipeline } from './emitWindows';

/** What a windowed pipeline needs at run time, in the handler and in the sweeper alike. */
export interface PipelineRuntime {
  readonly definition: AnyWindowedPipelineDefinition;
  /** Watermarks, and the windows of tumbling and hopping pipelines. */
  readonly store: PipelineStore;
  /** Session-window pipelines only. */
  readonly sessionStore: SessionPipelineStore | undefined;
  readonly outputSink: RecordSink;
  /** One sink per side-output stream (`.alert()`), by logical stream name. */
  readonly sideOutputSinks: Readonly<Record<string, RecordSink>>;
}

/** Parts of a {@link PipelineRuntime} that tests (or the caller) provide. */
export interface InjectedRuntime {
  readonly store?: PipelineStore | undefined;
  readonly sessionStore?: SessionPipelineStore | undefined;
  readonly outputSink?: RecordSink | undefined;
  readonly sideOutputSinks?: Readonly<Record<string, RecordSink>> | undefined;
}

/**
 * Resolves a pipeline's run-time dependencies once: what is injected, else stores on the table
 * named by `SHARDFLOW_STATE_TABLE` (one shared DynamoDB client, made on first need) and Kinesis
 * sinks on the streams named by `OUTPUT_STREAM_<NAME>`. Called at the first invocation, not at
 * import, so the environment is read where Lambda provides it.
 *
 * @param dynamodb - the client to build stores with (made lazily by the caller, shared across pipelines)
 * @example
 * runtime ??= resolvePipelineRuntime(pageViews, dependencies, client);
 */
export function resolvePipelineRuntime(
  definition: AnyWindowedPipelineDefinition,
  injected: InjectedRuntime,
  dynamodb: () => DynamoDBClient,
): PipelineRuntime {
  const sessions = isSessionPipeline(definition);
  const table = () => ({ client: dynamodb(), tableName: requireEnv(STATE_TABLE_VARIABLE) });
  const sideOutputSinks: Record<string, RecordSink> = { ...injected.sideOutputSinks };
  for (const output of definition.sideOutputs ?? []) {
    sideOutputSinks[output.stream] ??= new KinesisSink({
      streamName: requireEnv(outputStreamVariable(output.stream)),
    });
  }
  return {
    definition,
    store: injected.store ?? createPipelineStore(definition, table()),
    sessionStore: sessions
      ? (injected.sessionStore ?? createSessionStore(definition, table()))
      : undefined,
    outputSink:
      injected.outputSink ??
      new KinesisSink({
        streamName: requireEnv(outputStreamVariable(definition.config.outputs[0] ?? '')),
      }),
    sideOutputSinks,
  };
}

/** A lazily made DynamoDB client, shared by every store that needs one. */
export function lazyDynamoDbClient(): () => DynamoDBClient {
  let client: DynamoDBClient | undefined;
  return () => {
    client ??= new DynamoDBClient({ maxAttempts: HANDLER_DEFAULTS.dynamoDbMaxAttempts });
    return client;
  };
}
