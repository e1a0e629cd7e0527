import { formatClock, formatLatency } from './formatting';
import type { DemoSnapshot } from './types';

/**
 * One compact line for logs and pipes (no ANSI): elapsed time, then per pipeline records in → out,
 * alerts, open windows, late and invalid records when there are any, and the largest lag.
 *
 * @example
 * renderProgressLine(snapshot); // '[0:42] enrich 700→699 · page-views 1180→61 open 44 late 2 · … · lag ≤ 1.2 s'
 */
export function renderProgressLine(snapshot: DemoSnapshot): string {
  const parts = snapshot.pipelines.map((p) => {
    const bits = [`${p.name} ${p.recordsIn}→${p.recordsOut}`];
    if (p.alerts > 0) bits.push(`alerts ${p.alerts}`);
    if (p.openWindows !== undefined) bits.push(`open ${p.openWindows}`);
    if (p.late > 0) bits.push(`late ${p.late}`);
    if (p.invalid > 0) bits.push(`invalid ${p.invalid}`);
    if (p.failed > 0) bits.push(`failed ${p.failed}`);
    return bits.join(' ');
  });
  const lag = Math.max(0, ...snapshot.pipelines.map((p) => p.lagMs));
  const phase = snapshot.phase === 'running' ? '' : ` ${snapshot.phase}`;
  return `[${formatClock(snapshot.elapsedMs)}${phase}] ${parts.join(' · ')} · lag ≤ ${formatLatency(lag)}`;
}
