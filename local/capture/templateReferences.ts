import { PIPELINE_VARIABLE } from '#local/assembly/constants';
import type { CfnResource } from '#local/assembly/types';

/** The logical id a `Ref` or `Fn::GetAtt` points at, or undefined for anything else. */
export function refOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** A function's environment variable as written in the template (a string or an intrinsic). */
export function environmentOf(resource: CfnResource, name: string): unknown {
  const environment = resource.Properties?.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return environment?.Variables?.[name];
}

/** The pipeline a function is the handler of (its `SHARDFLOW_PIPELINE`), if any. */
export function pipelineOf(resource: CfnResource): string | undefined {
  const name = environmentOf(resource, PIPELINE_VARIABLE);
  return typeof name === 'string' ? name : undefined;
}
