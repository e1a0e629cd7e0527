import { MIB } from './constants';
import type { SoakReport } from './types';

const pad = (rows: string[][]): string => {
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const n = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The table `npm run soak` prints: per pipeline throughput and lag, per handler process memory in
 * the first and last quarter, and the verdicts.
 */
export function renderReport(report: SoakReport): string {
  const lines: string[] = [];
  const sent = Object.values(report.totals.sent).reduce((a, b) => a + b, 0);
  lines.push(
    `soak: ${report.settings.mode}${report.settings.rate ? ` (${report.settings.rate}/s per stream)` : ''}, driven ${n(report.drivenMs / 1000)} s, ${report.samples.length} samples, ${n(sent)} records sent (${n(sent / (report.drivenMs / 1000), 1)}/s)`,
  );
  const lagOf = new Map(report.lag.verdicts.map((v) => [v.subject.replace(/ lag$/, ''), v]));
  lines.push(
    '',
    pad([
      ['pipeline', 'in', 'in/s', 'out', 'out/s', 'failures', 'errors', 'lag Q1', 'lag Q4', 'lag'],
      ...report.totals.pipelines.map((p) => {
        const v = lagOf.get(p.pipeline);
        return [
          p.pipeline,
          n(p.processed),
          n(p.inPerSec, 1),
          n(p.out),
          n(p.outPerSec, 1),
          n(p.failures),
          n(p.errors),
          v ? `${n(v.first / 1000, 1)} s` : '?',
          v ? `${n(v.last / 1000, 1)} s` : '?',
          v ? (v.ok ? 'ok' : 'GROWING') : '?',
        ];
      }),
    ]),
  );
  lines.push(
    '',
    pad([
      ['process', 'max Q1', 'max Q4', 'limit', 'slope/min (2nd half)', ''],
      ...report.memory.verdicts.map((v) => [
        v.subject,
        `${n(v.first / MIB, 1)} MiB`,
        `${n(v.last / MIB, 1)} MiB`,
        `${n(v.limit / MIB, 1)} MiB`,
        `${n(v.slopePerMinute / MIB, 2)} MiB`,
        v.ok ? 'ok' : 'GREW',
      ]),
    ]),
  );
  const exits = report.totals.workerExits;
  lines.push(
    '',
    `memory: ${report.memory.ok ? 'flat' : 'NOT flat'} · lag: ${report.lag.ok ? 'not growing' : 'GROWING'} · worker exits: ${exits.length} · function errors: ${report.totals.functionErrors} · driver errors: ${report.totals.driverErrors}`,
  );
  for (const problem of [...report.memory.problems, ...report.lag.problems]) {
    lines.push(`  - ${problem}`);
  }
  for (const exit of exits) {
    lines.push(
      `  - worker ${exit.pid} of ${exit.functionName} exited before ${n(exit.t / 1000)} s`,
    );
  }
  return lines.join('\n');
}
