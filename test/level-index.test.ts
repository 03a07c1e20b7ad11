import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kind, makeInternalKey } from '../src/keys.js';
import type { FileMetadata } from '../src/version/edit.js';
import { compareLargestToUserKey, exclusiveBound } from '../src/version/bounds.js';
import { LevelIndex } from '../src/version/level-index.js';
import { Region, u8 } from '../src/wasm/heap.js';

/** A copy of `key` in linear memory, as a point read stages its key: its address (valid until the next call). */
const stagedRegion = new Region(64);
function staged(key: Uint8Array): number {
  const at = stagedRegion.ensure(key.length + 8);
  u8().set(key, at);
  // Bytes after the key (a trailer, in a point read) must not count as key bytes.
  u8().fill(0xee, at + key.length, at + key.length + 8);
  return at;
}

// Keys drawn from a few bytes and a long shared stem, so that many keys tie
// on the six-byte prefixes the index compares first and are told apart by
// the bytes after, or by length alone.
const STEM = [7, 7, 7, 7, 7, 7, 7];
const keyArb = fc
  .tuple(fc.integer({ min: 0, max: STEM.length }), fc.array(fc.constantFrom(0, 7, 8, 255), { maxLength: 4 }))
  .map(([stem, tail]) => new Uint8Array([...STEM.slice(0, stem), ...tail]));

type Upper = { kind: 'inclusive' | 'exclusive'; key: Uint8Array } | { kind: 'unbounded' };

const compare = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

function file(number: number, smallest: Uint8Array, upper: Upper): FileMetadata {
  const largest =
    upper.kind === 'unbounded' ? exclusiveBound(undefined) : upper.kind === 'exclusive' ? exclusiveBound(upper.key) : makeInternalKey(upper.key, 1, Kind.Value);
  return { number, size: 1, smallest: makeInternalKey(smallest, 9, Kind.Value), largest, smallestSeq: 1, largestSeq: 9 };
}

/** The model: file f holds `key` when smallest <= key and its upper bound reaches key, by the bounds module's own comparison. */
const holds = (f: FileMetadata, key: Uint8Array): boolean =>
  compare(f.smallest.subarray(0, f.smallest.length - 8), key) <= 0 && compareLargestToUserKey(f.largest, key) >= 0;

/** Files of a sorted, disjoint level cut from sorted distinct keys: [k0, k1], (k2, k3) exclusive, ..., the last maybe unbounded. */
const sortedLevelArb = fc
  .tuple(fc.uniqueArray(keyArb, { minLength: 2, maxLength: 24, comparator: (a, b) => compare(a, b) === 0 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.boolean())
  .map(([keys, exclusive, unboundedLast]) => {
    keys.sort(compare);
    const files: FileMetadata[] = [];
    for (let i = 0; i + 1 < keys.length; i += 2) {
      const last = i + 3 >= keys.length;
      const upper: Upper = last && unboundedLast ? { kind: 'unbounded' } : { kind: exclusive[i >> 1] ? 'exclusive' : 'inclusive', key: keys[i + 1]! };
      // An exclusive end equal to its start would hold nothing; such a file is never written.
      if (upper.kind === 'exclusive' && compare(upper.key, keys[i]!) === 0) continue;
      files.push(file(files.length, keys[i]!, upper));
    }
    return files;
  });

describe('LevelIndex', () => {
  it('finds the one file of a sorted level holding a key, as a linear scan does', () => {
    fc.assert(
      fc.property(sortedLevelArb, fc.array(keyArb, { minLength: 1, maxLength: 30 }), (files, probes) => {
        const index = new LevelIndex(files);
        for (const key of [...probes, ...files.map((f) => f.smallest.subarray(0, f.smallest.length - 8))]) {
          expect(index.find(key)).toBe(files.findIndex((f) => holds(f, key)));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('finds the file when every bound shares a long prefix, for probes with it, with part of it, and without it', () => {
    const SHARED = [9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
    const withShared = (k: Uint8Array) => new Uint8Array([...SHARED, ...k]);
    // Probes: the shared bytes and a tail, a cut of them (a proper prefix of every bound), or other bytes.
    const probeArb = fc.oneof(
      keyArb.map(withShared),
      fc.integer({ min: 0, max: SHARED.length }).map((n) => new Uint8Array(SHARED.slice(0, n))),
      fc.tuple(fc.integer({ min: 0, max: SHARED.length - 1 }), fc.constantFrom(0, 8, 10, 255), keyArb).map(([n, b, k]) => new Uint8Array([...SHARED.slice(0, n), b, ...k])),
    );
    fc.assert(
      fc.property(sortedLevelArb, fc.array(probeArb, { minLength: 1, maxLength: 30 }), (level, probes) => {
        const files = level.map((f) => ({ ...f, smallest: withShared(f.smallest), largest: f.largest.length === 8 ? f.largest : withShared(f.largest) }));
        const index = new LevelIndex(files);
        for (const key of probes) {
          const expected = files.findIndex((f) => holds(f, key));
          expect(index.find(key)).toBe(expected);
          expect(index.find(key, staged(key))).toBe(expected);
        }
        for (const key of probes) {
          const reaching = files.findIndex((f) => compareLargestToUserKey(f.largest, key) >= 0);
          expect(index.firstReaching(key)).toBe(reaching < 0 ? files.length : reaching);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('says which files of an overlapping level hold a key, as a linear scan does', () => {
    const fileArb = fc.tuple(keyArb, keyArb, fc.constantFrom<Upper['kind']>('inclusive', 'exclusive', 'unbounded')).map(([a, b, kind]) => {
      const [lo, hi] = compare(a, b) <= 0 ? [a, b] : [b, a];
      return { lo, upper: (kind === 'unbounded' ? { kind } : { kind, key: hi }) as Upper };
    });
    fc.assert(
      fc.property(fc.array(fileArb, { minLength: 1, maxLength: 10 }), fc.array(keyArb, { minLength: 1, maxLength: 30 }), (specs, probes) => {
        const files = specs.map((s, i) => file(i, s.lo, s.upper));
        const index = new LevelIndex(files);
        // One array for every probe, as the read path reuses one: slots past the count are stale.
        const out: typeof files = [];
        for (const key of probes) {
          const n = index.collectContaining(key, files, out);
          expect(out.slice(0, n)).toEqual(files.filter((f) => holds(f, key)));
          const m = index.collectContaining(key, files, out, staged(key));
          expect(out.slice(0, m)).toEqual(files.filter((f) => holds(f, key)));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('orders keys that agree in their first six bytes by the bytes after them and by length', () => {
    const level = [file(0, new Uint8Array([1, 2, 3, 4, 5, 6, 1]), { kind: 'inclusive', key: new Uint8Array([1, 2, 3, 4, 5, 6, 1, 9]) }), file(1, new Uint8Array([1, 2, 3, 4, 5, 6, 2]), { kind: 'exclusive', key: new Uint8Array([1, 2, 3, 4, 5, 6, 3]) })];
    const index = new LevelIndex(level);
    const find = (...bytes: number[]): number => index.find(new Uint8Array(bytes));
    expect(find(1, 2, 3, 4, 5, 6)).toBe(-1);
    expect(find(1, 2, 3, 4, 5, 6, 1)).toBe(0);
    expect(find(1, 2, 3, 4, 5, 6, 1, 9)).toBe(0);
    expect(find(1, 2, 3, 4, 5, 6, 1, 9, 0)).toBe(-1);
    expect(find(1, 2, 3, 4, 5, 6, 2, 200)).toBe(1);
    expect(find(1, 2, 3, 4, 5, 6, 3)).toBe(-1);
    expect(find(1, 2, 3, 4, 5, 5, 255)).toBe(-1);
  });
});
