import { FAILURE_STREAM_VARIABLE } from '#commons/environment';
import { RESOURCE_TYPES } from '#local/assembly/constants';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import type { DeployedApp } from './pipelineSources';
import { environmentOf, pipelineOf, refOf } from './templateReferences';

/** A pipeline failure stream of a local deployment, and whose it is. */
export interface PipelineFailureStream {
  /** Logical name of the failure stream (`enrich-failures`). */
  readonly stream: string;
  readonly physicalName: string;
  /**
   * The pipelines whose handler sends its rejected records here (its `SHARDFLOW_FAILURE_STREAM`):
   * exactly one with `StreamPipeline`'s own failure stream, several only when an app passes one
   * `failureStream` to several pipelines.
   */
  readonly pipelines: readonly string[];
}

/**
 * The failure stream of every pipeline of a local deployment, by physical name, found in its
 * synthesized template: the stream that the `SHARDFLOW_FAILURE_STREAM` of the function whose
 * `SHARDFLOW_PIPELINE` names the pipeline refers to. This — not the `pipeline` field of a failure
 * record, which anyone who can write to the stream can set — says whose a rejected record is.
 *
 * @example
 * ```ts
 * const streams = pipelineFailureStreams(readLocalState()!);
 * [...streams.values()].map((stream) => stream.pipelines); // [['enrich'], ['page-views'], …]
 * ```
 */
export function pipelineFailureStreams(app: DeployedApp): Map<string, PipelineFailureStream> {
  const assembly = loadCloudAssembly(app.cdkOut);
  const streams = Object.entries(app.names).filter(
    ([, resource]) => resource.type === RESOURCE_TYPES.KINESIS_STREAM,
  );
  const found = new Map<string, { stream: string; physicalName: string; pipelines: string[] }>();
  for (const stack of assembly.stacks) {
    for (const resource of Object.values(stack.template.Resources ?? {})) {
      if (resource.Type !== RESOURCE_TYPES.LAMBDA_FUNCTION) continue;
      const pipeline = pipelineOf(resource);
      if (pipeline === undefined) continue;
      const target = environmentOf(resource, FAILURE_STREAM_VARIABLE);
      const logicalId = refOf(target);
      // A `Ref` to a stream of the stack, or the name of a stream the app imported by name.
      const named = streams.find(([, stream]) =>
        logicalId === undefined
          ? stream.physicalName === target
          : stream.stack === stack.stackName && stream.logicalId === logicalId,
      );
      if (named === undefined) continue;
      const [name, { physicalName }] = named;
      const entry = found.get(physicalName) ?? { stream: name, physicalName, pipelines: [] };
      if (!entry.pipelines.includes(pipeline)) entry.pipelines.push(pipeline);
      found.set(physicalName, entry);
    }
  }
  return found;
}
