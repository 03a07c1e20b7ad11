// A level's file bounds arranged for point lookups: every get searches each
// non-empty level. Each bound's first six bytes are kept as an integer (below
// 2^53, so exact in a double), and a probe key's once per get, so nearly every
// step of a search is one comparison of two numbers; only bounds that share a
// probe's first six bytes are compared byte by byte. Bounds follow
// src/version/bounds.ts: a largest key may be an exclusive sentinel, or mean
// "no upper bound".
import { TRAILER_SIZE, compareBytes } from '../keys.js';
import type { FileMetadata } from './edit.js';
import { isExclusiveBound, isUnbounded } from './bounds.js';

const Upper = { Inclusive: 0, Exclusive: 1, Unbounded: 2 } as const;
const PREFIX_BYTES = 6;

/**
 * The first six bytes of key[0, length), zero-padded, big-endian. Prefixes
 * order as the keys do wherever they differ; equal prefixes decide nothing.
 */
function prefixOf(key: Uint8Array, length: number): number {
  let p = 0;
  for (let i = 0; i < PREFIX_BYTES; i++) p = p * 256 + (i < length ? key[i]! : 0);
  return p;
}

/** A user key made ready for searching level indexes; made once per lookup. */
export class KeyProbe {
  readonly key: Uint8Array;
  readonly prefix: number;

  constructor(userKey: Uint8Array) {
    this.key = userKey;
    this.prefix = prefixOf(userKey, userKey.length);
  }
}

/** Bounds of a level's files, in its order. */
class Bounds {
  readonly #prefixes: Float64Array;
  readonly #keys: Uint8Array[];

  /** `internalKeys[i]` is file i's bound; the user-key part is kept, as a view. */
  constructor(internalKeys: Uint8Array[]) {
    this.#keys = internalKeys.map((k) => k.subarray(0, k.length - TRAILER_SIZE));
    this.#prefixes = Float64Array.from(this.#keys, (k) => prefixOf(k, k.length));
  }

  /** Sign of bound i against the probe's key. */
  compare(i: number, probe: KeyProbe): number {
    const d = this.#prefixes[i]! - probe.prefix;
    return d !== 0 ? d : compareBytes(this.#keys[i]!, probe.key);
  }

  get length(): number {
    return this.#keys.length;
  }
}

export class LevelIndex {
  readonly #smallest: Bounds;
  readonly #largest: Bounds;
  readonly #upper: Uint8Array;

  constructor(files: readonly FileMetadata[]) {
    this.#smallest = new Bounds(files.map((f) => f.smallest));
    this.#largest = new Bounds(files.map((f) => f.largest));
    this.#upper = Uint8Array.from(files, (f) => (isUnbounded(f.largest) ? Upper.Unbounded : isExclusiveBound(f.largest) ? Upper.Exclusive : Upper.Inclusive));
  }

  /** Whether file i's range contains the probe's key. */
  contains(i: number, probe: KeyProbe): boolean {
    return this.#smallest.compare(i, probe) <= 0 && this.#reaches(i, probe);
  }

  /** For a sorted, disjoint level: the index of the file whose range contains the probe's key, or -1. */
  find(probe: KeyProbe): number {
    const i = this.firstReaching(probe);
    return i < this.#largest.length && this.#smallest.compare(i, probe) <= 0 ? i : -1;
  }

  /** For a sorted, disjoint level: the first file whose upper bound is at or past the probe's key (the file count when none is). */
  firstReaching(probe: KeyProbe): number {
    let lo = 0;
    let hi = this.#largest.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#reaches(mid, probe)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Whether file i's upper bound is at or past the probe's key. */
  #reaches(i: number, probe: KeyProbe): boolean {
    const upper = this.#upper[i]!;
    if (upper === Upper.Unbounded) return true;
    const c = this.#largest.compare(i, probe);
    return upper === Upper.Inclusive ? c >= 0 : c > 0;
  }
}
