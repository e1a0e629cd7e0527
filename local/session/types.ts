import type { EngineEndpoints } from '#local/engines/types';

/** A resource of the local deployment, by the logical name users type. */
export interface LocalResourceName {
  readonly type: string;
  readonly physicalName: string;
  readonly arn: string;
  readonly stack: string;
  readonly logicalId: string;
}

/**
 * What a started session knows about itself: the process, its engines, the assembly and the
 * deployed names. `local up` writes it to `.shardflow/local.json` with its process identity
 * (`LocalState` in local/cli/localState.ts).
 */
export interface LocalSessionState {
  readonly version: 1;
  /** Process id of the `local up` runtime (what `local down` stops). */
  readonly pid: number;
  /** Process ids of the engines (and their helper processes) this runtime started. */
  readonly enginePids: readonly number[];
  readonly startedAt: string;
  readonly cdkOut: string;
  readonly endpoints: EngineEndpoints;
  /** Logical name (`numbers`) → the resource deployed locally. */
  readonly names: Readonly<Record<string, LocalResourceName>>;
}
