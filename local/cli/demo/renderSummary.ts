import { describeAlerts, describeResults } from './describeResults';
import { formatLatency } from './formatting';
import { renderTable } from './renderTable';
import type { DemoSnapshot } from './types';

/** Options of {@link renderSummary}. */
export interface RenderSummaryOptions {
  /** Wall time of the whole demo, engine start and teardown included (ms). */
  readonly tookMs: number;
  /** Seconds of generation, for the heading. */
  readonly generatedSeconds: number;
}

/**
 * The final summary (plain text): the enrich contract first — sent, received, duplicates and
 * put-to-output latency p50/p99, in the lines issue 2 defined — then the per-pipeline table, the
 * latest closed results and alerts, and how long the demo took.
 */
export function renderSummary(snapshot: DemoSnapshot, options: RenderSummaryOptions): string {
  const lines = [
    '',
    `shardflow demo — ${snapshot.pipelines.length} pipelines on the embedded AWS, ${Math.round(options.generatedSeconds)} s of generated events`,
  ];
  const enrich = snapshot.enrich;
  if (enrich !== undefined) {
    lines.push(
      'enrich (numbers → numbers-doubled)',
      `  sent       ${enrich.sent}`,
      `  received   ${enrich.received}`,
      `  duplicates ${enrich.duplicates}`,
      enrich.p50Ms === undefined || enrich.p99Ms === undefined
        ? '  latency    no result arrived'
        : `  latency    p50 ${enrich.p50Ms} ms, p99 ${enrich.p99Ms} ms (put → output)`,
    );
  }
  lines.push('pipelines', ...renderTable(snapshot.pipelines).map((line) => `  ${line}`));
  for (const pipeline of snapshot.pipelines) {
    if (pipeline.recordsIn < pipeline.sent) {
      lines.push(
        `  ${pipeline.name} was still working when the demo stopped: ${pipeline.recordsIn} of ${pipeline.sent} records processed, lag ${formatLatency(pipeline.lagMs)}`,
      );
    }
  }
  const results: string[] = [];
  for (const pipeline of snapshot.pipelines) {
    const latest = describeResults(pipeline, 5);
    if (latest !== undefined) results.push(`  ${pipeline.name.padEnd(12)}${latest}`);
    const alerts = describeAlerts(pipeline, 3);
    if (alerts !== undefined) results.push(`  ${'  alerts'.padEnd(12)}${alerts}`);
  }
  if (results.length > 0) lines.push('latest closed results (times UTC)', ...results);
  lines.push(`  took       ${(options.tookMs / 1000).toFixed(1)} s`, '');
  return lines.join('\n');
}
