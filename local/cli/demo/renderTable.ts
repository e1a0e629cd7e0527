import { formatLatency, formatTimeOfDay, row } from './formatting';
import type { PipelineSnapshot } from './types';

const HEADERS = [
  'sent',
  'in',
  'out',
  'alerts',
  'open',
  'late',
  'invalid',
  'failed',
  'errors',
  'lag',
  'watermark',
];
const WIDTHS = [12, 8, 8, 8, 7, 7, 6, 8, 7, 7, 8, 10];
const NONE = '–';

/**
 * The per-pipeline table of the view and the summary: records sent to the input stream, delivered
 * to the function (in), distinct results out, alerts, open windows, LATE and invalid records,
 * records given up on (failed), failed invocations (errors), the last batch's iterator age (lag)
 * and the committed watermark (UTC).
 */
export function renderTable(pipelines: readonly PipelineSnapshot[]): string[] {
  const lines = [row('pipeline', HEADERS, WIDTHS)];
  for (const p of pipelines) {
    const windowed = p.window !== undefined;
    lines.push(
      row(
        p.name,
        [
          String(p.sent),
          String(p.recordsIn),
          String(p.recordsOut),
          windowed ? String(p.alerts) : NONE,
          p.openWindows === undefined ? NONE : String(p.openWindows),
          windowed ? String(p.late) : NONE,
          String(p.invalid),
          String(p.failed),
          String(p.errors),
          p.recordsIn > 0 ? formatLatency(p.lagMs) : NONE,
          p.watermark === undefined ? NONE : formatTimeOfDay(p.watermark),
        ],
        WIDTHS,
      ),
    );
  }
  return lines;
}
