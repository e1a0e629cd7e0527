import { runSoak } from '#soak/runSoak';
import type { SoakReport } from '#soak/types';

/** SHARDFLOW_FULL_SCALE=1: the 10-minute full-rate soak; otherwise 30 s at 10 records/s per stream. */
const FULL_SCALE = process.env.SHARDFLOW_FULL_SCALE === '1';
const DURATION_MS = FULL_SCALE ? 10 * 60_000 : 30_000;
const PIPELINES = ['enrich', 'page-views', 'error-rate', 'trending', 'sessions'];

describe('soak: every pipeline driven on the embedded AWS', () => {
  let report: SoakReport;

  beforeAll(async () => {
    report = await runSoak({
      durationMs: DURATION_MS,
      sampleIntervalMs: FULL_SCALE ? 5_000 : 3_000,
      ...(FULL_SCALE ? {} : { rate: 10 }),
    });
  }, DURATION_MS + 240_000);

  it('moves records through every pipeline: records in and out for each', () => {
    const pipelines = new Map(report.totals.pipelines.map((p) => [p.pipeline, p]));
    expect([...pipelines.keys()].sort()).toEqual([...PIPELINES].sort());
    for (const name of PIPELINES) {
      const pipeline = pipelines.get(name);
      expect({ name, processed: (pipeline?.processed ?? 0) > 0 }).toEqual({
        name,
        processed: true,
      });
      expect({ name, out: (pipeline?.out ?? 0) > 0 }).toEqual({ name, out: true });
    }
    // The driver's invalid records reach the failure streams.
    expect(report.totals.pipelines.some((p) => p.failures > 0)).toBe(true);
    expect(report.totals.driverErrors).toBe(0);
  });

  it('has no handler crash: no worker process went away while the runtime was running', () => {
    expect(report.totals.workerExits).toEqual([]);
  });

  it('samples RSS, heap and lag over time for every pipeline', () => {
    expect(report.samples.length).toBeGreaterThanOrEqual(4);
    const last = report.samples[report.samples.length - 1];
    // Every pipeline's handler has a worker process with a plausible RSS and heap.
    const labels = new Set(last?.processes.map((p) => p.label));
    for (const name of PIPELINES) expect(labels.has(name)).toBe(true);
    for (const process of last?.processes ?? []) {
      expect(process.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(process.heapUsedBytes).toBeGreaterThan(1024 * 1024);
      expect(process.heapUsedBytes).toBeLessThanOrEqual(process.heapTotalBytes);
    }
    for (const pipeline of last?.pipelines ?? []) expect(pipeline.lagMs).toBeDefined();
    // Throughput grows over the samples.
    const sent = (i: number) =>
      Object.values(report.samples[i]?.sent ?? {}).reduce((a, b) => a + b, 0);
    expect(sent(report.samples.length - 1)).toBeGreaterThan(sent(0));
  });

  it('judges memory and lag from the samples', () => {
    // A handler process per pipeline judged on RSS and heap; a lag verdict per pipeline.
    expect(report.memory.verdicts.length).toBeGreaterThanOrEqual(2 * PIPELINES.length);
    expect(report.lag.verdicts.map((v) => v.subject).sort()).toEqual(
      PIPELINES.map((p) => `${p} lag`).sort(),
    );
    expect(report.ok).toBe(
      report.memory.ok && report.lag.ok && report.totals.workerExits.length === 0,
    );
    if (FULL_SCALE) {
      expect(report.memory.problems).toEqual([]);
      expect(report.lag.problems).toEqual([]);
    }
  });
});
