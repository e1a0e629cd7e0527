import { STATE_TABLE_VARIABLE } from '#commons/environment';
import type { Deployment } from '#local/assembly/types';
import { enrich } from '#pipelines/enrich';
import { errorRate } from '#pipelines/error-rate';
import { pageViews } from '#pipelines/page-views';
import { userSessions } from '#pipelines/sessions';
import { trending } from '#pipelines/trending';
import type { PipelineConfig } from '#runtime/types';
import { FAILURE_STREAM_SUFFIX, PIPELINE_VARIABLE } from './constants';
import type { DemoPipeline } from './types';

/** The app's pipelines, in the order the view lists them. */
const APP_PIPELINES: readonly PipelineConfig[] = [
  enrich.config,
  pageViews.config,
  userSessions.config,
  errorRate.config,
  trending.config,
];

/** The deployed pipelines of the app and where their state lives. */
export interface DemoApp {
  readonly pipelines: readonly DemoPipeline[];
  /** Physical name of the state table of the windowed pipelines, if any is deployed. */
  readonly stateTable?: string;
}

/**
 * The app's pipelines (`functions/pipelines/`) that the local deployment runs, with the physical
 * names of their function, output, side-output and failure streams. A pipeline whose function is
 * not deployed is left out.
 */
export function findDemoPipelines(
  deployment: Pick<Deployment, 'names' | 'functions'>,
  configs: readonly PipelineConfig[] = APP_PIPELINES,
): DemoApp {
  const physical = (logical: string | undefined): string | undefined =>
    logical === undefined ? undefined : deployment.names[logical]?.physicalName;
  const pipelines: DemoPipeline[] = [];
  let stateTable: string | undefined;
  for (const config of configs) {
    const fn = deployment.functions.find((f) => f.environment[PIPELINE_VARIABLE] === config.name);
    if (fn === undefined) continue;
    stateTable ??= fn.environment[STATE_TABLE_VARIABLE];
    const sides =
      config.kind === 'windowed' ? (config.sideOutputs ?? []).map((side) => side.stream) : [];
    pipelines.push({
      name: config.name,
      functionName: fn.functionName,
      input: config.input.stream,
      output: physical(config.outputs[0]),
      sideOutputs: sides.map(physical).filter((name): name is string => name !== undefined),
      failureStream: physical(`${config.name}${FAILURE_STREAM_SUFFIX}`),
      ...(config.kind === 'windowed' ? { window: config.window } : {}),
    });
  }
  return { pipelines, ...(stateTable === undefined ? {} : { stateTable }) };
}
