import type { DemoWindow } from './types';

/** A due-index entry of the state table: a slice (tumbling, hopping) or an open session. */
export interface DueEntry {
  readonly key: string;
  /** Slice start (slices) or session start (sessions), epoch ms. */
  readonly start: number;
  /** Slice end (slices) or session end = last event + gap (sessions), epoch ms. */
  readonly end: number;
}

/**
 * How many windows are open, from the state table's due index: a session entry is one open
 * session; a slice belongs to `size / slide` windows (`[s, s + size)` with
 * `s = sliceStart + slide − size, …, sliceStart`), counted once per key and start, and only while
 * their end is after the committed `watermark` (windows before it are closed or about to be).
 *
 * @example
 * countOpenWindows([{ key: '/', start: 0, end: 60_000 }], { kind: 'hopping', sizeMs: 300_000, slideMs: 60_000, sliceMs: 60_000 }, undefined); // 5
 */
export function countOpenWindows(
  entries: readonly DueEntry[],
  window: DemoWindow,
  watermark: number | undefined,
): number {
  const after = watermark ?? Number.NEGATIVE_INFINITY;
  if (window.kind === 'session') {
    return entries.filter((entry) => entry.end > after).length;
  }
  const open = new Set<string>();
  for (const entry of entries) {
    for (
      let start = entry.start + window.sliceMs - window.sizeMs;
      start <= entry.start;
      start += window.slideMs
    ) {
      if (start + window.sizeMs > after) open.add(`${entry.key}\u0000${start}`);
    }
  }
  return open.size;
}
