import { ANSI } from './constants';
import { describeAlerts, describeResults } from './describeResults';
import { fitWidth, formatClock, formatLatency } from './formatting';
import { renderTable } from './renderTable';
import type { DemoSnapshot } from './types';

/** Options of {@link renderView}. */
export interface RenderViewOptions {
  /** Terminal width: every line is cut to it, so a redraw never wraps. @default 100 */
  readonly width?: number;
  /** Bold headings (ANSI). @default false */
  readonly bold?: boolean;
}

const PHASE_TEXT = {
  running: 'generating',
  draining: 'generation stopped, waiting for the pipelines to catch up',
  stopping: 'stopping',
  done: 'done',
} as const;

/**
 * The live view, as lines: a header with the elapsed time, the per-pipeline table, the latest
 * closed results (busiest pages, worst services and alerts, trending products, sessions), the
 * enrich latency, and the latest status line. Pure: the same snapshot gives the same lines.
 *
 * @example
 * const lines = renderView(monitor.snapshot({ phase: 'running', startedAt }), { width: process.stdout.columns });
 */
export function renderView(snapshot: DemoSnapshot, options: RenderViewOptions = {}): string[] {
  const width = options.width ?? 100;
  // Headings are cut before they are made bold, so a cut never splits a control sequence.
  const heading = (text: string): string =>
    options.bold ? ANSI.bold(fitWidth(text, width)) : text;
  const elapsed = formatClock(snapshot.elapsedMs);
  let planned = `${elapsed} (until Ctrl-C)`;
  if (snapshot.durationMs !== undefined) {
    planned =
      snapshot.phase === 'running'
        ? `${elapsed} of ${formatClock(snapshot.durationMs)}`
        : `${elapsed} (generated ${formatClock(snapshot.durationMs)})`;
  }
  const lines = [
    heading(
      `shardflow demo · ${snapshot.pipelines.length} pipelines on the embedded AWS · ${planned}`,
    ),
    `${PHASE_TEXT[snapshot.phase]} · times UTC · Ctrl-C stops`,
    '',
    ...renderTable(snapshot.pipelines),
    '',
    heading('latest closed results'),
  ];
  for (const pipeline of snapshot.pipelines) {
    const results = describeResults(pipeline);
    if (results !== undefined) lines.push(`${pipeline.name.padEnd(12)}${results}`);
    const alerts = describeAlerts(pipeline);
    if (alerts !== undefined) lines.push(`${'  alerts'.padEnd(12)}${alerts}`);
  }
  const enrich = snapshot.enrich;
  if (enrich !== undefined) {
    const latency =
      enrich.p50Ms === undefined || enrich.p99Ms === undefined
        ? 'no result yet'
        : `put → output p50 ${formatLatency(enrich.p50Ms)}, p99 ${formatLatency(enrich.p99Ms)}`;
    lines.push(
      `${'enrich'.padEnd(12)}${enrich.received} of ${enrich.sent} events back · ${latency}`,
    );
  }
  if (snapshot.notes !== undefined && snapshot.notes.length > 0) lines.push('', ...snapshot.notes);
  return lines.map((line) => (line.startsWith('\u001b') ? line : fitWidth(line, width)));
}
