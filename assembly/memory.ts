// Region allocation. The module uses AssemblyScript's minimal runtime only
// for its TLSF allocator: no managed object is allocated on a hot path, so
// nothing needs collecting. Every buffer (scratch regions, block buffers,
// arena chunks) comes from here. Memory is capped at MAX_PAGES (2 GiB), so
// pointers stay positive i32s on the JavaScript side.
//
// TLSF traps when memory cannot grow. `alloc` and `realloc` check first and
// return 0 instead, leaving the heap untouched; callers that cannot recover
// use the OrAbort forms, which raise a clean "out of memory" abort before
// any state changes.

import { ROOT } from '~lib/rt/tlsf';

const MAX_PAGES: i32 = 32768;
/** TLSF's largest block: 1 GiB less its 4-byte header. */
const MAX_BLOCK_TLSF: usize = (1 << 30) - 4;
/** The largest request varve makes of it, leaving room for headers. */
const MAX_BLOCK: usize = 0x3fff0000;

/**
 * The size TLSF searches its free lists for, and grows memory by, for a
 * request of `size` bytes: prepareSize's payload, then from 256 bytes up
 * roundSize's rounding to the next size class (up to 1/16 more). Mirrors
 * assembly/rt/tlsf.ts of AssemblyScript 0.28 (pinned): wasm32, 4-byte
 * block header, 16-byte alignment, SL_BITS 4. test/memory.test.ts fails
 * if the layout ever disagrees.
 */
function searchSize(size: usize): usize {
  const payload: usize = size <= 28 ? 28 : ((size + 4 + 15) & ~15) - 4;
  if (payload < 256) return payload;
  return payload < (MAX_BLOCK_TLSF >> 1) ? payload + (<usize>1 << (27 - clz<usize>(payload))) - 1 : payload;
}

/** Whether TLSF holds a free block it would hand out for `size` bytes: its own size-class search, read off its bitmaps. */
function heapHasBlockFor(size: usize): bool {
  const root = changetype<usize>(ROOT);
  if (root == 0) return false; // the heap is not initialised until the first allocation
  const search = searchSize(size);
  let fl: usize;
  let sl: u32;
  if (search < 256) {
    fl = 0;
    sl = <u32>(search >> 4);
  } else {
    fl = 31 - clz<usize>(search);
    sl = <u32>((search >> (fl - 4)) ^ 16);
    fl -= 7;
  }
  const slMap = load<u32>(root + 4 + (fl << 2)) & (~0 << sl);
  if (slMap != 0) return true;
  return (load<u32>(root) & (~0 << <u32>(fl + 1))) != 0;
}

/** Whether a request of `size` bytes can be met without TLSF trapping. */
function canSatisfy(size: usize): bool {
  if (size > MAX_BLOCK) return false;
  if (heapHasBlockFor(size)) return true;
  // TLSF grows by the searched size plus at most two block headers, in whole pages.
  const pages = <i32>((searchSize(size) + 8 + 0xffff) >>> 16);
  return memory.size() + pages <= MAX_PAGES;
}

/** Allocates `size` bytes aligned to 16; 0 when memory cannot provide them. */
export function alloc(size: u32): usize {
  if (size == 0) size = 1;
  if (!canSatisfy(<usize>size)) return 0;
  return heap.alloc(<usize>size);
}

/** Frees a pointer returned by `alloc`; 0 is ignored. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

/**
 * Resizes an allocation, keeping its first min(old, new) bytes. Returns 0
 * (and leaves `ptr` valid and unchanged) when memory cannot provide it.
 */
export function realloc(ptr: usize, size: u32): usize {
  if (ptr == 0) return alloc(size);
  if (!canSatisfy(<usize>size)) return 0;
  return heap.realloc(ptr, <usize>size);
}

/** `alloc` for callers with no error path: aborts with "out of memory" instead of returning 0. */
export function allocOrAbort(size: u32): usize {
  const ptr = alloc(size);
  if (ptr == 0) throw new Error('out of memory');
  return ptr;
}

/** `realloc` for callers with no error path; on failure `ptr` is still valid. */
export function reallocOrAbort(ptr: usize, size: u32): usize {
  const next = realloc(ptr, size);
  if (next == 0) throw new Error('out of memory');
  return next;
}
