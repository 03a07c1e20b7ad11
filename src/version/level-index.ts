// A level's file bounds arranged for point lookups: every get searches each
// non-empty level. Keys often share a long prefix ("user:0000..."), so the
// index first finds the bytes every bound of the level shares; a probe key
// that differs from them sorts before or after the whole level at once. Of
// the rest, each bound's next six bytes are kept as an integer (below 2^53,
// so exact in a double), and a probe's once per search, so nearly every step
// of a search is one comparison of two numbers; only bounds that tie on those
// bytes are compared byte by byte. Bounds follow src/version/bounds.ts: a
// largest key may be an exclusive sentinel, or mean "no upper bound".
import { TRAILER_SIZE, compareBytes } from '../keys.js';
import type { FileMetadata } from './edit.js';
import { isExclusiveBound, isUnbounded } from './bounds.js';
import { view } from '../wasm/heap.js';

const Upper = { Inclusive: 0, Exclusive: 1, Unbounded: 2 } as const;
const PREFIX_BYTES = 6;

/**
 * The six bytes of key from `from`, zero-padded, big-endian. Of two keys that
 * agree before `from`, the prefixes order as the keys do wherever they
 * differ; equal prefixes decide nothing.
 */
function prefixAt(key: Uint8Array, from: number): number {
  let p = 0;
  for (let i = from; i < from + PREFIX_BYTES; i++) p = p * 256 + (i < key.length ? key[i]! : 0);
  return p;
}

/** Length of the prefix every key in `keys` shares (0 for none). */
function sharedPrefixLength(keys: Uint8Array[]): number {
  if (keys.length === 0) return 0;
  const first = keys[0]!;
  let n = first.length;
  for (const k of keys) {
    n = Math.min(n, k.length);
    let i = 0;
    while (i < n && k[i] === first[i]) i++;
    n = i;
  }
  return n;
}

/** Bounds of a level's files, in its order; each shares the level's prefix. */
class Bounds {
  readonly #prefixes: Float64Array;
  readonly #keys: Uint8Array[];

  /** `userKeys[i]` is file i's bound; prefixes are taken from byte `shared` on. */
  constructor(userKeys: Uint8Array[], shared: number) {
    this.#keys = userKeys;
    this.#prefixes = Float64Array.from(userKeys, (k) => prefixAt(k, shared));
  }

  /** Sign of bound i against the probe key, whose prefix (see LevelIndex.#prefixOf) is `prefix`. */
  compare(i: number, prefix: number, key: Uint8Array): number {
    const d = this.#prefixes[i]! - prefix;
    return d !== 0 ? d : compareBytes(this.#keys[i]!, key);
  }

  get length(): number {
    return this.#keys.length;
  }
}

export class LevelIndex {
  readonly #smallest: Bounds;
  readonly #largest: Bounds;
  readonly #upper: Uint8Array;
  /** The bytes every compared bound starts with (unbounded ends are never compared). */
  readonly #shared: Uint8Array;
  /** #shared's whole 4-byte words, big-endian, for keys staged in linear memory. */
  readonly #sharedWords: number[] = [];

  constructor(files: readonly FileMetadata[]) {
    const userKey = (k: Uint8Array) => k.subarray(0, k.length - TRAILER_SIZE);
    const smallest = files.map((f) => userKey(f.smallest));
    const largest = files.map((f) => userKey(f.largest));
    this.#upper = Uint8Array.from(files, (f) => (isUnbounded(f.largest) ? Upper.Unbounded : isExclusiveBound(f.largest) ? Upper.Exclusive : Upper.Inclusive));
    const compared = [...smallest, ...largest.filter((_, i) => this.#upper[i] !== Upper.Unbounded)];
    const shared = sharedPrefixLength(compared);
    this.#shared = compared.length === 0 ? new Uint8Array(0) : compared[0]!.subarray(0, shared);
    this.#smallest = new Bounds(smallest, shared);
    this.#largest = new Bounds(largest, shared);
    const bytes = this.#shared;
    for (let i = 0; i + 4 <= bytes.length; i += 4) this.#sharedWords.push(((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0);
  }

  /**
   * Writes to `out` from index `at`, in order, each of `files` (the files
   * this index was made of) whose range contains `key`; returns how many.
   * `staged`, when given, is the address of a copy of the key in linear
   * memory (a point read's, src/point-lookup.ts), read a word at a time.
   */
  collectContaining(key: Uint8Array, files: readonly FileMetadata[], out: FileMetadata[], staged?: number, at = 0): number {
    const prefix = staged === undefined ? this.#prefixOf(key) : this.#prefixOfStaged(key, staged);
    let n = at;
    for (let i = 0; i < files.length; i++) if (this.#containsAt(i, prefix, key)) out[n++] = files[i]!;
    return n - at;
  }

  /** For a sorted, disjoint level: the index of the file whose range contains `key`, or -1. `staged` as for collectContaining. */
  find(key: Uint8Array, staged?: number): number {
    const prefix = staged === undefined ? this.#prefixOf(key) : this.#prefixOfStaged(key, staged);
    const i = this.#firstReaching(prefix, key);
    return i < this.#largest.length && this.#smallest.compare(i, prefix, key) <= 0 ? i : -1;
  }

  /** For a sorted, disjoint level: the first file whose upper bound is at or past `key` (the file count when none is). */
  firstReaching(key: Uint8Array): number {
    return this.#firstReaching(this.#prefixOf(key), key);
  }

  /**
   * The key's six bytes after the shared prefix when it starts with it;
   * else -Infinity or +Infinity, as it sorts before or after every bound,
   * which makes every comparison with a bound's prefix decide.
   */
  #prefixOf(key: Uint8Array): number {
    const shared = this.#shared;
    const n = Math.min(shared.length, key.length);
    for (let i = 0; i < n; i++) if (key[i] !== shared[i]) return key[i]! < shared[i]! ? -Infinity : Infinity;
    // A key that is a proper prefix of the shared bytes gets 0: at most a tie, which compareBytes decides.
    return prefixAt(key, shared.length);
  }

  /**
   * #prefixOf of a key whose copy is at `at` in linear memory: the same
   * number, from 4-byte big-endian words where a byte loop costs four times
   * as much (a word orders as its first differing byte does).
   */
  #prefixOfStaged(key: Uint8Array, at: number): number {
    const shared = this.#shared;
    if (key.length < shared.length + PREFIX_BYTES) return this.#prefixOf(key);
    const dv = view();
    const words = this.#sharedWords;
    for (let w = 0; w < words.length; w++) {
      const k = dv.getUint32(at + 4 * w, false);
      if (k !== words[w]) return k < words[w]! ? -Infinity : Infinity;
    }
    for (let i = 4 * words.length; i < shared.length; i++) {
      if (key[i] !== shared[i]) return key[i]! < shared[i]! ? -Infinity : Infinity;
    }
    return dv.getUint32(at + shared.length, false) * 65536 + dv.getUint16(at + shared.length + 4, false);
  }

  #firstReaching(prefix: number, key: Uint8Array): number {
    let lo = 0;
    let hi = this.#largest.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#reaches(mid, prefix, key)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #containsAt(i: number, prefix: number, key: Uint8Array): boolean {
    return this.#smallest.compare(i, prefix, key) <= 0 && this.#reaches(i, prefix, key);
  }

  /** Whether file i's upper bound is at or past the key. */
  #reaches(i: number, prefix: number, key: Uint8Array): boolean {
    const upper = this.#upper[i]!;
    if (upper === Upper.Unbounded) return true;
    const c = this.#largest.compare(i, prefix, key);
    return upper === Upper.Inclusive ? c >= 0 : c > 0;
  }
}
