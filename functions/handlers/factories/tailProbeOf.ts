import type { Logger } from '@aws-lambda-powertools/logger';
import { KinesisTailProbe } from '#sources/index';
import type { ShardTailProbe } from '#state/index';

/** The tail probe of a handler and what it does when the probe fails. */
export interface HandlerTailProbe {
  /** The probe to pass to `readWatermark` (created on first call), or none. */
  readonly tailProbe: () => ShardTailProbe | undefined;
  /** Logs a failed probe: the shard then counts as not idle and keeps holding the watermark. */
  readonly onProbeError: (shardId: string, error: unknown) => void;
  /** The same probe (one instance), warning with other extra fields (the sweeper: per pipeline). */
  withFields(fields: Readonly<Record<string, unknown>>): HandlerTailProbe;
}

/**
 * The tail probe a handler uses: the injected one, none when `null` was injected, otherwise a
 * {@link KinesisTailProbe} created on first use; and its `onProbeError`, a warning on `logger`
 * with `fields` (e.g. the pipeline) and the shard.
 *
 * @param injected - the handler's `tailProbe` dependency
 * @param logger - where a failed probe is reported
 * @param fields - extra fields of that warning; default none
 * @example
 * const { tailProbe, onProbeError } = tailProbeOf(dependencies.tailProbe, logger);
 * await store.readWatermark({ ...options, tailProbe: tailProbe(), onProbeError });
 */
export function tailProbeOf(
  injected: ShardTailProbe | null | undefined,
  logger: Pick<Logger, 'warn'>,
  fields: Readonly<Record<string, unknown>> = {},
): HandlerTailProbe {
  let probe: ShardTailProbe | undefined = injected ?? undefined;
  const tailProbe = (): ShardTailProbe | undefined => {
    if (injected === null) return undefined;
    probe ??= new KinesisTailProbe().caughtUp;
    return probe;
  };
  const withFields = (extra: Readonly<Record<string, unknown>>): HandlerTailProbe => ({
    tailProbe,
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
