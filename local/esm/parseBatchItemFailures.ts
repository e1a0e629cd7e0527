import type { StreamRecord } from './types';

/** How Lambda reads a function's response under ReportBatchItemFailures. */
export type BatchResponse =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial'; readonly failedFrom: number }
  | { readonly kind: 'invalid'; readonly reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a partial batch response as "Configure partial batch response" documents it: a null or
 * empty response, `{}`, or a null or empty `batchItemFailures` list is complete success; an
 * `itemIdentifier` that is empty, null, under a wrong key or not a sequence number of the batch
 * (or a response of another shape) is complete failure; otherwise processing resumes at the
 * lowest failed sequence number, returned as the index of that record in the batch.
 */
export function parseBatchItemFailures(
  payload: unknown,
  records: readonly StreamRecord[],
): BatchResponse {
  if (payload === null || payload === undefined || payload === '') return { kind: 'success' };
  if (!isObject(payload)) return { kind: 'invalid', reason: 'the response is not an object' };
  const failures = payload.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  }
  if (failures.length === 0) return { kind: 'success' };
  const positions = new Map(records.map((record, index) => [record.sequenceNumber, index]));
  let failedFrom = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const identifier = isObject(failure) ? failure.itemIdentifier : undefined;
    if (typeof identifier !== 'string' || identifier === '') {
      return { kind: 'invalid', reason: `bad itemIdentifier in ${JSON.stringify(failure)}` };
    }
    const index = positions.get(identifier);
    if (index === undefined) {
      return { kind: 'invalid', reason: `itemIdentifier ${identifier} is not in the batch` };
    }
    failedFrom = Math.min(failedFrom, index);
  }
  return { kind: 'partial', failedFrom };
}
