import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import type { NamedResource } from '#local/assembly/types';
import { pipelineOf, refOf } from './templateReferences';

/** Where a pipeline reads from, as deployed locally. */
export interface PipelineSource {
  readonly pipeline: string;
  /** Logical name of the input stream (`clicks`), or its physical name when it has none. */
  readonly stream: string;
  readonly physicalName: string;
  /** Physical name of the pipeline handler. */
  readonly functionName?: string;
  /** The other pipelines reading the same stream: a redrive reaches them too. */
  readonly alsoReadBy: readonly string[];
}

/** What {@link pipelineSources} needs of a local deployment (a `LocalState`). */
export interface DeployedApp {
  /** The synthesized cloud assembly. */
  readonly cdkOut: string;
  /** Logical name → deployed resource. */
  readonly names: Readonly<
    Record<string, Pick<NamedResource, 'type' | 'physicalName' | 'arn' | 'logicalId' | 'stack'>>
  >;
}

/**
 * The input stream of every pipeline of a local deployment, found in its synthesized template: the
 * function whose `SHARDFLOW_PIPELINE` names the pipeline, and the Kinesis event source mapping that
 * feeds that function. Used to read records back (`shardflow failures`) and to send them again
 * (`shardflow redrive`).
 *
 * @example
 * ```ts
 * const sources = pipelineSources(readLocalState()!);
 * sources.get('page-views')?.stream; // 'clicks'
 * ```
 */
export function pipelineSources(app: DeployedApp): Map<string, PipelineSource> {
  const assembly = loadCloudAssembly(app.cdkOut);
  const named = Object.entries(app.names);
  const deployed = (stack: string, logicalId: string) =>
    named.find(([, resource]) => resource.stack === stack && resource.logicalId === logicalId);
  const found: Array<{ pipeline: string; stack: string; streamId: string; functionId: string }> =
    [];
  for (const stack of assembly.stacks) {
    const resources = stack.template.Resources ?? {};
    for (const mapping of Object.values(resources)) {
      if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const functionId = refOf(mapping.Properties?.FunctionName);
      const streamId = refOf(mapping.Properties?.EventSourceArn);
      const fn = functionId === undefined ? undefined : resources[functionId];
      const pipeline = fn === undefined ? undefined : pipelineOf(fn);
      if (pipeline === undefined || streamId === undefined || functionId === undefined) continue;
      if (resources[streamId]?.Type !== 'AWS::Kinesis::Stream') continue;
      found.push({ pipeline, stack: stack.stackName, streamId, functionId });
    }
  }
  const sources = new Map<string, PipelineSource>();
  for (const entry of found) {
    const stream = deployed(entry.stack, entry.streamId);
    if (stream === undefined) continue;
    const fn = deployed(entry.stack, entry.functionId);
    sources.set(entry.pipeline, {
      pipeline: entry.pipeline,
      stream: stream[0],
      physicalName: stream[1].physicalName,
      ...(fn === undefined ? {} : { functionName: fn[1].physicalName }),
      alsoReadBy: found
        .filter(
          (other) =>
            other.stack === entry.stack &&
            other.streamId === entry.streamId &&
            other.pipeline !== entry.pipeline,
        )
        .map((other) => other.pipeline),
    });
  }
  return sources;
}
