import type { PipelineConfig } from '#runtime/types';

/**
 * What infra reads of a pipeline definition: its name and its plain-JSON `config`. Any definition built with
 * `pipeline(…)…to(…)` satisfies it; infra never calls the definition's functions.
 */
export interface PipelineDefinitionConfig {
  /** The pipeline's name (`page-views`). */
  readonly name: string;
  /** Streams, window sizes, lateness, emit mode and aggregates, as plain JSON. */
  readonly config: PipelineConfig;
}

/** A pipeline of the app: its definition and the Lambda handler that runs it. */
export interface PipelineEntry {
  /** The pipeline definition (only its `config` is read). */
  readonly definition: PipelineDefinitionConfig;
  /** Path of the handler's TypeScript entry file (`functions/handlers/<name>.ts`). */
  readonly entry: string;
}
