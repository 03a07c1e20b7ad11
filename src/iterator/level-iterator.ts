// One iterator over a whole level >= 1: its files are sorted and disjoint
// by user key, so the level reads as one sorted run. Only the file under the
// position is open; a seek finds its file by binary search and opens that
// one alone, where an iterator per file would read a block of every file of
// the level. This is LevelDB's two-level "concatenating" iterator.
//
// Precondition: the caller keeps the files on disk (refs their version) for
// the iterator's life; files are opened through `open`, lazily.
import { ClosedError } from '../errors.js';
import { TRAILER_SIZE, compareInternalKeys } from '../keys.js';
import type { FileMetadata } from '../version/edit.js';
import type { LevelIndex } from '../version/level-index.js';
import type { InternalIterator } from './internal.js';

export class LevelIterator implements InternalIterator {
  readonly #files: readonly FileMetadata[];
  readonly #bounds: LevelIndex;
  readonly #open: (file: FileMetadata) => InternalIterator;
  /** The open file's iterator and its index in #files; undefined when unpositioned. */
  #current: InternalIterator | undefined;
  #index = -1;
  #closed = false;

  /** `index` is the lookup index of `files`. */
  constructor(files: readonly FileMetadata[], index: LevelIndex, open: (file: FileMetadata) => InternalIterator) {
    this.#files = files;
    this.#bounds = index;
    this.#open = open;
  }

  valid(): boolean {
    return this.#current !== undefined && this.#current.valid();
  }

  seekToFirst(): void {
    this.#enter(0)?.seekToFirst();
    this.#skipForward();
  }

  seekToLast(): void {
    this.#enter(this.#files.length - 1)?.seekToLast();
    this.#skipBackward();
  }

  seek(target: Uint8Array): void {
    // Files before this one end below the target's user key, so hold only smaller keys.
    this.#enter(this.#bounds.firstReaching(target.subarray(0, target.length - TRAILER_SIZE)))?.seek(target);
    this.#skipForward();
  }

  seekForPrev(target: Uint8Array): void {
    this.#enter(this.#lastStartingAtOrBefore(target))?.seekForPrev(target);
    this.#skipBackward();
  }

  next(): void {
    this.#current!.next();
    this.#skipForward();
  }

  prev(): void {
    this.#current!.prev();
    this.#skipBackward();
  }

  key(): Uint8Array {
    return this.#current!.key();
  }

  get keyPtr(): number {
    return this.#current!.keyPtr;
  }

  get keyLen(): number {
    return this.#current!.keyLen;
  }

  value(): Uint8Array {
    return this.#current!.value();
  }

  get valuePtr(): number {
    return this.#current!.valuePtr;
  }

  get valueLen(): number {
    return this.#current!.valueLen;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leave();
  }

  /** Index of the last file whose smallest key is <= target (-1 if none). */
  #lastStartingAtOrBefore(target: Uint8Array): number {
    let lo = 0;
    let hi = this.#files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareInternalKeys(this.#files[mid]!.smallest, target) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Past the end of a file: on to the first entry of the next one that has any. */
  #skipForward(): void {
    while (this.#current !== undefined && !this.#current.valid()) this.#enter(this.#index + 1)?.seekToFirst();
  }

  /** Before the start of a file: back to the last entry of the previous one that has any. */
  #skipBackward(): void {
    while (this.#current !== undefined && !this.#current.valid()) this.#enter(this.#index - 1)?.seekToLast();
  }

  /** Opens file i (keeping it if already open); out of range, closes the current file and returns undefined. */
  #enter(i: number): InternalIterator | undefined {
    if (this.#closed) throw new ClosedError('level iterator is closed');
    if (i === this.#index && this.#current !== undefined) return this.#current;
    this.#leave();
    if (i < 0 || i >= this.#files.length) return undefined;
    this.#current = this.#open(this.#files[i]!);
    this.#index = i;
    return this.#current;
  }

  #leave(): void {
    const current = this.#current;
    this.#current = undefined;
    this.#index = -1;
    current?.close();
  }
}
