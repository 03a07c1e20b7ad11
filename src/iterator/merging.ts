// The merging iterator: one ordered stream over several InternalIterators
// (the memtable, immutable memtables, tables). Internal keys are unique
// across sources (each write has its own sequence), so no two children are
// ever positioned on equal keys.
//
// The children that are positioned sit in a binary heap keyed by their
// current key: a min-heap while moving forward, a max-heap while moving
// backward; the top is the current entry. Turning around re-positions every
// other child relative to the current key, as LevelDB's MergingIterator does.
// Keys are compared where they lie in linear memory, in WebAssembly: each
// child's key pointer is fetched once per move of that child.
import { ClosedError } from '../errors.js';
import { raw } from '../wasm/loader.js';
import type { InternalIterator } from './internal.js';

export class MergingIterator implements InternalIterator {
  readonly #children: InternalIterator[];
  /** Each positioned child's current key: where it lies in linear memory, and its length. */
  readonly #keyPtrs: Int32Array;
  readonly #keyLens: Int32Array;
  /** Indices of the valid children, heap-ordered; the first #size slots are in use. */
  readonly #heap: number[];
  #size = 0;
  /** 1 while moving forward (min-heap), -1 while moving backward (max-heap). */
  #direction = 1;
  #closed = false;

  constructor(children: InternalIterator[]) {
    this.#children = children.slice();
    this.#keyPtrs = new Int32Array(children.length);
    this.#keyLens = new Int32Array(children.length);
    this.#heap = new Array<number>(children.length).fill(0);
  }

  valid(): boolean {
    this.#checkOpen();
    return this.#size > 0;
  }

  seekToFirst(): void {
    this.#checkOpen();
    for (const child of this.#children) child.seekToFirst();
    this.#rebuild(1);
  }

  seekToLast(): void {
    this.#checkOpen();
    for (const child of this.#children) child.seekToLast();
    this.#rebuild(-1);
  }

  seek(target: Uint8Array): void {
    this.#checkOpen();
    for (const child of this.#children) child.seek(target);
    this.#rebuild(1);
  }

  seekForPrev(target: Uint8Array): void {
    this.#checkOpen();
    for (const child of this.#children) child.seekForPrev(target);
    this.#rebuild(-1);
  }

  next(): void {
    this.#checkOpen();
    if (this.#direction < 0) this.#turn(1);
    const top = this.#top();
    top.next();
    this.#restoreTop(top);
  }

  prev(): void {
    this.#checkOpen();
    if (this.#direction > 0) this.#turn(-1);
    const top = this.#top();
    top.prev();
    this.#restoreTop(top);
  }

  key(): Uint8Array {
    return this.#top().key();
  }

  get keyPtr(): number {
    return this.#keyPtrs[this.#heap[0]!]!;
  }

  get keyLen(): number {
    return this.#keyLens[this.#heap[0]!]!;
  }

  value(): Uint8Array {
    return this.#top().value();
  }

  get valuePtr(): number {
    return this.#top().valuePtr;
  }

  get valueLen(): number {
    return this.#top().valueLen;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#size = 0;
    for (const child of this.#children) child.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('merging iterator used after close');
  }

  #top(): InternalIterator {
    return this.#children[this.#heap[0]!]!;
  }

  /** Restores the heap after the top child `top` moved one step in the heap's direction. */
  #restoreTop(top: InternalIterator): void {
    if (top.valid()) this.#fetchKey(this.#heap[0]!);
    else this.#heap[0] = this.#heap[--this.#size]!;
    this.#siftDown(0);
  }

  /**
   * Turns around at the current key: every other child moves to its entry
   * just past that key in the new direction (strictly past: keys are unique
   * across children), and the heap is rebuilt with the current child on top.
   */
  #turn(direction: number): void {
    // A copy: re-positioning other children may grow memory and detach the view.
    const key = this.key().slice();
    const current = this.#heap[0]!;
    this.#children.forEach((child, i) => {
      if (i === current) return;
      if (direction > 0) child.seek(key);
      else child.seekForPrev(key);
    });
    this.#rebuild(direction);
  }

  #rebuild(direction: number): void {
    this.#direction = direction;
    this.#size = 0;
    this.#children.forEach((child, i) => {
      if (!child.valid()) return;
      this.#fetchKey(i);
      this.#heap[this.#size++] = i;
    });
    for (let i = (this.#size >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  /** Whether heap slot a's child comes before slot b's in the current direction. */
  #before(a: number, b: number): boolean {
    const x = this.#heap[a]!;
    const y = this.#heap[b]!;
    const c = raw.compareInternalKeys(this.#keyPtrs[x]!, this.#keyLens[x]!, this.#keyPtrs[y]!, this.#keyLens[y]!);
    return c * this.#direction < 0;
  }

  /** Takes positioned child i's key pointer: once per move of the child. */
  #fetchKey(i: number): void {
    const child = this.#children[i]!;
    this.#keyPtrs[i] = child.keyPtr;
    this.#keyLens[i] = child.keyLen;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.#size) return;
      const right = left + 1;
      const child = right < this.#size && this.#before(right, left) ? right : left;
      if (!this.#before(child, i)) return;
      const t = heap[i]!;
      heap[i] = heap[child]!;
      heap[child] = t;
      i = child;
    }
  }
}
