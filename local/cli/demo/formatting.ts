/** Small text helpers of the demo's renderers. */

/** `0:42`, `12:05`, `1:02:03` for a span of milliseconds. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}

/** `812 ms`, `1.9 s`, `2m05s`, `30 min` for a latency, lag or gap. */
export function formatLatency(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** `10:01` (UTC) for an epoch-ms time. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** `10:01:30` (UTC) for an epoch-ms time. */
export function formatTimeOfDay(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** `10:00–10:01` for a window. */
export function formatWindow(start: number, end: number): string {
  return `${formatTime(start)}–${formatTime(end)}`;
}

/** `11.8%` for a ratio. */
export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`;
}

/** Cuts a line to `width` characters, ending it with `…` when cut. */
export function fitWidth(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Right-aligns cells of a table row after a left-aligned first cell. */
export function row(first: string, cells: readonly string[], widths: readonly number[]): string {
  const [firstWidth = 12, ...rest] = widths;
  return (
    first.padEnd(firstWidth) + cells.map((cell, i) => cell.padStart(rest[i] ?? 8)).join('')
  ).trimEnd();
}
