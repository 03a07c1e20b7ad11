// What a table reader needs from a block cache. The engine adapts its LRU
// cache (values: CachedBlock, charge: bytes, dispose: freeCachedBlock) to
// this interface; the reader depends on nothing else.
//
// Contract:
// - A handle returned by lookup or insert pins its block: the block's memory
//   stays allocated, unchanged, until that handle is released, even if the
//   entry is evicted, erased or replaced meanwhile.
// - Every handle is released exactly once, with release(handle).
// - insert takes ownership of the block's memory. The cache frees it (with
//   freeCachedBlock) once, when the entry has left the cache and no handle
//   pins it. insert replaces any entry already under the key.
// - A cache may hold nothing (capacity 0): insert still returns a pinning
//   handle, and the block is freed at its release.
import { free } from '../wasm/heap.js';
import { MAX_TABLE_SIZE } from './format.js';

/** A decoded (uncompressed) block in this thread's linear memory: `len` bytes at `ptr`, which owns the allocation. */
export interface CachedBlock {
  readonly ptr: number;
  readonly len: number;
}

/** A pin on a cached block. */
export interface BlockCacheHandle {
  readonly value: CachedBlock;
}

/** A cached block as a reader keeps it between uses, unpinned; usable (after pinRef) while `cached` holds. */
export interface BlockCacheRef {
  readonly cached: boolean;
}

export interface BlockCache {
  /** The block under `key`, pinned; undefined on a miss. */
  lookup(key: number): BlockCacheHandle | undefined;
  /** The entry a live handle pins, to keep and pin again with pinRef without a lookup. */
  refOf(handle: BlockCacheHandle): BlockCacheRef;
  /** Pins the entry of `ref` (a hit); precondition: `ref.cached`. */
  pinRef(ref: BlockCacheRef): BlockCacheHandle;
  /** Adds `block` under `key`, costing `charge` bytes, and returns it pinned. */
  insert(key: number, block: CachedBlock, charge: number): BlockCacheHandle;
  /** Unpins; exactly once per handle. */
  release(handle: BlockCacheHandle): void;
  /** Bytes the block under `key` is charged, 0 when not cached; not a lookup (counts nothing). */
  chargeOf(key: number): number;
  /** Counts `n` hits on blocks read through a BlockMap of this cache, without a lookup. */
  recordHits(n: number): void;
}

/** Frees a block's memory: the dispose action of a block cache. */
export function freeCachedBlock(block: CachedBlock): void {
  free(block.ptr);
}

/** Largest cache id: keeps every key below 2^53. */
export const MAX_CACHE_ID = Math.floor(Number.MAX_SAFE_INTEGER / MAX_TABLE_SIZE);

/**
 * The cache key of the block at `offset` of the table with cache id `cacheId`
 * (by default its file number: file numbers are never reused, so a key
 * always names the same bytes).
 */
export function blockCacheKey(cacheId: number, offset: number): number {
  return cacheId * MAX_TABLE_SIZE + offset;
}
