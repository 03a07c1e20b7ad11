import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidArgumentError } from '../src/errors.js';
import { type CacheHandle, type CacheRef, LruCache } from '../src/cache/lru.js';

// ---- The model: arrays and a map, no linked lists ----

interface ModelEntry {
  value: number;
  charge: number;
  pins: number;
  cached: boolean;
}

class Model {
  /** Cached entries by key. */
  cached = new Map<number, ModelEntry>();
  /** Keys of unpinned cached entries, least recently unpinned first. */
  recency: number[] = [];
  disposed: number[] = [];
  evictions = 0;
  /** Keys used since last asked, as a mirror of the cache (CacheHooks) sees them: kept once more at eviction. */
  used = new Set<number>();

  constructor(public capacity: number) {}

  usage(): number {
    let sum = 0;
    for (const e of this.cached.values()) sum += e.charge;
    return sum;
  }

  lookup(key: number): ModelEntry | undefined {
    const e = this.cached.get(key);
    if (e) this.pin(key, e);
    return e;
  }

  insert(key: number, value: number, charge: number): ModelEntry {
    const old = this.cached.get(key);
    const e = { value, charge, pins: 1, cached: true };
    this.cached.set(key, e);
    if (old) this.drop(key, old);
    this.used.delete(key);
    this.evict();
    return e;
  }

  /** A hit the cache does not see (through its mirror). */
  use(key: number): void {
    if (this.cached.has(key)) this.used.add(key);
  }

  release(key: number, e: ModelEntry): void {
    e.pins--;
    if (e.pins > 0) return;
    if (e.cached) {
      this.recency.push(key);
      this.evict();
    } else {
      this.disposed.push(e.value);
    }
  }

  erase(key: number): void {
    const e = this.cached.get(key);
    if (!e) return;
    this.cached.delete(key);
    this.drop(key, e);
  }

  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.evict();
  }

  private pin(key: number, e: ModelEntry): void {
    if (e.pins === 0) this.recency.splice(this.recency.indexOf(key), 1);
    e.pins++;
  }

  private drop(key: number, e: ModelEntry): void {
    e.cached = false;
    this.used.delete(key);
    if (e.pins > 0) return;
    this.recency.splice(this.recency.indexOf(key), 1);
    this.disposed.push(e.value);
  }

  private evict(): void {
    while (this.usage() > this.capacity && this.recency.length > 0) {
      const key = this.recency[0]!;
      if (this.used.delete(key)) {
        this.recency.push(this.recency.shift()!);
        continue;
      }
      const e = this.cached.get(key)!;
      this.cached.delete(key);
      this.evictions++;
      this.drop(key, e);
    }
  }
}

type Op =
  | { op: 'lookup'; key: number }
  | { op: 'pinRef'; pick: number }
  | { op: 'insert'; key: number; charge: number }
  | { op: 'release'; pick: number }
  | { op: 'erase'; key: number }
  | { op: 'eraseIf'; modulus: number }
  | { op: 'setCapacity'; capacity: number }
  | { op: 'use'; key: number };

const keyArb = fc.integer({ min: 0, max: 12 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: keyArb.map((key) => ({ op: 'lookup' as const, key })) },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ op: 'pinRef' as const, pick })) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), key: keyArb, charge: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 5, arbitrary: fc.nat().map((pick) => ({ op: 'release' as const, pick })) },
  { weight: 1, arbitrary: keyArb.map((key) => ({ op: 'erase' as const, key })) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 5 }).map((modulus) => ({ op: 'eraseIf' as const, modulus })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }).map((capacity) => ({ op: 'setCapacity' as const, capacity })) },
  { weight: 2, arbitrary: keyArb.map((key) => ({ op: 'use' as const, key })) },
);

interface Held {
  handle: CacheHandle<number>;
  model: ModelEntry;
}

describe('LruCache against a model', () => {
  it('keeps the same entries, recency, disposals and counters as the model', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.array(opArb, { maxLength: 120 }), (capacity, ops) => {
        const model = new Model(capacity);
        const disposed: number[] = [];
        const pins = new Map<number, number>(); // value -> outstanding handles
        // What a mirror of the cache (the block map) would hold, kept by the hooks, and its used marks.
        const mirror = new Map<number, number>();
        const used = new Set<number>();
        const cache = new LruCache<number>(
          capacity,
          (value) => {
            // Never disposed while pinned, never twice, never while mirrored.
            expect(pins.get(value) ?? 0).toBe(0);
            expect(disposed).not.toContain(value);
            expect([...mirror.values()]).not.toContain(value);
            disposed.push(value);
          },
          {
            cached: (key, value) => {
              mirror.set(key, value);
              used.delete(key);
            },
            uncached: (key, value) => {
              expect(mirror.get(key)).toBe(value);
              mirror.delete(key);
              used.delete(key);
            },
            usedSince: (key) => used.delete(key),
          },
        );
        const held: Held[] = [];
        // Refs kept from every handle ever pinned, as a table reader keeps them, with the model's entry.
        const refs: { ref: CacheRef; model: ModelEntry; key: number }[] = [];
        let nextValue = 0;
        const pin = (handle: CacheHandle<number>, entry: ModelEntry): void => {
          expect(handle.value).toBe(entry.value);
          pins.set(handle.value, (pins.get(handle.value) ?? 0) + 1);
          held.push({ handle, model: entry });
          refs.push({ ref: cache.refOf(handle), model: entry, key: handle.key });
        };

        for (const o of ops) {
          switch (o.op) {
            case 'lookup': {
              const h = cache.lookup(o.key);
              const m = model.lookup(o.key);
              expect(h === undefined).toBe(m === undefined);
              if (h && m) pin(h, m);
              break;
            }
            case 'pinRef': {
              if (refs.length === 0) break;
              const { ref, model: m, key } = refs[o.pick % refs.length]!;
              // A ref reads as cached exactly while the model holds its entry; pinning it is a lookup hit.
              expect(ref.cached).toBe(m.cached);
              if (!ref.cached) {
                expect(() => cache.pinRef(ref)).toThrow(InvalidArgumentError);
                break;
              }
              const hits = cache.stats.hits;
              const h = cache.pinRef(ref);
              expect(cache.stats.hits).toBe(hits + 1);
              expect(model.lookup(key)).toBe(m);
              pin(h, m);
              break;
            }
            case 'insert': {
              const value = nextValue++;
              // Count the pin before the call: insert may dispose others, never this one.
              pins.set(value, 1);
              const h = cache.insert(o.key, value, o.charge);
              const m = model.insert(o.key, value, o.charge);
              pins.set(value, 0);
              pin(h, m);
              break;
            }
            case 'release': {
              if (held.length === 0) break;
              const [{ handle, model: m }] = held.splice(o.pick % held.length, 1) as [Held];
              pins.set(handle.value, pins.get(handle.value)! - 1);
              cache.release(handle);
              model.release(handle.key, m);
              break;
            }
            case 'erase':
              cache.erase(o.key);
              model.erase(o.key);
              break;
            case 'eraseIf': {
              const doomed = [...model.cached.keys()].filter((k) => k % o.modulus === 0);
              expect(cache.eraseIf((k) => k % o.modulus === 0)).toBe(doomed.length);
              for (const k of doomed) model.erase(k);
              break;
            }
            case 'setCapacity':
              cache.setCapacity(o.capacity);
              model.setCapacity(o.capacity);
              break;
            case 'use':
              if (mirror.has(o.key)) used.add(o.key);
              model.use(o.key);
              break;
          }
          expect(new Map([...model.cached].map(([k, e]) => [k, e.value]))).toEqual(mirror);
          expect(disposed).toEqual(model.disposed);
          expect(cache.usage).toBe(model.usage());
          expect(cache.size).toBe(model.cached.size);
          expect(cache.stats.evictions).toBe(model.evictions);
          // Capacity is exceeded only while every cached entry is pinned.
          if (cache.usage > cache.capacity) expect(model.recency).toEqual([]);
        }

        // Capacity 0 evicts every unpinned entry, least recently released first.
        cache.setCapacity(0);
        model.setCapacity(0);
        expect(disposed).toEqual(model.disposed);
        // Releasing everything and erasing the rest disposes every value exactly once.
        for (const { handle } of held) {
          pins.set(handle.value, pins.get(handle.value)! - 1);
          cache.release(handle);
        }
        cache.eraseIf(() => true);
        expect([...disposed].sort((a, b) => a - b)).toEqual(Array.from({ length: nextValue }, (_, i) => i));
        expect(cache.usage).toBe(0);
        expect(cache.size).toBe(0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('LruCache', () => {
  it('evicts the least recently released entry first', () => {
    const evicted: string[] = [];
    const cache = new LruCache<string>(3, (v) => evicted.push(v));
    for (const [k, v] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) cache.release(cache.insert(k, v, 1));
    cache.release(cache.lookup(1)!); // 1 is now the most recent
    cache.release(cache.insert(4, 'd', 1));
    expect(evicted).toEqual(['b']);
    cache.release(cache.insert(5, 'e', 1));
    expect(evicted).toEqual(['b', 'c']);
    expect(cache.lookup(2)).toBeUndefined();
    expect(cache.stats).toEqual({ hits: 1, misses: 1, inserts: 5, evictions: 2 });
  });

  it('never disposes a pinned value; replacement and erase wait for the last pin', () => {
    const disposed: string[] = [];
    const cache = new LruCache<string>(1, (v) => disposed.push(v));
    const a = cache.insert(7, 'a', 1);
    const a2 = cache.lookup(7)!;
    const b = cache.insert(7, 'b', 1); // replaces 'a' while it is pinned twice
    expect(cache.lookup(7)?.value).toBe('b');
    cache.release(a);
    expect(disposed).toEqual([]);
    cache.release(a2);
    expect(disposed).toEqual(['a']);
    expect(cache.erase(7)).toBe(true);
    expect(disposed).toEqual(['a']); // 'b' still pinned by b and by the lookup above
    cache.release(b);
    expect(disposed).toEqual(['a']);
  });

  it('lets pinned entries exceed the capacity and evicts them once released', () => {
    const disposed: number[] = [];
    const cache = new LruCache<number>(10, (v) => disposed.push(v));
    const big = cache.insert(1, 100, 25);
    expect(cache.usage).toBe(25);
    cache.release(big);
    expect(disposed).toEqual([100]);
    expect(cache.usage).toBe(0);
  });

  it('refuses double release, foreign handles and bad amounts', () => {
    const cache = new LruCache<number>(10, () => {});
    const other = new LruCache<number>(10, () => {});
    const h = cache.insert(1, 1, 1);
    expect(() => other.release(h)).toThrow(InvalidArgumentError);
    cache.release(h);
    expect(() => cache.release(h)).toThrow(InvalidArgumentError);
    expect(() => cache.release({ key: 1, value: 1 })).toThrow(InvalidArgumentError);
    expect(() => cache.insert(2, 2, -1)).toThrow(InvalidArgumentError);
    expect(() => cache.insert(2, 2, Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => new LruCache<number>(Number.POSITIVE_INFINITY, () => {})).toThrow(InvalidArgumentError);
  });

  it('pins a kept ref again only while its entry is cached, and only in its own cache', () => {
    const cache = new LruCache<string>(1, () => {});
    const other = new LruCache<string>(1, () => {});
    const h = cache.insert(1, 'a', 1);
    const ref = cache.refOf(h);
    cache.release(h);
    expect(() => cache.refOf(h)).toThrow(InvalidArgumentError); // released
    expect(() => other.pinRef(ref)).toThrow(InvalidArgumentError);
    const again = cache.pinRef(ref);
    expect(again.value).toBe('a');
    cache.release(again);
    cache.release(cache.insert(2, 'b', 1)); // evicts 'a'
    expect(ref.cached).toBe(false);
    expect(() => cache.pinRef(ref)).toThrow(InvalidArgumentError);
  });

  it('does O(1) work per operation: a cache 64 times larger costs about the same per operation', () => {
    // Wall time on a shared machine is noisy, so the test compares two sizes, each at its
    // fastest of three trials: a cost linear in the entry count would show as a ratio near 64.
    const nsPerOp = (capacity: number): number => {
      let best = Number.POSITIVE_INFINITY;
      for (let trial = 0; trial < 3; trial++) {
        const cache = new LruCache<number>(capacity, () => {});
        const n = 2 * capacity;
        const start = performance.now();
        for (let i = 0; i < n; i++) {
          cache.release(cache.insert(i, i, 1));
          const h = cache.lookup(i - (capacity >> 1));
          if (h) cache.release(h);
        }
        best = Math.min(best, ((performance.now() - start) * 1e6) / (2 * n));
        expect(cache.size).toBe(capacity);
      }
      return best;
    };
    nsPerOp(1024); // warm up the JIT before measuring
    const small = nsPerOp(1024);
    const large = nsPerOp(65_536);
    expect(large / small).toBeLessThan(8);
  });
});
