import { ANSI } from './constants';
import { renderProgressLine } from './renderProgressLine';
import { renderView } from './renderView';
import type { DemoOutput, DemoSnapshot } from './types';

/**
 * Shows demo snapshots on a terminal stream. On a TTY (`redraw`) the full view is redrawn in
 * place: the cursor moves up over the previous frame, which is erased, and the new one is written,
 * every line cut to the terminal width so nothing wraps. Elsewhere (CI, pipes) each snapshot is
 * one plain progress line, with no control sequences.
 */
export class TerminalView {
  readonly #out: DemoOutput;
  readonly #redraw: boolean;
  #drawn = 0;
  #cursorHidden = false;

  public constructor(out: DemoOutput, options: { readonly redraw: boolean }) {
    this.#out = out;
    this.#redraw = options.redraw;
  }

  /** Whether snapshots are redrawn in place (TTY) rather than printed as progress lines. */
  public get redraws(): boolean {
    return this.#redraw;
  }

  /** Shows one snapshot. */
  public show(snapshot: DemoSnapshot): void {
    if (!this.#redraw) {
      this.#out.write(`${renderProgressLine(snapshot)}\n`);
      return;
    }
    const width = Math.max(40, (this.#out.columns ?? 100) - 1);
    const lines = renderView(snapshot, { width, bold: true });
    let frame = this.#cursorHidden ? '' : ANSI.hideCursor;
    this.#cursorHidden = true;
    if (this.#drawn > 0) frame += `${ANSI.up(this.#drawn)}\r${ANSI.clearDown}`;
    frame += `${lines.join('\n')}\n`;
    this.#out.write(frame);
    this.#drawn = lines.length;
  }

  /** Erases the last frame (TTY) and shows the cursor again. Idempotent. */
  public close(): void {
    if (!this.#redraw) return;
    let text = '';
    if (this.#drawn > 0) text += `${ANSI.up(this.#drawn)}\r${ANSI.clearDown}`;
    if (this.#cursorHidden) text += ANSI.showCursor;
    if (text !== '') this.#out.write(text);
    this.#drawn = 0;
    this.#cursorHidden = false;
  }
}
