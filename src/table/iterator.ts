// The two-level iterator over a table: a position in the index picks a data
// block, a block cursor walks inside it. The current data block stays pinned
// in the block cache until the iterator leaves it or closes.
import { ClosedError } from '../errors.js';
import type { InternalIterator } from '../iterator/internal.js';
import { BlockCursor } from '../wasm/block.js';
import { Region, u8 } from '../wasm/heap.js';
import { raw } from '../wasm/loader.js';
import type { BlockCacheHandle } from './block-source.js';

/** What the iterator needs from its table reader. */
export interface TableIteratorSource {
  readonly blockCount: number;
  /** Index of the first data block whose separator is >= the target (blockCount if none). */
  findBlock(targetPtr: number, targetLen: number): number;
  /** Data block i, pinned (read, verified and cached on a miss). */
  pinBlock(i: number): BlockCacheHandle;
  unpinBlock(handle: BlockCacheHandle): void;
  /** The error to throw for a failure inside data block i: corruption names the file and the block's offset. */
  blockError(i: number, err: unknown): unknown;
  /** Called once, when the iterator closes. */
  iteratorClosed(): void;
}

export class TableIterator implements InternalIterator {
  readonly #source: TableIteratorSource;
  #cursor = new BlockCursor();
  #target = new Region(64);
  /** The pinned data block, or undefined. */
  #handle: BlockCacheHandle | undefined;
  #blockIndex = -1;
  #valid = false;
  #closed = false;

  constructor(source: TableIteratorSource) {
    this.#source = source;
  }

  valid(): boolean {
    return this.#valid;
  }

  seekToFirst(): void {
    this.#run(() => {
      if (!this.#enterBlock(0)) return;
      this.#valid = this.#cursor.first();
      this.#skipForward();
    });
  }

  seekToLast(): void {
    this.#run(() => {
      if (!this.#enterBlock(this.#source.blockCount - 1)) return;
      this.#valid = this.#cursor.last();
      this.#skipBackward();
    });
  }

  seek(target: Uint8Array): void {
    this.#run(() => this.#seek(target));
  }

  seekForPrev(target: Uint8Array): void {
    this.#run(() => {
      this.#seek(target);
      if (!this.#valid) {
        if (!this.#enterBlock(this.#source.blockCount - 1)) return;
        this.#valid = this.#cursor.last();
        this.#skipBackward();
        return;
      }
      const c = this.#cursor;
      if (raw.compareInternalKeys(c.keyPtr, c.keyLen, this.#target.ptr, target.length) > 0) this.#stepBack();
    });
  }

  next(): void {
    this.#run(() => {
      this.#valid = this.#cursor.next();
      this.#skipForward();
    });
  }

  prev(): void {
    this.#run(() => this.#stepBack());
  }

  /** Where the current key lies in linear memory (stable while the iterator stays on its entry). Precondition: valid(). */
  get keyPtr(): number {
    return this.#cursor.keyPtr;
  }

  get keyLen(): number {
    return this.#cursor.keyLen;
  }

  /** Where the current value lies, as keyPtr. */
  get valuePtr(): number {
    return this.#cursor.valuePtr;
  }

  get valueLen(): number {
    return this.#cursor.valueLen;
  }

  /**
   * The block cursor's handle, for a kernel that steps it within the block
   * (assembly/merge.ts). Once it leaves the block, next() moves on to the
   * next block (or reports the cursor's error).
   */
  get cursor(): number {
    return this.#cursor.handle;
  }

  key(): Uint8Array {
    const c = this.#cursor;
    const ptr = c.keyPtr;
    return u8().subarray(ptr, ptr + c.keyLen);
  }

  value(): Uint8Array {
    const c = this.#cursor;
    const ptr = c.valuePtr;
    return u8().subarray(ptr, ptr + c.valueLen);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#valid = false;
    this.#unpin();
    this.#cursor.destroy();
    this.#target.release();
    this.#source.iteratorClosed();
  }

  /** Runs a move; on any error leaves the iterator unpositioned and throws the error naming the block. */
  #run(move: () => void): void {
    if (this.#closed) throw new ClosedError('table iterator is closed');
    try {
      move();
    } catch (err) {
      const block = this.#blockIndex;
      this.#valid = false;
      this.#unpin();
      throw block >= 0 ? this.#source.blockError(block, err) : err;
    }
  }

  #seek(target: Uint8Array): void {
    const ptr = this.#target.load(target);
    const i = this.#source.findBlock(ptr, target.length);
    if (!this.#enterBlock(i)) return;
    this.#valid = this.#cursor.seekAt(ptr, target.length);
    this.#skipForward();
  }

  #stepBack(): void {
    this.#valid = this.#cursor.prev();
    this.#skipBackward();
  }

  /** Past the end of a block: on to the first entry of the next non-empty one. */
  #skipForward(): void {
    while (!this.#valid && this.#blockIndex + 1 < this.#source.blockCount) {
      this.#enterBlock(this.#blockIndex + 1);
      this.#valid = this.#cursor.first();
    }
    if (!this.#valid) this.#unpin();
  }

  /** Before the start of a block: back to the last entry of the previous non-empty one. */
  #skipBackward(): void {
    while (!this.#valid && this.#blockIndex > 0) {
      this.#enterBlock(this.#blockIndex - 1);
      this.#valid = this.#cursor.last();
    }
    if (!this.#valid) this.#unpin();
  }

  /** Pins data block i and points the cursor at it; false (unpositioned) when i is out of range. */
  #enterBlock(i: number): boolean {
    this.#valid = false;
    if (i < 0 || i >= this.#source.blockCount) {
      this.#unpin();
      return false;
    }
    if (i !== this.#blockIndex || this.#handle === undefined) {
      this.#unpin();
      this.#blockIndex = -1;
      // A failed pin throws the reader's own error, already naming the block.
      this.#handle = this.#source.pinBlock(i);
      this.#blockIndex = i;
      const block = this.#handle.value;
      // pinBlock checked the block's restart array when it entered the cache.
      this.#cursor.attach(block.ptr, block.len);
    }
    return true;
  }

  #unpin(): void {
    if (this.#handle !== undefined) this.#source.unpinBlock(this.#handle);
    this.#handle = undefined;
  }
}
