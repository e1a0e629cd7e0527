import { JUDGEMENT_DEFAULTS, MIB } from './constants';
import type { Judgement, JudgementThresholds, Point, SeriesVerdict, SoakSample } from './types';

/** The judged span of a run and its first and last quarter. */
export interface JudgedSpan {
  /** Start of the judged span (after warm-up), ms since driving started. */
  readonly from: number;
  readonly to: number;
  readonly quarterMs: number;
}

/**
 * The span a run is judged on: from the end of the warm-up (`warmupShare` of the run, at most
 * `maxWarmupMs`, and not before `steadyFrom` — when a full-rate run's backlog first reached its
 * cap) to the last sample.
 */
export function judgedSpan(
  samples: readonly Pick<SoakSample, 't'>[],
  thresholds: Partial<JudgementThresholds> = {},
  steadyFrom = 0,
): JudgedSpan {
  const t = { ...JUDGEMENT_DEFAULTS, ...thresholds };
  const to = samples.reduce((last, sample) => Math.max(last, sample.t), 0);
  const from = Math.min(to, Math.max(steadyFrom, Math.min(t.maxWarmupMs, to * t.warmupShare)));
  return { from, to, quarterMs: (to - from) / 4 };
}

/** Least-squares slope of the points, per minute (0 with fewer than two distinct times). */
export function slopePerMinute(points: readonly Point[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mt = points.reduce((sum, p) => sum + p.t, 0) / n;
  const mv = points.reduce((sum, p) => sum + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.value - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

/** Median of the values (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** How a quarter is summarized and how much the last one may exceed the first. */
interface Rule {
  readonly subject: string;
  readonly summary: 'max' | 'median';
  readonly ratio: number;
  readonly slack: number;
}

/**
 * Compares the last quarter of the judged span with the first: ok when
 * `summary(last) ≤ summary(first) × ratio + slack`. Returns a problem instead when either quarter
 * has no point.
 */
export function judgeSeries(
  points: readonly Point[],
  span: JudgedSpan,
  rule: Rule,
): SeriesVerdict | { readonly problem: string } {
  const judged = points.filter((p) => p.t >= span.from && p.t <= span.to);
  const first = judged.filter((p) => p.t <= span.from + span.quarterMs).map((p) => p.value);
  const last = judged.filter((p) => p.t >= span.to - span.quarterMs).map((p) => p.value);
  if (span.quarterMs <= 0 || first.length === 0 || last.length === 0) {
    return { problem: `${rule.subject}: not enough samples to compare the first and last quarter` };
  }
  const summarize = (values: number[]): number =>
    rule.summary === 'max' ? Math.max(...values) : median(values);
  const firstValue = summarize(first);
  const lastValue = summarize(last);
  const limit = firstValue * rule.ratio + rule.slack;
  const half = span.from + 2 * span.quarterMs;
  return {
    subject: rule.subject,
    ok: lastValue <= limit,
    first: firstValue,
    last: lastValue,
    limit,
    slopePerMinute: slopePerMinute(judged.filter((p) => p.t >= half)),
  };
}

function collect(
  verdicts: (SeriesVerdict | { readonly problem: string })[],
  describe: (verdict: SeriesVerdict) => string,
): Judgement {
  const done = verdicts.filter((v): v is SeriesVerdict => !('problem' in v));
  const problems = [
    ...verdicts.flatMap((v) => ('problem' in v ? [v.problem] : [])),
    ...done.filter((v) => !v.ok).map(describe),
  ];
  return { ok: problems.length === 0, verdicts: done, problems };
}

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * Memory is flat when, for every handler process alive through the judged span (sampled in its
 * first and its last quarter), both RSS and V8 heap used satisfy
 * `max(last quarter) ≤ max(first quarter) × memoryRatio + slack` (16 MiB RSS, 8 MiB heap by
 * default). Processes that started or ended mid-run are not judged (their exits are reported
 * separately); no long-lived process at all is a problem.
 */
export function judgeMemory(
  samples: readonly SoakSample[],
  thresholds: Partial<JudgementThresholds> = {},
  steadyFrom = 0,
): Judgement {
  const t = { ...JUDGEMENT_DEFAULTS, ...thresholds };
  const span = judgedSpan(samples, t, steadyFrom);
  const byPid = new Map<number, { label: string; rss: Point[]; heap: Point[] }>();
  for (const sample of samples) {
    for (const process of sample.processes) {
      let series = byPid.get(process.pid);
      if (series === undefined) {
        series = { label: process.label, rss: [], heap: [] };
        byPid.set(process.pid, series);
      }
      series.rss.push({ t: sample.t, value: process.rssBytes });
      series.heap.push({ t: sample.t, value: process.heapUsedBytes });
    }
  }
  const longLived = [...byPid].filter(([, series]) => {
    const times = series.rss.map((p) => p.t);
    return (
      times.some((time) => time >= span.from && time <= span.from + span.quarterMs) &&
      times.some((time) => time >= span.to - span.quarterMs)
    );
  });
  if (longLived.length === 0) {
    return {
      ok: false,
      verdicts: [],
      problems: ['memory: no handler process was sampled in both the first and the last quarter'],
    };
  }
  const verdicts = longLived.flatMap(([pid, series]) => [
    judgeSeries(series.rss, span, {
      subject: `${series.label} pid ${pid} rss`,
      summary: 'max',
      ratio: t.memoryRatio,
      slack: t.rssSlackBytes,
    }),
    judgeSeries(series.heap, span, {
      subject: `${series.label} pid ${pid} heap`,
      summary: 'max',
      ratio: t.memoryRatio,
      slack: t.heapSlackBytes,
    }),
  ]);
  return collect(
    verdicts,
    (v) =>
      `memory grew: ${v.subject} max ${mib(v.first)} in the first quarter, ${mib(v.last)} in the last (limit ${mib(v.limit)}, ${mib(v.slopePerMinute)}/min over the second half)`,
  );
}

/**
 * Lag is not growing when, for every pipeline, the median age of its oldest unprocessed record
 * in the last quarter is at most the first quarter's median × `lagRatio` + `lagSlackMs`.
 */
export function judgeLag(
  samples: readonly SoakSample[],
  thresholds: Partial<JudgementThresholds> = {},
  steadyFrom = 0,
): Judgement {
  const t = { ...JUDGEMENT_DEFAULTS, ...thresholds };
  const span = judgedSpan(samples, t, steadyFrom);
  const byPipeline = new Map<string, Point[]>();
  for (const sample of samples) {
    for (const pipeline of sample.pipelines) {
      const points = byPipeline.get(pipeline.pipeline) ?? [];
      if (pipeline.lagMs !== undefined) points.push({ t: sample.t, value: pipeline.lagMs });
      byPipeline.set(pipeline.pipeline, points);
    }
  }
  if (byPipeline.size === 0) {
    return { ok: false, verdicts: [], problems: ['lag: no pipeline was sampled'] };
  }
  const verdicts = [...byPipeline].map(([pipeline, points]) =>
    judgeSeries(points, span, {
      subject: `${pipeline} lag`,
      summary: 'median',
      ratio: t.lagRatio,
      slack: t.lagSlackMs,
    }),
  );
  return collect(
    verdicts,
    (v) =>
      `lag grew: ${v.subject} median ${(v.first / 1000).toFixed(1)} s in the first quarter, ${(v.last / 1000).toFixed(1)} s in the last (limit ${(v.limit / 1000).toFixed(1)} s)`,
  );
}
