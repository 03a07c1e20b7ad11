// The block cache's map of resident blocks, in linear memory: cache key ->
// the decoded block's address and length, so a point read finds a cached
// block without leaving WebAssembly (table-get.ts). The block cache itself
// (src/cache/lru.ts) owns the blocks and decides what stays; it puts a
// block here when it caches it and removes it when it stops caching it, so
// the map names exactly the blocks the cache holds (src/table/resident-blocks.ts).
// A find sets the slot's referenced bit; the cache reads and clears it before
// evicting the block, and keeps a referenced block one round more (CLOCK's
// second chance), so hits through the map count for recency.
//
// Keys are block cache keys, integers below 2^53, passed as f64. Open
// addressing with linear probing; removal shifts the run back, so there are
// no tombstones. At most half the slots are used.
//
// Map struct (MAP_SIZE bytes): 0 u32 slots, 4 u32 mask (slot count - 1),
// 8 u32 count. Slot (SLOT_BYTES): 0 u64 key + 1 (0: empty), 8 u32 block
// address, 12 u32 length | REFERENCED.
import { alloc, free } from './memory';
import { touch } from './point-batch';

const MAP_SIZE: u32 = 16;
const SLOT_BYTES: u32 = 16;
const MIN_SLOTS: u32 = 64;
const REFERENCED: u32 = 0x80000000;

/** Result of blockMapPut when the slots cannot grow. */
const E_OUT_OF_MEMORY: i32 = -8;

/** A new, empty map; 0 when memory is exhausted. */
export function blockMapCreate(): usize {
  const map = alloc(MAP_SIZE);
  if (map == 0) return 0;
  const slots = alloc(MIN_SLOTS * SLOT_BYTES);
  if (slots == 0) {
    free(map);
    return 0;
  }
  memory.fill(slots, 0, MIN_SLOTS * SLOT_BYTES);
  store<u32>(map, <u32>slots);
  store<u32>(map, MIN_SLOTS - 1, 4);
  store<u32>(map, 0, 8);
  return map;
}

export function blockMapDestroy(map: usize): void {
  if (map == 0) return;
  free(<usize>load<u32>(map));
  free(map);
}

export function blockMapCount(map: usize): u32 {
  return load<u32>(map, 8);
}

/** SplitMix64's finalizer: keys differ in their low bits (offsets), slots need all bits mixed. */
@inline
function mix(k: u64): u64 {
  k = (k ^ (k >> 30)) * 0xbf58476d1ce4e5b9;
  k = (k ^ (k >> 27)) * 0x94d049bb133111eb;
  return k ^ (k >> 31);
}

/** The slot holding `stored` (a key + 1), or the empty slot where it would go. */
@inline
function slotOf(map: usize, stored: u64): usize {
  const slots = <usize>load<u32>(map);
  const mask = load<u32>(map, 4);
  let i = <u32>mix(stored) & mask;
  for (;;) {
    const slot = slots + <usize>(i * SLOT_BYTES);
    const k = load<u64>(slot);
    if (k == stored || k == 0) return slot;
    i = (i + 1) & mask;
  }
  // Unreachable: at most half the slots are used, so a probe meets an empty one.
  return 0;
}

/** The slot of `key` with its referenced bit set (a hit), or 0 when the key is not resident. */
export function blockMapFind(map: usize, key: f64): usize {
  const slot = slotOf(map, <u64>key + 1);
  if (load<u64>(slot) == 0) return 0;
  store<u32>(slot, load<u32>(slot, 12) | REFERENCED, 12);
  return slot;
}

/** Loads the slot where a find of `key` starts, to start its cache miss (point-batch.ts). */
@inline
export function blockMapTouch(map: usize, key: f64): void {
  touch(<usize>load<u32>(map) + <usize>((<u32>mix(<u64>key + 1) & load<u32>(map, 4)) * SLOT_BYTES));
}

/** Address of the block in a slot blockMapFind returned. */
@inline
export function blockMapSlotBlock(slot: usize): usize {
  return <usize>load<u32>(slot, 8);
}

/** Length of the block in a slot blockMapFind returned. */
@inline
export function blockMapSlotLength(slot: usize): u32 {
  return load<u32>(slot, 12) & ~REFERENCED;
}

/** Doubles the slots; false when memory is exhausted (the map is unchanged). */
function grow(map: usize): bool {
  const oldSlots = <usize>load<u32>(map);
  const oldCount = load<u32>(map, 4) + 1;
  const count = oldCount * 2;
  const slots = alloc(count * SLOT_BYTES);
  if (slots == 0) return false;
  memory.fill(slots, 0, count * SLOT_BYTES);
  store<u32>(map, <u32>slots);
  store<u32>(map, count - 1, 4);
  for (let i: u32 = 0; i < oldCount; i++) {
    const from = oldSlots + <usize>(i * SLOT_BYTES);
    const k = load<u64>(from);
    if (k == 0) continue;
    const to = slotOf(map, k);
    store<u64>(to, k);
    store<u64>(to, load<u64>(from, 8), 8);
  }
  free(oldSlots);
  return true;
}

/** Maps `key` to the block of `len` (< 2^31) bytes at `block`, unreferenced, replacing any mapping; 0, or E_OUT_OF_MEMORY. */
export function blockMapPut(map: usize, key: f64, block: usize, len: u32): i32 {
  const stored = <u64>key + 1;
  let slot = slotOf(map, stored);
  if (load<u64>(slot) == 0) {
    const count = load<u32>(map, 8) + 1;
    if (count * 2 > load<u32>(map, 4) + 1) {
      if (!grow(map)) return E_OUT_OF_MEMORY;
      slot = slotOf(map, stored);
    }
    store<u32>(map, count, 8);
    store<u64>(slot, stored);
  }
  store<u32>(slot, <u32>block, 8);
  store<u32>(slot, len & ~REFERENCED, 12);
  return 0;
}

/**
 * Removes `key` if it maps to the block at `block` (a replaced block's
 * removal must not drop its successor); returns whether it did.
 */
export function blockMapRemove(map: usize, key: f64, block: usize): bool {
  let slot = slotOf(map, <u64>key + 1);
  if (load<u64>(slot) == 0 || <usize>load<u32>(slot, 8) != block) return false;
  store<u32>(map, load<u32>(map, 8) - 1, 8);
  // Backward-shift deletion: move each later entry of the run into the hole
  // when its home slot does not lie (cyclically) between the hole and it.
  const slots = <usize>load<u32>(map);
  const mask = load<u32>(map, 4);
  let hole = <u32>((slot - slots) / SLOT_BYTES);
  let i = hole;
  for (;;) {
    i = (i + 1) & mask;
    const next = slots + <usize>(i * SLOT_BYTES);
    const k = load<u64>(next);
    if (k == 0) break;
    const home = <u32>mix(k) & mask;
    const fromHole = (i - hole) & mask;
    const fromHome = (i - home) & mask;
    if (fromHome >= fromHole) {
      const to = slots + <usize>(hole * SLOT_BYTES);
      store<u64>(to, k);
      store<u64>(to, load<u64>(next, 8), 8);
      hole = i;
    }
  }
  slot = slots + <usize>(hole * SLOT_BYTES);
  store<u64>(slot, 0);
  store<u64>(slot, 0, 8);
  return true;
}

/** Whether `key` was found (blockMapFind) since it was put or last asked; clears the bit. False for a key not mapped. */
export function blockMapTakeReferenced(map: usize, key: f64): bool {
  const slot = slotOf(map, <u64>key + 1);
  if (load<u64>(slot) == 0) return false;
  const len = load<u32>(slot, 12);
  store<u32>(slot, len & ~REFERENCED, 12);
  return (len & REFERENCED) != 0;
}
