/**
 * The environment variable that carries an output stream's physical name to a handler:
 * `numbers-doubled` → `OUTPUT_STREAM_NUMBERS_DOUBLED`. Shared by the CDK construct that sets it and the
 * handlers that read it.
 */
export function outputStreamVariable(logicalName: string): string {
  return `OUTPUT_STREAM_${logicalName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Reads a required environment variable, failing with a message that names it. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `environment variable ${name} is not set; is the function deployed by shardflow?`,
    );
  }
  return value;
}

/** Environment variable with the name of the state table of windowed pipelines (set by the construct). */
export const STATE_TABLE_VARIABLE = 'SHARDFLOW_STATE_TABLE';

/** Environment variable with the name of the failure stream (invalid and LATE records). */
export const FAILURE_STREAM_VARIABLE = 'SHARDFLOW_FAILURE_STREAM';

/**
 * Environment variable with the event source mapping's starting position (`TRIM_HORIZON`,
 * `LATEST`, `AT_TIMESTAMP`), set by the construct: with `TRIM_HORIZON`, an open shard that has not
 * reported yet holds the watermark back while it has records.
 */
export const STARTING_POSITION_VARIABLE = 'SHARDFLOW_STARTING_POSITION';

/**
 * The sweeper's variable with one pipeline's starting position (it sweeps several pipelines):
 * `page-views` → `SHARDFLOW_STARTING_POSITION_PAGE_VIEWS`.
 */
export function startingPositionVariable(pipeline: string): string {
  return `${STARTING_POSITION_VARIABLE}_${pipeline.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Environment variable that marks a shardflow windowed handler, set by the construct to the window
 * kind (`tumbling`, `hopping`, `session`) and on no other function. Its window state is fenced per
 * shard, so synthesis and the local runtime refuse any event source mapping that invokes such a
 * function with a `ParallelizationFactor` other than 1.
 */
export const WINDOW_KIND_VARIABLE = 'SHARDFLOW_WINDOW_KIND';
