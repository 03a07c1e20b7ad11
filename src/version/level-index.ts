// A level's file bounds as byte strings (one char per byte, so string order
// is bytewise order), for point lookups: every get searches each level, and
// JavaScript compares strings natively (a few ns) where a loop over two
// Uint8Arrays costs ~4 ns a byte. A user key is turned into a string once per
// get. Bounds follow src/version/bounds.ts: a largest key may be an exclusive
// sentinel, or mean "no upper bound".
import { TRAILER_SIZE } from '../keys.js';
import type { FileMetadata } from './edit.js';
import { isExclusiveBound, isUnbounded } from './bounds.js';

const Upper = { Inclusive: 0, Exclusive: 1, Unbounded: 2 } as const;

/** bytes[start, end) as a string of char codes 0..255. */
export function byteString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  // In chunks: apply() takes its arguments on the stack.
  for (let i = start; i < end; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  return s;
}

export class LevelIndex {
  readonly #smallest: string[];
  readonly #largest: string[];
  readonly #upper: Uint8Array;

  constructor(files: readonly FileMetadata[]) {
    this.#smallest = files.map((f) => byteString(f.smallest, 0, f.smallest.length - TRAILER_SIZE));
    this.#largest = files.map((f) => byteString(f.largest, 0, f.largest.length - TRAILER_SIZE));
    this.#upper = Uint8Array.from(files, (f) => (isUnbounded(f.largest) ? Upper.Unbounded : isExclusiveBound(f.largest) ? Upper.Exclusive : Upper.Inclusive));
  }

  /** Whether file i's range contains `key` (a byteString of a user key). */
  contains(i: number, key: string): boolean {
    return this.#smallest[i]! <= key && this.#reaches(i, key);
  }

  /** For a sorted, disjoint level: the index of the file whose range contains `key`, or -1. */
  find(key: string): number {
    let lo = 0;
    let hi = this.#largest.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#reaches(mid, key)) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.#largest.length && this.#smallest[lo]! <= key ? lo : -1;
  }

  /** Whether file i's upper bound is at or past `key`. */
  #reaches(i: number, key: string): boolean {
    const upper = this.#upper[i]!;
    if (upper === Upper.Inclusive) return this.#largest[i]! >= key;
    return upper === Upper.Unbounded || this.#largest[i]! > key;
  }
}
