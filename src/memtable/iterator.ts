// InternalIterator over a memtable's skip list. The list is append-only and
// its nodes never move, so a position (a node address) stays valid across
// inserts made while the iterator is open; only typed-array views go stale
// when memory grows, so every key()/value() builds its view afresh.
import { ClosedError, InvalidArgumentError } from '../errors.js';
import type { InternalIterator } from '../iterator/internal.js';
import { compareInternalKeys, TRAILER_SIZE } from '../keys.js';
import { u8 } from '../wasm/heap.js';
import { node, type SkipList, type SkipListCursor } from '../wasm/skiplist.js';

/** What the iterator pins: released once, on close. */
export interface IteratorOwner {
  unref(): void;
}

const NO_KEY = new Uint8Array(0);

export class MemtableIterator implements InternalIterator {
  #cursor: SkipListCursor | undefined;
  readonly #owner: IteratorOwner;
  /**
   * The last key view handed out and its node: merging compares the same
   * key many times, and a view costs far more to create than to check. A
   * node's key never changes; growth detaches the view (length 0, and keys
   * are never empty), which forces a new one.
   */
  #keyNode = 0;
  #keyView: Uint8Array = NO_KEY;

  constructor(list: SkipList, owner: IteratorOwner) {
    this.#cursor = list.cursor();
    this.#owner = owner;
  }

  #open(): SkipListCursor {
    if (this.#cursor === undefined) throw new ClosedError('memtable iterator used after close');
    return this.#cursor;
  }

  valid(): boolean {
    return this.#open().valid;
  }

  seekToFirst(): void {
    this.#open().first();
  }

  seekToLast(): void {
    this.#open().last();
  }

  seek(target: Uint8Array): void {
    this.#open().seekInternal(target);
  }

  seekForPrev(target: Uint8Array): void {
    const cursor = this.#open();
    // Internal keys are unique, so the first entry >= target is either the
    // target itself or the successor of the answer.
    if (!cursor.seekInternal(target)) cursor.last();
    else if (compareInternalKeys(this.key(), target) > 0) cursor.prev();
  }

  next(): void {
    this.#open().next();
  }

  prev(): void {
    this.#open().prev();
  }

  /** The current node. Precondition: valid(). */
  #at(): number {
    const n = this.#open().node;
    if (n === 0) throw new InvalidArgumentError('memtable iterator is not positioned on an entry');
    return n;
  }

  key(): Uint8Array {
    const n = this.#at();
    if (n === this.#keyNode && this.#keyView.length !== 0) return this.#keyView;
    const ptr = node.userKeyPtr(n);
    this.#keyView = u8().subarray(ptr, ptr + node.userKeyLength(n) + TRAILER_SIZE);
    this.#keyNode = n;
    return this.#keyView;
  }

  get keyPtr(): number {
    return node.userKeyPtr(this.#at());
  }

  get keyLen(): number {
    return node.userKeyLength(this.#at()) + TRAILER_SIZE;
  }

  get valuePtr(): number {
    return node.valuePtr(this.#at());
  }

  get valueLen(): number {
    return node.valueLength(this.#at());
  }

  value(): Uint8Array {
    const n = this.#at();
    const ptr = node.valuePtr(n);
    return u8().subarray(ptr, ptr + node.valueLength(n));
  }

  close(): void {
    if (this.#cursor === undefined) return;
    this.#cursor = undefined;
    this.#owner.unref();
  }
}
