// A forward-only merge of table iterators for compaction, where the general
// MergingIterator's cost (two key views and a JavaScript comparison per heap
// step) dominates. Each child's current key is known by where it lies in
// linear memory, read once per move; keys are compared in WebAssembly by
// pointer, and no view or copy is made per entry. A pointer stays valid while
// its child stays on the entry: the child pins the block, and linear memory
// grows in place.
//
// Precondition: internal keys are unique across children.
import type { TableIterator } from '../table/iterator.js';
import { raw } from '../wasm/loader.js';

export class ForwardMerge {
  readonly #children: TableIterator[];
  /** Current key pointer and length of each positioned child. */
  readonly #keyPtrs: Int32Array;
  readonly #keyLens: Int32Array;
  /** Indices of the positioned children, a min-heap by current key; the first #size slots are in use. */
  readonly #heap: Int32Array;
  #size = 0;

  /** Takes ownership of `children`: close() closes them. */
  constructor(children: TableIterator[]) {
    this.#children = children;
    this.#keyPtrs = new Int32Array(children.length);
    this.#keyLens = new Int32Array(children.length);
    this.#heap = new Int32Array(children.length);
  }

  /** Positions every child at its first entry. */
  seekToFirst(): void {
    this.#size = 0;
    this.#children.forEach((child, i) => {
      child.seekToFirst();
      if (this.#load(i)) this.#heap[this.#size++] = i;
    });
    for (let i = (this.#size >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  valid(): boolean {
    return this.#size > 0;
  }

  /** Where the smallest current key lies in linear memory. Precondition: valid(). Valid until the next move. */
  get keyPtr(): number {
    return this.#keyPtrs[this.#heap[0]!]!;
  }

  get keyLen(): number {
    return this.#keyLens[this.#heap[0]!]!;
  }

  /** Where its value lies, as keyPtr. */
  get valuePtr(): number {
    return this.#children[this.#heap[0]!]!.valuePtr;
  }

  get valueLen(): number {
    return this.#children[this.#heap[0]!]!.valueLen;
  }

  /** Precondition: valid(). */
  next(): void {
    const top = this.#heap[0]!;
    this.#children[top]!.next();
    if (!this.#load(top)) this.#heap[0] = this.#heap[--this.#size]!;
    this.#siftDown(0);
  }

  close(): void {
    this.#size = 0;
    for (const child of this.#children) child.close();
  }

  /** Records child i's current key; false when it is past its end. */
  #load(i: number): boolean {
    const child = this.#children[i]!;
    if (!child.valid()) return false;
    this.#keyPtrs[i] = child.keyPtr;
    this.#keyLens[i] = child.keyLen;
    return true;
  }

  #less(a: number, b: number): boolean {
    const x = this.#heap[a]!;
    const y = this.#heap[b]!;
    return raw.compareInternalKeys(this.#keyPtrs[x]!, this.#keyLens[x]!, this.#keyPtrs[y]!, this.#keyLens[y]!) < 0;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.#size) return;
      const right = left + 1;
      const child = right < this.#size && this.#less(right, left) ? right : left;
      if (!this.#less(child, i)) return;
      const t = heap[i]!;
      heap[i] = heap[child]!;
      heap[child] = t;
      i = child;
    }
  }
}
