import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';

/**
 * Age of the oldest record of a shard a mapping has not checkpointed yet (ms): the arrival time of
 * the record right after the checkpoint (from the first record when there is none), against
 * `now`; 0 when the mapping is at the tip. Unlike the reader's IteratorAge — the age of the last
 * record it invoked — this keeps growing while a reader is stuck.
 */
export async function probeLag(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  checkpoint: string | undefined,
  now: () => number = Date.now,
): Promise<number> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ...(checkpoint === undefined
        ? { ShardIteratorType: 'TRIM_HORIZON' }
        : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint }),
    }),
  );
  if (ShardIterator === undefined) return 0;
  const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
  const arrived = Records?.[0]?.ApproximateArrivalTimestamp?.getTime();
  return arrived === undefined ? 0 : Math.max(0, now() - arrived);
}
