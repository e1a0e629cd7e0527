import {
  judgedSpan,
  judgeLag,
  judgeMemory,
  judgeSeries,
  median,
  slopePerMinute,
} from '#soak/judge';
import type { ProcessSample, SoakSample } from '#soak/types';

const MIB = 1024 * 1024;

/** Samples every 5 s over 10 minutes; `rss(t)`, `heap(t)` and `lag(t)` give the figures at t (ms). */
function run(figures: {
  rss?: (t: number) => number;
  heap?: (t: number) => number;
  lag?: (t: number) => number | undefined;
  pids?: (t: number) => number[];
  minutes?: number;
}): SoakSample[] {
  const samples: SoakSample[] = [];
  const end = (figures.minutes ?? 10) * 60_000;
  for (let t = 0; t <= end; t += 5_000) {
    const pids = figures.pids?.(t) ?? [101];
    const processes: ProcessSample[] = pids.map((pid) => ({
      functionName: 'fn-page-views',
      label: 'page-views',
      pid,
      rssBytes: (figures.rss ?? (() => 120 * MIB))(t),
      heapUsedBytes: (figures.heap ?? (() => 40 * MIB))(t),
      heapTotalBytes: 60 * MIB,
    }));
    const lagMs = (figures.lag ?? (() => 2_000))(t);
    samples.push({
      t,
      sent: { clicks: t },
      pipelines: [
        {
          pipeline: 'page-views',
          processed: t,
          out: 1,
          failures: 0,
          errors: 0,
          ...(lagMs === undefined ? {} : { lagMs }),
          iteratorAgeMs: 0,
          millisBehindLatest: 0,
        },
      ],
      processes,
    });
  }
  return samples;
}

/** A sawtooth around `base` (GC cycles): ±`amplitude` with a period of 40 s. */
const sawtooth = (base: number, amplitude: number) => (t: number) =>
  base + amplitude * (((t % 40_000) / 40_000) * 2 - 1);

describe('judgeMemory', () => {
  it('calls memory flat when RSS and heap plateau after warm-up, GC sawtooth included', () => {
    // GIVEN memory rising for the first 30 s (JIT, caches) then a steady sawtooth
    const samples = run({
      rss: (t) => (t < 30_000 ? 60 * MIB + t * 2000 : sawtooth(125 * MIB, 6 * MIB)(t)),
      heap: (t) => (t < 30_000 ? 10 * MIB + t * 1000 : sawtooth(40 * MIB, 15 * MIB)(t)),
    });

    // WHEN
    const judgement = judgeMemory(samples);

    // THEN
    expect(judgement.problems).toEqual([]);
    expect(judgement.ok).toBe(true);
    expect(judgement.verdicts.map((v) => v.subject)).toEqual([
      'page-views pid 101 rss',
      'page-views pid 101 heap',
    ]);
  });

  it('fails when RSS keeps growing (a leak of 5 MiB a minute)', () => {
    // GIVEN
    const samples = run({ rss: (t) => 100 * MIB + (t / 60_000) * 5 * MIB });

    // WHEN
    const judgement = judgeMemory(samples);

    // THEN
    expect(judgement.ok).toBe(false);
    const rss = judgement.verdicts.find((v) => v.subject.endsWith('rss'));
    expect(rss?.ok).toBe(false);
    expect(rss?.slopePerMinute).toBeCloseTo(5 * MIB, -3);
    expect(judgement.problems[0]).toMatch(/^memory grew: page-views pid 101 rss max .* MiB/);
  });

  it('fails when the heap grows while RSS stays flat', () => {
    const judgement = judgeMemory(run({ heap: (t) => 30 * MIB + (t / 60_000) * 4 * MIB }));

    expect(judgement.ok).toBe(false);
    expect(judgement.verdicts.find((v) => v.subject.endsWith('heap'))?.ok).toBe(false);
  });

  it('tolerates growth within the slack: 1.1 × first-quarter max + 16 MiB for RSS', () => {
    // GIVEN RSS 100 MiB in the first quarter, 125 MiB at the end (limit 126 MiB)
    const samples = run({ rss: (t) => (t < 300_000 ? 100 * MIB : 125 * MIB) });

    // THEN
    expect(judgeMemory(samples).ok).toBe(true);
    // AND 127 MiB is over it
    expect(judgeMemory(run({ rss: (t) => (t < 300_000 ? 100 * MIB : 127 * MIB) })).ok).toBe(false);
  });

  it('judges only processes alive through the run, and fails with none', () => {
    // GIVEN a short-lived second worker with a huge RSS
    const samples = run({
      pids: (t) => (t > 200_000 && t < 300_000 ? [101, 202] : [101]),
    });
    expect(judgeMemory(samples).verdicts.every((v) => v.subject.includes('pid 101'))).toBe(true);

    // AND each worker replaced half-way: none covers both quarters
    const replaced = judgeMemory(run({ pids: (t) => (t < 300_000 ? [101] : [202]) }));
    expect(replaced.ok).toBe(false);
    expect(replaced.problems[0]).toMatch(/no handler process was sampled/);
  });
});

describe('judgeLag', () => {
  it('calls a steady lag not growing, spikes included', () => {
    const samples = run({ lag: (t) => (t % 60_000 === 0 ? 25_000 : 4_000) });

    expect(judgeLag(samples)).toMatchObject({ ok: true, problems: [] });
  });

  it('fails when lag grows steadily (a consumer falling behind)', () => {
    // GIVEN lag growing by 6 s a minute
    const judgement = judgeLag(run({ lag: (t) => 1_000 + (t / 60_000) * 6_000 }));

    // THEN
    expect(judgement.ok).toBe(false);
    expect(judgement.problems[0]).toMatch(/^lag grew: page-views lag median/);
  });

  it('fails when a pipeline has no lag figure in a quarter', () => {
    const judgement = judgeLag(run({ lag: (t) => (t > 450_000 ? undefined : 1_000) }));

    expect(judgement.ok).toBe(false);
    expect(judgement.problems[0]).toMatch(/page-views lag: not enough samples/);
  });
});

describe('judgedSpan', () => {
  it('starts after the warm-up, or where a full-rate run reached its backlog cap if later', () => {
    const samples = run({});
    expect(judgedSpan(samples)).toEqual({ from: 60_000, to: 600_000, quarterMs: 135_000 });
    expect(judgedSpan(samples, {}, 200_000)).toEqual({
      from: 200_000,
      to: 600_000,
      quarterMs: 100_000,
    });
  });

  it('does not call a lag that ramps up to the full-rate backlog cap growing', () => {
    // GIVEN lag rising for 300 s while the backlog fills, then steady at 150 s
    const samples = run({ lag: (t) => Math.min(t, 300_000) / 2 });

    // THEN judged from the ramp's end it is flat; judged from the warm-up it would grow
    expect(judgeLag(samples, {}, 300_000).ok).toBe(true);
    expect(judgeLag(samples).ok).toBe(false);
  });
});

describe('helpers', () => {
  it('excludes the warm-up from the first quarter', () => {
    // GIVEN a first minute of huge lag (the prelude) in a 10-minute run: warm-up is 60 s
    const verdict = judgeSeries(
      [
        { t: 0, value: 100_000 },
        { t: 59_000, value: 100_000 },
        { t: 61_000, value: 1_000 },
        { t: 600_000, value: 1_000 },
      ],
      { from: 60_000, to: 600_000, quarterMs: 135_000 },
      { subject: 'x', summary: 'median', ratio: 1.5, slack: 0 },
    );
    expect(verdict).toMatchObject({ ok: true, first: 1_000, last: 1_000 });
  });

  it('computes the median and the slope per minute', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(
      slopePerMinute([
        { t: 0, value: 0 },
        { t: 60_000, value: 10 },
        { t: 120_000, value: 20 },
      ]),
    ).toBeCloseTo(10);
  });
});
