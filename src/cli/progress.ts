// A progress bar on stderr for long work, drawn only when stderr is a
// terminal; piped or redirected output stays plain.
import type { CliIO } from './io.js';

const WIDTH = 30;
/** Redraw at most this often, so a fast loop does not flood the terminal. */
const REDRAW_MS = 100;

export class Progress {
  readonly #stream: CliIO['stderr'];
  readonly #label: string;
  readonly #on: boolean;
  #drawn = 0;

  constructor(io: CliIO, label: string) {
    this.#stream = io.stderr;
    this.#label = label;
    this.#on = io.stderr.isTTY === true;
  }

  /** `done` of `total` units (`unit` names them); a total of 0 shows the count alone. */
  update(done: number, total: number, unit: string): void {
    if (!this.#on) return;
    const now = Date.now();
    if (now - this.#drawn < REDRAW_MS && done < total) return;
    this.#drawn = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * WIDTH);
    const bar = total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ` : '';
    this.#stream.write(`\r\x1b[2K${this.#label} ${bar}${done.toLocaleString('en-US')}${total > 0 ? `/${total.toLocaleString('en-US')}` : ''} ${unit}`);
  }

  /** Clears the bar's line. */
  done(): void {
    if (this.#on) this.#stream.write('\r\x1b[2K');
  }
}
