import { Logger } from '@aws-lambda-powertools/logger';
import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { pageViews } from '#pipelines/page-views';
import type { ClosedWindow } from '#state/index';
import { metricsStub, recordingSink, stubPipelineStore } from '#test/helpers/handlerStubs';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

const windows = (n: number, offset: number): ClosedWindow[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `/p${offset + i}`,
    start: T0,
    end: T0 + 60_000,
    closedAt: T0 + 90_000,
  }));

describe('createSweeperHandler', () => {
  it('repairs a backlog of closed-not-emitted windows page after page, beyond one page of 100', async () => {
    // GIVEN 230 windows whose closers crashed between close and emit
    const pages = [windows(100, 0), windows(100, 100), windows(30, 200)];
    const store = stubPipelineStore({
      findClosedNotEmitted: jest.fn(async () => pages.shift() ?? []),
    });
    const outputSink = recordingSink();
    const sweeper = createSweeperHandler([pageViews], {
      stores: { [pageViews.name]: store },
      outputSinks: { [pageViews.name]: outputSink },
      clock: () => T0 + 3_600_000,
      logger,
      metrics: metricsStub().metrics,
      tailProbe: null,
      openShards: null,
    });
    // WHEN one sweep runs
    const [report] = await sweeper();
    // THEN all 230 are re-emitted and marked, in three pages
    expect(report).toMatchObject({ repaired: 230 });
    expect(outputSink.sent).toHaveLength(230);
    expect(store.markWindowsEmitted).toHaveBeenCalledTimes(3);
    expect(store.findClosedNotEmitted).toHaveBeenCalledTimes(3);
  });

  it('commits the watermark it reads on every sweep, even when no window is due', async () => {
    // GIVEN a pipeline watermark of 10:05:30 and a committed one of 10:00
    const store = stubPipelineStore({
      readWatermark: jest.fn(async () => ({
        watermark: T0 + 330_000,
        mode: 'processing-time' as const,
        committed: T0,
        shards: [],
      })),
    });
    const sweeper = createSweeperHandler([pageViews], {
      stores: { [pageViews.name]: store },
      outputSinks: { [pageViews.name]: recordingSink() },
      clock: () => T0 + 400_000,
      logger,
      metrics: metricsStub().metrics,
      tailProbe: null,
      openShards: null,
    });
    // WHEN it sweeps
    await sweeper();
    // THEN it commits the watermark at the slice boundary below it
    expect(store.commitWatermark).toHaveBeenCalledWith(T0 + 300_000, T0 + 400_000);
  });
});
