import { WINDOW_KIND } from '../constants';
import type { SlicedWindowAssigner, Window } from '../types';

/** Start of the epoch-aligned interval of width `width` that holds `t` (also for t < 0). */
const floorTo = (t: number, width: number): number => t - (((t % width) + width) % width);

/**
 * Tumbling and hopping windows over slices (panes): slice `[k·slide, (k+1)·slide)` belongs to the
 * `size/slide` windows `[s, s+size)` with `s = (k+1)·slide − size, …, k·slide`. Every event lands
 * in exactly one slice, so a hopping window costs the state writes of a tumbling one.
 */
export class SlicedAssigner implements SlicedWindowAssigner {
  public readonly kind: typeof WINDOW_KIND.TUMBLING | typeof WINDOW_KIND.HOPPING;
  public readonly sizeMs: number;
  public readonly slideMs: number;
  public readonly sliceMs: number;

  /** Expects validated arguments: `0 < slideMs ≤ sizeMs` and `sizeMs % slideMs === 0`. */
  constructor(sizeMs: number, slideMs: number) {
    this.kind = sizeMs === slideMs ? WINDOW_KIND.TUMBLING : WINDOW_KIND.HOPPING;
    this.sizeMs = sizeMs;
    this.slideMs = slideMs;
    this.sliceMs = slideMs;
  }

  public sliceOf(t: number): number {
    return floorTo(t, this.sliceMs);
  }

  public windowsOfSlice(sliceStart: number): Window[] {
    const windows: Window[] = [];
    const first = sliceStart + this.sliceMs - this.sizeMs;
    for (let start = first; start <= sliceStart; start += this.slideMs) {
      windows.push({ start, end: start + this.sizeMs });
    }
    return windows;
  }

  public slicesOfWindow(window: Window): number[] {
    const slices: number[] = [];
    for (let s = window.start; s < window.end; s += this.sliceMs) slices.push(s);
    return slices;
  }

  public windowsOf(t: number): Window[] {
    return this.windowsOfSlice(this.sliceOf(t));
  }

  public lastWindowEndOfSlice(sliceStart: number): number {
    return sliceStart + this.sizeMs;
  }
}
