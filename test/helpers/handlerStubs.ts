import type { Metrics } from '@aws-lambda-powertools/metrics';

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
      publishStoredMetrics: jest.fn(),
    } as unknown as Metrics,
  };
};
