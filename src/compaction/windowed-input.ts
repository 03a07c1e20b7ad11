// A compaction input read through a read-ahead window: the merge asks for a
// block at a time, but the file is read IO_CHUNK bytes at once, so a
// compaction makes one read call per window rather than one per block. What
// fills the window (the main thread over a channel, or a local pread) is the
// caller's `fill`.
import { ClosedError, InvalidArgumentError, ReadOnlyError } from '../errors.js';
import type { FileHandle } from '../fs/filesystem.js';

/** Fills `window` with up to `length` bytes of the file at `position`; returns the count (short only at the end). */
export type WindowFill = (window: Uint8Array, position: number, length: number) => number;

export class WindowedInput implements FileHandle {
  readonly path: string;
  readonly #size: number;
  readonly #window: Uint8Array;
  readonly #fill: WindowFill;
  readonly #onClose: () => void;
  /** File position of the window's first byte, and how many of its bytes are valid. */
  #start = 0;
  #filled = 0;
  #closed = false;

  constructor(path: string, size: number, window: Uint8Array, fill: WindowFill, onClose: () => void = () => {}) {
    this.path = path;
    this.#size = size;
    this.#window = window;
    this.#fill = fill;
    this.#onClose = onClose;
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    if (this.#closed) throw new ClosedError(`${this.path} is closed`);
    if (offset + length > buffer.length) throw new InvalidArgumentError(`read of ${length} bytes into [${offset}, ${buffer.length}) of ${this.path} is out of range`);
    let done = 0;
    while (done < length) {
      const at = position + done;
      if (at < this.#start || at >= this.#start + this.#filled) {
        if (at >= this.#size) break;
        this.#refill(at);
        if (this.#filled === 0) break;
      }
      const from = at - this.#start;
      const n = Math.min(length - done, this.#filled - from);
      buffer.set(this.#window.subarray(from, from + n), offset + done);
      done += n;
    }
    return done;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    try {
      return Promise.resolve(this.readSync(buffer, offset, length, position));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #refill(position: number): void {
    this.#filled = 0;
    const n = this.#fill(this.#window, position, Math.min(this.#window.length, this.#size - position));
    this.#start = position;
    this.#filled = n;
  }

  writeSync(): void {
    throw new ReadOnlyError(`${this.path} is a compaction input`);
  }

  write(): Promise<void> {
    return Promise.reject(new ReadOnlyError(`${this.path} is a compaction input`));
  }

  datasync(): Promise<void> {
    return Promise.resolve();
  }

  datasyncSync(): void {}

  size(): number {
    return this.#size;
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }
}
