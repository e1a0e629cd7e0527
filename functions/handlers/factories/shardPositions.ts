import type { KinesisStreamRecord } from 'aws-lambda';
import { compareSequenceNumbers } from '#commons/compareSequenceNumbers';
import { recordMeta } from '#runtime/index';
import { KinesisTailProbe } from '#sources/index';
import type { ShardPosition, ShardTailProbe } from '#state/index';

/**
 * Where each shard of a batch stands once the batch is processed: its stream (`eventSourceARN`)
 * and its highest sequence number. Records without either are skipped.
 */
export function shardPositions(
  records: readonly KinesisStreamRecord[],
): Map<string, Pick<ShardPosition, 'streamArn' | 'sequenceNumber'>> {
  const positions = new Map<string, Pick<ShardPosition, 'streamArn' | 'sequenceNumber'>>();
  for (const record of records) {
    const { shardId, sequenceNumber } = recordMeta(record);
    const streamArn = record?.eventSourceARN;
    if (shardId === '' || sequenceNumber === '' || typeof streamArn !== 'string') continue;
    const seen = positions.get(shardId);
    if (seen === undefined || compareSequenceNumbers(sequenceNumber, seen.sequenceNumber) > 0) {
      positions.set(shardId, { streamArn, sequenceNumber });
    }
  }
  return positions;
}

/**
 * The tail probe a handler uses: the injected one, none when `null` was injected, otherwise a
 * {@link KinesisTailProbe} created on first use.
 */
export function tailProbeOf(
  injected: ShardTailProbe | null | undefined,
): () => ShardTailProbe | undefined {
  let probe: ShardTailProbe | undefined = injected ?? undefined;
  return () => {
    if (injected === null) return undefined;
    probe ??= new KinesisTailProbe().caughtUp;
    return probe;
  };
}
