import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';

/** Empty `GetRecords` pages followed before giving up on a record. */
const MAX_EMPTY_PAGES = 5;

/** A record read back from its stream, or why it could not be. */
export type RecordAt =
  | { readonly found: true; readonly data: Uint8Array; readonly partitionKey: string }
  | { readonly found: false; readonly reason: string };

/**
 * Reads one record back from a stream by its position (`GetShardIterator` `AT_SEQUENCE_NUMBER`,
 * then one `GetRecords`): how a failure record that left out its data (`dataTruncated`), or an
 * on-failure destination record from AWS, gets the record itself. Works while the record is within
 * the stream's retention (24 h by default); never throws for a missing record.
 *
 * @example
 * ```ts
 * const at = await readRecordAt(kinesis, 'clicks', 'shardId-000000000000', '4959…');
 * if (at.found) Buffer.from(at.data).toString('utf8');
 * ```
 */
export async function readRecordAt(
  client: KinesisClient,
  streamName: string,
  shardId: string,
  sequenceNumber: string,
): Promise<RecordAt> {
  try {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: sequenceNumber,
      }),
    );
    // Kinesis may answer an empty page before the record (sparse shard): follow a few pages.
    let iterator = ShardIterator;
    let record: _Record | undefined;
    for (let page = 0; page < MAX_EMPTY_PAGES && iterator !== undefined; page++) {
      const result = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }),
      );
      record = result.Records?.[0];
      if (record !== undefined || (result.MillisBehindLatest ?? 0) === 0) break;
      iterator = result.NextShardIterator;
    }
    if (record?.SequenceNumber !== sequenceNumber || record.Data === undefined) {
      return { found: false, reason: `no longer in ${streamName} (past its retention?)` };
    }
    return { found: true, data: record.Data, partitionKey: record.PartitionKey ?? '' };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return { found: false, reason: `${name}: ${message}` };
  }
}
