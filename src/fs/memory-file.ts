// A read-only FileHandle over bytes already in memory, so a TableReader can
// open a table that arrived as a buffer (a compaction worker receives its
// input tables this way and does no file I/O of its own).
import { ClosedError, InvalidArgumentError, ReadOnlyError } from '../errors.js';
import type { FileHandle } from './filesystem.js';

export class MemoryFile implements FileHandle {
  readonly path: string;
  readonly #bytes: Uint8Array;
  #closed = false;

  /** `path` only names the file in errors; `bytes` are used in place, not copied, and must not change. */
  constructor(path: string, bytes: Uint8Array) {
    this.path = path;
    this.#bytes = bytes;
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.#checkOpen();
    if (!isCount(offset) || !isCount(length) || !isCount(position) || offset + length > buffer.length) {
      throw new InvalidArgumentError(`read of ${length} bytes at ${position} into [${offset}, ${buffer.length}) of ${this.path} is out of range`);
    }
    if (position >= this.#bytes.length) return 0;
    const n = Math.min(length, this.#bytes.length - position);
    buffer.set(this.#bytes.subarray(position, position + n), offset);
    return n;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.readSync(buffer, offset, length, position);
  }

  writeSync(): void {
    throw this.#readOnly();
  }

  write(): Promise<void> {
    return Promise.reject(this.#readOnly());
  }

  /** Nothing is ever unsynced. */
  datasync(): Promise<void> {
    try {
      this.#checkOpen();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  datasyncSync(): void {
    this.#checkOpen();
  }

  size(): number {
    this.#checkOpen();
    return this.#bytes.length;
  }

  /** Idempotent. The bytes stay with their owner. */
  closeSync(): void {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError(`${this.path} is closed`);
  }

  #readOnly(): ReadOnlyError {
    return new ReadOnlyError(`${this.path} is a read-only in-memory file`);
  }
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
