import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { PipelineStore } from '#handlers/types';

/** A record as handlers pass it to a sink. */
export interface SentRecord {
  readonly data: unknown;
  readonly partitionKey: string;
}

/** A sink stub that keeps what was sent, in order, and reports no retries. */
export const recordingSink = () => {
  const sent: SentRecord[] = [];
  return {
    sent,
    send: jest.fn(async (records: readonly SentRecord[]) => {
      sent.push(...records);
      return { records: records.length, requests: 1, retries: 0, bytes: 0 };
    }),
  };
};

/** Powertools Metrics stand-in that keeps the last value added per metric name. */
export const metricsStub = () => {
  const values: Record<string, number> = {};
  return {
    values,
    metrics: {
      addMetric: (name: string, _unit: string, value: number) => {
        values[name] = value;
      },
      addDimension: jest.fn(),
      publishStoredMetrics: jest.fn(),
    } as unknown as Metrics,
  };
};

/**
 * A `PipelineStore` stub: every method a jest mock with a neutral answer (nothing stored, nothing
 * due, every close won); `overrides` replace any of them.
 */
export const stubPipelineStore = (overrides: Partial<PipelineStore> = {}): PipelineStore => ({
  pipeline: 'page-views',
  stats: { writeRequests: 0, readRequests: 0, conflicts: 0, consumedCapacityUnits: 0 },
  applyDeltas: jest.fn(async (deltas) => ({
    writeRequests: deltas.length,
    readRequests: 0,
    conflicts: 0,
    consumedCapacityUnits: 0,
    items: deltas.length,
    applied: deltas.length,
    skipped: 0,
    sealed: 0,
    rejected: [],
  })),
  retentionMs: 7 * 86_400_000,
  updateShardWatermark: jest.fn(async () => 'advanced' as const),
  readWatermark: jest.fn(async () => ({
    watermark: undefined,
    mode: 'none' as const,
    committed: undefined,
    shards: [],
  })),
  commitWatermark: jest.fn(async () => true),
  findDueWindows: jest.fn(async () => []),
  closeWindows: jest.fn(async (windows: readonly unknown[]) =>
    windows.map(() => 'closed' as const),
  ),
  sealWindow: jest.fn(async () => ({
    acc: { views: 2, users: { kind: 'exact', hashes: [1, 2] }, _late: 1 },
    slices: [],
  })),
  sealWindows: jest.fn(async (windows: readonly unknown[]) =>
    windows.map(() => ({
      acc: { views: 2, users: { kind: 'exact', hashes: [1, 2] }, _late: 1 },
      slices: [],
    })),
  ),
  readWindow: jest.fn(async () => undefined),
  readWindows: jest.fn(async (windows: readonly unknown[]) => windows.map(() => undefined)),
  sealSlices: jest.fn(async () => undefined),
  markWindowsEmitted: jest.fn(async (windows: readonly unknown[]) =>
    windows.map(() => 'emitted' as const),
  ),
  findClosedNotEmitted: jest.fn(async () => []),
  leaveDueIndexAll: jest.fn(async () => undefined),
  ...overrides,
});
