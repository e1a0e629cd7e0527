import { SESSION_SORT_KEY_PREFIX, TIME_WIDTH } from './constants';
import { InvalidWindowStoreInputError } from './errors';

const MAX_TIME = 10 ** TIME_WIDTH - 1;

/** Zero-pads an epoch-ms time to {@link TIME_WIDTH} digits for sort keys. */
export function padTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME) {
    throw new InvalidWindowStoreInputError(
      `time must be an integer epoch ms in 0..${MAX_TIME}, got ${ms}`,
    );
  }
  return String(ms).padStart(TIME_WIDTH, '0');
}

/** Rejects pipeline names the key layout cannot separate from keys. */
export function assertPipelineName(pipeline: string): void {
  if (pipeline.length === 0 || pipeline.includes('#')) {
    throw new InvalidWindowStoreInputError(
      `pipeline name must be non-empty and contain no "#", got "${pipeline}"`,
      {
        pipeline,
      },
    );
  }
}

/** Partition key of a key's slice and window status items: `<pipeline>#K#<key>`. */
export function keyPartition(pipeline: string, key: string): string {
  return `${pipeline}#K#${key}`;
}

/** Sort key of a slice item: `S#<sliceStart padded>`. */
export function sliceSortKey(sliceStart: number): string {
  return `S#${padTime(sliceStart)}`;
}

/** Sort key of a window status item: `W#<start padded>#<end padded>`. */
export function windowSortKey(start: number, end: number): string {
  return `W#${padTime(start)}#${padTime(end)}`;
}

/** Sort key of a session item: `X#<start padded>`. */
export function sessionSortKey(start: number): string {
  return `${SESSION_SORT_KEY_PREFIX}${padTime(start)}`;
}

/** Partition key of a pipeline's watermark items: `<pipeline>#WM`. */
export function watermarkPartition(pipeline: string): string {
  return `${pipeline}#WM`;
}

/** Sort key of a shard watermark item: `S#<shardId>`. */
export function shardSortKey(shardId: string): string {
  return `S#${shardId}`;
}

/** Sort key of the pipeline's committed watermark item. */
export const PIPELINE_WATERMARK_SORT_KEY = 'P#watermark';

/** Index partition of a bucket's due slices: `<pipeline>#due#<bucket>`. */
export function duePartition(pipeline: string, bucket: number): string {
  return `${pipeline}#due#${bucket}`;
}

/** Index partition of a bucket's closed-but-not-emitted windows: `<pipeline>#closed#<bucket>`. */
export function closedPartition(pipeline: string, bucket: number): string {
  return `${pipeline}#closed#${bucket}`;
}

/** Stable bucket of a key (FNV-1a 32-bit of its UTF-16 code units, modulo `buckets`). */
export function bucketOf(key: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % buckets;
}

/**
 * TTL value (epoch seconds) of an item that stops mattering at `relevantUntilMs`, kept
 * `retentionMs` longer. An item relevant until an event time already in the past (a replay of
 * old events) is kept `retentionMs` from `writtenAtMs`, its processing time: TTL on event time
 * alone would let DynamoDB delete state while its window is still open.
 */
export function expiresAt(
  relevantUntilMs: number,
  retentionMs: number,
  writtenAtMs = relevantUntilMs,
): number {
  return Math.ceil((Math.max(relevantUntilMs, writtenAtMs) + retentionMs) / 1000);
}

/** Partition of a slice's packs (lane packs layout): `<pipeline>#P#<sliceStart padded>`. */
export function packPartition(pipeline: string, sliceStart: number): string {
  return `${pipeline}#P#${padTime(sliceStart)}`;
}

/**
 * Sort key of a pack part: `<lane>#<cursor after the commit>#<part>`. The cursor only grows, so
 * every commit of a lane names its packs apart.
 */
export function packSortKey(lane: string, cursor: string, part: number): string {
  return `${lane}#${cursor}#${part}`;
}

/** Partition of a pipeline's lane rows (cursors): `<pipeline>#LN`; the sort key is the lane. */
export function lanePartition(pipeline: string): string {
  return `${pipeline}#LN`;
}

/**
 * Partition of a pipeline's slice rows (`S#<sliceStart>`) and window rows (`W#<start>#<end>`):
 * `<pipeline>#SL`.
 */
export function slicesPartition(pipeline: string): string {
  return `${pipeline}#SL`;
}

/** Index partition of the slice rows that still have windows to close: `<pipeline>#SLdue`. */
export function dueSlicesPartition(pipeline: string): string {
  return `${pipeline}#SLdue`;
}

/** Index partition of the window rows CLOSED but not EMITTED: `<pipeline>#SLclosed`. */
export function closedWindowsPartition(pipeline: string): string {
  return `${pipeline}#SLclosed`;
}
