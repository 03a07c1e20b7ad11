// A small BlockCache for the table tests, following the contract in
// src/table/block-source.ts strictly: pins are counted, a block is freed
// once, when it has left the cache and nothing pins it, and misuse (double
// release, release of a foreign handle) throws. Not for production use.
// With a BlockMap it keeps the map as the engine's cache does: each block
// it caches mapped, unmapped as it leaves.
import type { BlockCache, BlockCacheHandle, BlockCacheRef, CachedBlock } from '../../src/table/block-source.js';
import { freeCachedBlock } from '../../src/table/block-source.js';
import type { BlockMap } from '../../src/wasm/block-map.js';

interface Entry {
  key: number;
  block: CachedBlock;
  charge: number;
  pins: number;
  cached: boolean;
}

interface TestHandle extends BlockCacheHandle {
  entry: Entry;
  released: boolean;
}

export class TestBlockCache implements BlockCache {
  readonly #capacity: number;
  /** Insertion order doubles as recency: a hit re-inserts. */
  readonly #entries = new Map<number, Entry>();
  #usage = 0;
  #pinned = 0;
  freed = 0;
  inserts = 0;
  /** Hits counted through the map (recordHits). */
  mapHits = 0;
  readonly map: BlockMap | undefined;

  constructor(capacity: number, map?: BlockMap) {
    this.#capacity = capacity;
    this.map = map;
  }

  recordHits(n: number): void {
    this.mapHits += n;
  }

  chargeOf(key: number): number {
    return this.#entries.get(key)?.charge ?? 0;
  }

  lookup(key: number): BlockCacheHandle | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return this.#pin(entry);
  }

  insert(key: number, block: CachedBlock, charge: number): BlockCacheHandle {
    this.inserts++;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    const entry: Entry = { key, block, charge, pins: 0, cached: true };
    this.#entries.set(key, entry);
    this.#usage += charge;
    this.map?.put(key, block.ptr, block.len);
    const handle = this.#pin(entry);
    this.#evict();
    return handle;
  }

  refOf(handle: BlockCacheHandle): BlockCacheRef {
    return this.#live(handle).entry;
  }

  pinRef(ref: BlockCacheRef): BlockCacheHandle {
    const entry = ref as Entry;
    if (!entry.cached || this.#entries.get(entry.key) !== entry) throw new Error('pinRef of an entry not cached here');
    this.#entries.delete(entry.key);
    this.#entries.set(entry.key, entry);
    return this.#pin(entry);
  }

  release(handle: BlockCacheHandle): void {
    const h = this.#live(handle);
    h.released = true;
    h.entry.pins--;
    this.#pinned--;
    if (h.entry.pins === 0 && !h.entry.cached) this.#free(h.entry);
    this.#evict();
  }

  /** Handles not yet released. */
  get pinned(): number {
    return this.#pinned;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Empties the cache; pinned blocks are freed at their release. */
  clear(): void {
    for (const [key, entry] of [...this.#entries]) this.#remove(key, entry);
  }

  #live(handle: BlockCacheHandle): TestHandle {
    const h = handle as TestHandle;
    if (h.released || h.entry === undefined) throw new Error('block cache handle released or foreign');
    return h;
  }

  #pin(entry: Entry): TestHandle {
    entry.pins++;
    this.#pinned++;
    return { value: entry.block, entry, released: false };
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#usage <= this.#capacity) return;
      if (entry.pins === 0) this.#remove(key, entry);
    }
  }

  #remove(key: number, entry: Entry): void {
    this.map?.remove(key, entry.block.ptr);
    this.#entries.delete(key);
    entry.cached = false;
    this.#usage -= entry.charge;
    if (entry.pins === 0) this.#free(entry);
  }

  #free(entry: Entry): void {
    freeCachedBlock(entry.block);
    this.freed++;
  }
}
