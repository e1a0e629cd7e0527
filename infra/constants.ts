/**
 * Powertools service name of the sweeper (as `createSweeperHandler` sets it); its metrics carry a
 * `pipeline` dimension besides `service`.
 */
export const SWEEPER_SERVICE_NAME = 'shardflow-sweeper';

/** The logical name of a pipeline's failure stream (invalid and LATE records): `<pipeline>-failures`. */
export function failureStreamName(pipelineName: string): string {
  return `${pipelineName}-failures`;
}
