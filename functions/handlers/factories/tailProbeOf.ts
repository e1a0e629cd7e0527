import type { Logger } from '@aws-lambda-powertools/logger';
import { STARTING_POSITION_VARIABLE, startingPositionVariable } from '#commons/environment';
import { KinesisTailProbe } from '#sources/index';
import type { OpenShardLister, ShardTailProbe } from '#state/index';

/** The tail probe of a handler and what it does when the probe fails. */
export interface HandlerTailProbe {
  /** The probe to pass to `readWatermark` (created on first call), or none. */
  readonly tailProbe: () => ShardTailProbe | undefined;
  /** The open-shard lister to pass to `readWatermark` (the same `KinesisTailProbe`), or none. */
  readonly openShards: () => OpenShardLister | undefined;
  /** Whether the mappings read from `TRIM_HORIZON` (`readWatermark`'s `readsFromStart`). */
  readonly readsFromStart: boolean;
  /** Logs a failed probe: the shard then counts as not idle and keeps holding the watermark. */
  readonly onProbeError: (shardId: string, error: unknown) => void;
  /** The same probe (one instance), warning with other extra fields (the sweeper: per pipeline). */
  withFields(fields: Readonly<Record<string, unknown>>): HandlerTailProbe;
}

/**
 * The tail probe a handler uses: the injected one, none when `null` was injected, otherwise a
 * {@link KinesisTailProbe} created on first use; its open-shard lister (the injected one, else the
 * same `KinesisTailProbe`'s when the default probe is used); whether the mappings read from
 * `TRIM_HORIZON` (then every open shard that has not reported is waited for, else only the children
 * of reported shards); and its `onProbeError`, a warning on `logger` with `fields` (e.g. the
 * pipeline) and the shard.
 *
 * @param injected - the handler's `tailProbe` and `openShards` dependencies
 * @param logger - where a failed probe is reported
 * @param fields - extra fields of that warning; default none
 * @param env - where the mappings' starting position is read; default `process.env`
 * @example
 * const { tailProbe, openShards, onProbeError } = tailProbeOf(dependencies, logger);
 * await store.readWatermark({ ...options, tailProbe: tailProbe(), openShards: openShards(), onProbeError });
 */
export function tailProbeOf(
  injected: {
    readonly tailProbe?: ShardTailProbe | null;
    readonly openShards?: OpenShardLister | null;
  },
  logger: Pick<Logger, 'warn'>,
  fields: Readonly<Record<string, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): HandlerTailProbe {
  let kinesis: KinesisTailProbe | undefined;
  const real = (): KinesisTailProbe => {
    kinesis ??= new KinesisTailProbe();
    return kinesis;
  };
  const tailProbe = (): ShardTailProbe | undefined =>
    injected.tailProbe === null ? undefined : (injected.tailProbe ?? real().caughtUp);
  // Records already in a shard are delivered only when the mappings read from the start (children
  // of a resharded shard are always read from their start).
  const readsFromStart = env[STARTING_POSITION_VARIABLE] === 'TRIM_HORIZON';
  const openShards = (): OpenShardLister | undefined => {
    if (injected.openShards !== undefined) return injected.openShards ?? undefined;
    return injected.tailProbe === undefined ? real().openShards : undefined;
  };
  // The sweeper, which serves several pipelines, has one variable per pipeline.
  const readsFromStartOf = (extra: Readonly<Record<string, unknown>>): boolean =>
    typeof extra.pipeline === 'string' &&
    env[startingPositionVariable(extra.pipeline)] !== undefined
      ? env[startingPositionVariable(extra.pipeline)] === 'TRIM_HORIZON'
      : readsFromStart;
  const withFields = (extra: Readonly<Record<string, unknown>>): HandlerTailProbe => ({
    tailProbe,
    openShards,
    readsFromStart: readsFromStartOf(extra),
    onProbeError: (shardId, error) =>
      logger.warn('tail probe failed; the shard keeps holding the watermark back', {
        ...extra,
        shardId,
        error: error as Error,
      }),
    withFields,
  });
  return withFields(fields);
}
