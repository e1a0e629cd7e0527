import { formatLatency, formatPercent, formatWindow } from './formatting';
import type { DemoResult, PipelineSnapshot } from './types';

const num = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);

/**
 * One line about a pipeline's latest closed results, recognised by the shape of their values:
 * page views (`views`, `users`: busiest pages), service health (`errorRate`: worst services),
 * trending (`top`: most viewed products over all categories), sessions (latest sessions), or any
 * other result as key and values. Undefined for a pipeline without windows.
 *
 * @example
 * describeResults(pageViews, 3); // '10:00–10:01  /home 42 views 17 users · /cart 12 views 9 users'
 */
export function describeResults(pipeline: PipelineSnapshot, max = 3): string | undefined {
  const window = pipeline.window;
  if (window === undefined) return undefined;
  if (window.kind === 'session') {
    const latest = pipeline.recent.slice(-max).reverse();
    if (latest.length === 0) {
      return `none closed yet: a session closes ${formatLatency(window.gapMs)} after its user's last event`;
    }
    return latest.map(describeSession).join(' · ');
  }
  const newestEnd = Math.max(...pipeline.recent.map((result) => result.windowEnd));
  const group = pipeline.recent.filter((result) => result.windowEnd === newestEnd);
  const first = group[0];
  if (first === undefined) return 'waiting for the first window to close';
  return `${formatWindow(first.windowStart, first.windowEnd)}  ${describeGroup(group, max)}`;
}

/** One line about a pipeline's latest alerts (newest first), or undefined without alerts. */
export function describeAlerts(pipeline: PipelineSnapshot, max = 2): string | undefined {
  const latest = pipeline.recentAlerts.slice(-max).reverse();
  if (latest.length === 0) return undefined;
  return latest
    .map((alert) => {
      const { errorRate, errors, requests } = alert.values;
      const what =
        typeof errorRate === 'number'
          ? `${formatPercent(errorRate)} errors (${num(errors)} of ${num(requests)} requests)`
          : compact(alert.values);
      return `${alert.key} ${what} in ${formatWindow(alert.windowStart, alert.windowEnd)}`;
    })
    .join(' · ');
}

function describeGroup(group: readonly DemoResult[], max: number): string {
  const sample = group[0]?.values ?? {};
  if (Array.isArray(sample.top)) {
    const products = group.flatMap((result) =>
      (result.values.top as { productId?: unknown; views?: unknown }[]).map((entry) => ({
        productId: String(entry.productId),
        views: num(entry.views),
      })),
    );
    products.sort((a, b) => b.views - a.views || a.productId.localeCompare(b.productId));
    return products
      .slice(0, max)
      .map((p) => `${p.productId} ${p.views} views`)
      .join(' · ');
  }
  if (typeof sample.errorRate === 'number') {
    return [...group]
      .sort((a, b) => num(b.values.errorRate) - num(a.values.errorRate) || cmpKey(a, b))
      .slice(0, max)
      .map((r) => {
        const p99 = num(r.values.p99LatencyMs);
        const latency = Number.isFinite(p99) ? `, p99 ${formatLatency(p99)}` : '';
        return `${r.key} ${formatPercent(num(r.values.errorRate))} err of ${num(r.values.requests)}${latency}`;
      })
      .join(' · ');
  }
  if (typeof sample.views === 'number') {
    return [...group]
      .sort((a, b) => num(b.values.views) - num(a.values.views) || cmpKey(a, b))
      .slice(0, max)
      .map((r) => {
        const users = typeof r.values.users === 'number' ? ` ${r.values.users} users` : '';
        return `${r.key} ${num(r.values.views)} views${users}`;
      })
      .join(' · ');
  }
  return [...group]
    .sort(cmpKey)
    .slice(0, max)
    .map((r) => `${r.key} ${compact(r.values)}`)
    .join(' · ');
}

function describeSession(result: DemoResult): string {
  const { pages, clicks, durationMs } = result.values;
  if (typeof pages !== 'number') return `${result.key} ${compact(result.values)}`;
  return `${result.key} ${pages} pages ${num(clicks)} clicks in ${formatLatency(num(durationMs))}`;
}

function cmpKey(a: DemoResult, b: DemoResult): number {
  return a.key.localeCompare(b.key);
}

function compact(values: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(values).replace(/"/g, '');
}
