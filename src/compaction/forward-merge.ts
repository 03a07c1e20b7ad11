// A forward-only merge of table iterators for compaction, where the general
// MergingIterator's cost (two key views and a JavaScript comparison per heap
// step) dominates. Each child's current key view is fetched once per move
// and kept; keys are compared in WebAssembly by pointer. A kept view reads
// as length 0 once linear memory grows (internal keys are never empty), and
// is then fetched again.
//
// Precondition: every child returns key() as a view of linear memory (table
// iterators do). Internal keys are unique across children.
import type { InternalIterator } from '../iterator/internal.js';
import { raw } from '../wasm/loader.js';

const STALE = new Uint8Array(0);

export class ForwardMerge {
  readonly #children: InternalIterator[];
  /** Current key view of each positioned child; STALE when it must be fetched. */
  readonly #keys: Uint8Array[];
  /** Indices of the positioned children, a min-heap by current key; the first #size slots are in use. */
  readonly #heap: number[];
  #size = 0;

  /** Takes ownership of `children`: close() closes them. */
  constructor(children: InternalIterator[]) {
    this.#children = children;
    this.#keys = children.map(() => STALE);
    this.#heap = children.map(() => 0);
  }

  /** Positions every child at its first entry. */
  seekToFirst(): void {
    this.#size = 0;
    this.#children.forEach((child, i) => {
      child.seekToFirst();
      this.#keys[i] = STALE;
      if (child.valid()) this.#heap[this.#size++] = i;
    });
    for (let i = (this.#size >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  valid(): boolean {
    return this.#size > 0;
  }

  /** The smallest current key. Precondition: valid(). Valid until the next move or allocation. */
  key(): Uint8Array {
    return this.#keyOf(this.#heap[0]!);
  }

  /** Its value. Precondition: valid(). Valid until the next move or allocation. */
  value(): Uint8Array {
    return this.#children[this.#heap[0]!]!.value();
  }

  /** Precondition: valid(). */
  next(): void {
    const top = this.#heap[0]!;
    const child = this.#children[top]!;
    child.next();
    this.#keys[top] = STALE;
    if (!child.valid()) this.#heap[0] = this.#heap[--this.#size]!;
    this.#siftDown(0);
  }

  close(): void {
    this.#size = 0;
    for (const child of this.#children) child.close();
  }

  #keyOf(i: number): Uint8Array {
    let key = this.#keys[i]!;
    if (key.length === 0) key = this.#keys[i] = this.#children[i]!.key();
    return key;
  }

  #less(a: number, b: number): boolean {
    const ka = this.#keyOf(this.#heap[a]!);
    const kb = this.#keyOf(this.#heap[b]!);
    return raw.compareInternalKeys(ka.byteOffset, ka.length, kb.byteOffset, kb.length) < 0;
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
