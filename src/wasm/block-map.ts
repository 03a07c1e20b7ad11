// The block cache's map of resident blocks in linear memory (assembly/
// block-map.ts): cache key -> a cached block's address and length, read by
// table point reads inside WebAssembly (./table-get.ts). The block cache
// keeps it (src/table/table-cache.ts): it puts each block it caches and
// removes each it stops caching, before the block's memory is freed.
import { WasmOutOfMemoryError } from '../errors.js';
import { raw } from './loader.js';
import { view } from './heap.js';

interface BlockMapExports {
  blockMapCreate(): number;
  blockMapDestroy(map: number): void;
  blockMapCount(map: number): number;
  blockMapFind(map: number, key: number): number;
  blockMapPut(map: number, key: number, block: number, len: number): number;
  blockMapRemove(map: number, key: number, block: number): number;
  blockMapTakeReferenced(map: number, key: number): number;
}

const kernel = raw as unknown as BlockMapExports;

/** Bytes a slot takes; the map keeps at most half its slots in use. */
export const BLOCK_MAP_SLOT_BYTES = 16;

export class BlockMap {
  /** The map's address, for kernels that read it; 0 once destroyed. */
  ptr: number;

  constructor() {
    this.ptr = kernel.blockMapCreate();
    if (this.ptr === 0) throw new WasmOutOfMemoryError(64 * BLOCK_MAP_SLOT_BYTES);
  }

  /**
   * Maps `key` (a block cache key) to the block of `len` bytes at `block`,
   * replacing any mapping. False when the map cannot grow: the block is then
   * not mapped, and reads find it through the cache instead.
   */
  put(key: number, block: number, len: number): boolean {
    return this.ptr !== 0 && kernel.blockMapPut(this.ptr, key, block, len) === 0;
  }

  /** Unmaps `key` if it maps to `block` (a replaced block's removal leaves its successor mapped). */
  remove(key: number, block: number): void {
    if (this.ptr !== 0) kernel.blockMapRemove(this.ptr, key, block);
  }

  /** The block `key` maps to, as a point read finds it (marking it used), or undefined. */
  find(key: number): { block: number; len: number } | undefined {
    if (this.ptr === 0) return undefined;
    const slot = kernel.blockMapFind(this.ptr, key);
    if (slot === 0) return undefined;
    // Slot: u64 key + 1, u32 block, u32 length with the used bit on top.
    const dv = view();
    return { block: dv.getUint32(slot + 8, true), len: dv.getUint32(slot + 12, true) & 0x7fffffff };
  }

  /** Whether a point read found the block under `key` since it was put or last asked; clears that mark. */
  takeReferenced(key: number): boolean {
    return this.ptr !== 0 && kernel.blockMapTakeReferenced(this.ptr, key) !== 0;
  }

  get count(): number {
    return this.ptr === 0 ? 0 : kernel.blockMapCount(this.ptr);
  }

  /** Frees the map; later calls do nothing (a cache may outlive it while pinned blocks drain). */
  destroy(): void {
    if (this.ptr !== 0) kernel.blockMapDestroy(this.ptr);
    this.ptr = 0;
  }
}
