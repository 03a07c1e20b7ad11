// A least-recently-used cache of values keyed by number, with pinning handles.
// The block cache (values: blocks in linear memory, charge = bytes) and the
// table cache (values: open table readers, charge = 1) are built on it.
//
// Invariants:
// - An entry is *cached* while the map holds it; its charge counts in usage.
// - A cached entry with no pins sits on the recency list (oldest first);
//   a pinned entry does not, so eviction only ever meets unpinned entries.
// - After every public call, usage <= capacity or every cached entry is pinned.
// - An entry's value is disposed exactly once: when it is no longer cached
//   (evicted, erased, replaced) and no longer pinned, whichever comes last.
// - Recency is the moment an entry was last unpinned; with hooks, a hit they
//   report (usedSince) renews it at eviction time instead.
import { InvalidArgumentError } from '../errors.js';

interface Entry<V> {
  readonly owner: LruCache<V>;
  readonly key: number;
  readonly value: V;
  readonly charge: number;
  pins: number;
  cached: boolean;
  /** Neighbours on the recency list; null when not on it (or at its ends). */
  older: Entry<V> | null;
  newer: Entry<V> | null;
}

/**
 * A cached entry as a caller may keep it between uses, unpinned: pin it
 * again with `pinRef` while `cached` holds. A caller that keeps its own
 * index of refs (a table reader, one per data block) skips the cache's map
 * on a hit.
 */
export interface CacheRef {
  readonly cached: boolean;
}

/** One pin on a cached value. Release it exactly once with `LruCache.release`. */
export interface CacheHandle<V> {
  readonly key: number;
  readonly value: V;
}

class Pin<V> implements CacheHandle<V> {
  readonly key: number;
  readonly value: V;
  /** Null once released. */
  entry: Entry<V> | null;

  constructor(
    readonly owner: LruCache<V>,
    entry: Entry<V>,
  ) {
    this.key = entry.key;
    this.value = entry.value;
    this.entry = entry;
  }
}

export interface LruStats {
  hits: number;
  misses: number;
  inserts: number;
  /** Entries pushed out to respect the capacity (not erased or replaced ones). */
  evictions: number;
}

export type Dispose<V> = (value: V, key: number) => void;

/**
 * What a cache tells whoever mirrors its contents (the block cache's map in
 * linear memory, src/wasm/block-map.ts). None may throw; each runs inside a
 * cache operation, after its bookkeeping.
 */
export interface CacheHooks<V> {
  /** `value` is now cached under `key`. */
  cached(key: number, value: V): void;
  /** `value` is no longer cached under `key`; it is disposed later if still pinned, else just after. */
  uncached(key: number, value: V): void;
  /**
   * Whether the entry about to be evicted was used since it was last asked
   * (hits the cache did not see): such an entry is kept as if just used,
   * CLOCK's second chance.
   */
  usedSince(key: number, value: V): boolean;
}

export class LruCache<V> {
  readonly #entries = new Map<number, Entry<V>>();
  readonly #dispose: Dispose<V>;
  #capacity: number;
  #usage = 0;
  #oldest: Entry<V> | null = null;
  #newest: Entry<V> | null = null;
  readonly #stats: LruStats = { hits: 0, misses: 0, inserts: 0, evictions: 0 };
  readonly #hooks: CacheHooks<V> | undefined;

  /** `dispose` must not throw: it runs inside cache operations, after their bookkeeping. */
  constructor(capacity: number, dispose: Dispose<V>, hooks?: CacheHooks<V>) {
    checkAmount('capacity', capacity);
    this.#capacity = capacity;
    this.#dispose = dispose;
    this.#hooks = hooks;
  }

  /** Counts `n` hits served without a lookup, through a mirror the hooks keep. */
  recordHits(n: number): void {
    this.#stats.hits += n;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Sum of the charges of cached entries, pinned ones included. */
  get usage(): number {
    return this.#usage;
  }

  /** Number of cached entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** A copy of the counters. */
  get stats(): LruStats {
    return { ...this.#stats };
  }

  /** Changes the capacity, evicting unpinned entries down to it. */
  setCapacity(capacity: number): void {
    checkAmount('capacity', capacity);
    this.#capacity = capacity;
    this.#evictToCapacity();
  }

  /** The value cached under `key`, unpinned, or undefined; counts nothing and leaves recency alone. */
  peek(key: number): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** The charge of the entry cached under `key`, 0 if none; counts nothing and leaves recency alone. */
  chargeOf(key: number): number {
    return this.#entries.get(key)?.charge ?? 0;
  }

  /** Pins and returns the entry for `key`, or undefined (a miss). */
  lookup(key: number): CacheHandle<V> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#stats.misses++;
      return undefined;
    }
    this.#stats.hits++;
    this.#pin(entry);
    return new Pin(this, entry);
  }

  /** The entry a live handle pins, as a ref to keep and pin again with pinRef. */
  refOf(handle: CacheHandle<V>): CacheRef {
    return this.#entryOf(handle);
  }

  /** Pins the entry of `ref` (a hit), which must still be cached in this cache. */
  pinRef(ref: CacheRef): CacheHandle<V> {
    const entry = ref as Entry<V>;
    if (entry.owner !== this || !entry.cached) throw new InvalidArgumentError('not a cached entry of this cache');
    this.#stats.hits++;
    this.#pin(entry);
    return new Pin(this, entry);
  }

  /**
   * Caches `value` under `key` and returns it pinned. An entry already cached
   * under `key` is replaced: its value is disposed once it is unpinned.
   */
  insert(key: number, value: V, charge: number): CacheHandle<V> {
    checkAmount('charge', charge);
    const entry: Entry<V> = { owner: this, key, value, charge, pins: 1, cached: true, older: null, newer: null };
    const old = this.#entries.get(key);
    this.#entries.set(key, entry);
    this.#usage += charge;
    this.#stats.inserts++;
    if (old !== undefined) this.#uncache(old);
    this.#hooks?.cached(key, value);
    this.#evictToCapacity();
    return new Pin(this, entry);
  }

  /** Drops a pin taken by lookup or insert. Releasing a handle twice throws. */
  release(handle: CacheHandle<V>): void {
    const entry = this.#entryOf(handle);
    (handle as Pin<V>).entry = null;
    entry.pins--;
    if (entry.pins > 0) return;
    if (entry.cached) {
      this.#append(entry);
      this.#evictToCapacity();
    } else {
      this.#dispose(entry.value, entry.key);
    }
  }

  /** Removes the entry for `key`; its value is disposed now, or when its last pin is released. */
  erase(key: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#uncache(entry);
    return true;
  }

  /** Erases every entry for which `predicate` holds (e.g. all blocks of a deleted file); returns how many. */
  eraseIf(predicate: (key: number, value: V) => boolean): number {
    const doomed: Entry<V>[] = [];
    for (const entry of this.#entries.values()) {
      if (predicate(entry.key, entry.value)) doomed.push(entry);
    }
    for (const entry of doomed) {
      this.#entries.delete(entry.key);
      this.#uncache(entry);
    }
    return doomed.length;
  }

  /** The entry a live handle of this cache pins; throws for a released or foreign handle. */
  #entryOf(handle: CacheHandle<V>): Entry<V> {
    if (!(handle instanceof Pin) || handle.owner !== this) throw new InvalidArgumentError('not a handle of this cache');
    const entry = handle.entry;
    if (entry === null) throw new InvalidArgumentError('cache handle already released');
    return entry;
  }

  #pin(entry: Entry<V>): void {
    if (entry.pins === 0) this.#unlink(entry);
    entry.pins++;
  }

  /** Takes a no-longer-mapped entry out of the cache: out of usage, and disposed unless pinned. */
  #uncache(entry: Entry<V>): void {
    entry.cached = false;
    this.#usage -= entry.charge;
    this.#hooks?.uncached(entry.key, entry.value);
    if (entry.pins > 0) return;
    this.#unlink(entry);
    this.#dispose(entry.value, entry.key);
  }

  #evictToCapacity(): void {
    while (this.#usage > this.#capacity && this.#oldest !== null) {
      const victim = this.#oldest;
      // usedSince clears the mark it reports, so each entry is passed over at most once per eviction.
      if (this.#hooks?.usedSince(victim.key, victim.value)) {
        this.#unlink(victim);
        this.#append(victim);
        continue;
      }
      this.#entries.delete(victim.key);
      this.#stats.evictions++;
      this.#uncache(victim);
    }
  }

  /** Puts an unpinned cached entry at the newest end of the recency list. */
  #append(entry: Entry<V>): void {
    entry.older = this.#newest;
    entry.newer = null;
    if (this.#newest === null) this.#oldest = entry;
    else this.#newest.newer = entry;
    this.#newest = entry;
  }

  #unlink(entry: Entry<V>): void {
    if (entry.older === null) this.#oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === null) this.#newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = null;
    entry.newer = null;
  }
}

function checkAmount(what: string, n: number): void {
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a finite number >= 0, got ${n}`);
}
