// The merging iterator: one ordered stream over several InternalIterators
// (the memtable, immutable memtables, tables). Internal keys are unique
// across sources (each write has its own sequence), so no two children are
// ever positioned on equal keys.
//
// The children that are positioned sit in a binary heap keyed by their
// current key: a min-heap while moving forward, a max-heap while moving
// backward; the top is the current entry. Turning around re-positions every
// other child relative to the current key, as LevelDB's MergingIterator does.
import { ClosedError } from '../errors.js';
import { compareInternalKeys } from '../keys.js';
import type { InternalIterator } from './internal.js';

/** A cached key that must be fetched again: internal keys are never empty, and views of grown memory read as length 0. */
const STALE = new Uint8Array(0);

export class MergingIterator implements InternalIterator {
  readonly #children: InternalIterator[];
  /** Each child's current key, fetched once per move (a view per comparison is what costs). */
  readonly #keys: Uint8Array[];
  /** Indices of the valid children, heap-ordered; the first #size slots are in use. */
  readonly #heap: number[];
  #size = 0;
  /** 1 while moving forward (min-heap), -1 while moving backward (max-heap). */
  #direction = 1;
  #closed = false;

  constructor(children: InternalIterator[]) {
    this.#children = children.slice();
    this.#keys = children.map(() => STALE);
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
    this.#keys[this.#heap[0]!] = STALE;
    this.#restoreTop(top);
  }

  prev(): void {
    this.#checkOpen();
    if (this.#direction > 0) this.#turn(-1);
    const top = this.#top();
    top.prev();
    this.#keys[this.#heap[0]!] = STALE;
    this.#restoreTop(top);
  }

  key(): Uint8Array {
    return this.#keyOf(this.#heap[0]!);
  }

  value(): Uint8Array {
    return this.#top().value();
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
    if (!top.valid()) this.#heap[0] = this.#heap[--this.#size]!;
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
    this.#keys.fill(STALE);
    this.#children.forEach((child, i) => {
      if (child.valid()) this.#heap[this.#size++] = i;
    });
    for (let i = (this.#size >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  /** Whether heap slot a's child comes before slot b's in the current direction. */
  #before(a: number, b: number): boolean {
    const c = compareInternalKeys(this.#keyOf(this.#heap[a]!), this.#keyOf(this.#heap[b]!));
    return c * this.#direction < 0;
  }

  #keyOf(child: number): Uint8Array {
    const key = this.#keys[child]!;
    return key.length > 0 ? key : (this.#keys[child] = this.#children[child]!.key());
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
