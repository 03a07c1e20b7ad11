// Region allocation for the TypeScript side. The module uses AssemblyScript's
// minimal runtime only for its TLSF allocator: no managed object is ever
// allocated on a hot path, so nothing needs collecting. Every buffer the host
// hands to a kernel (scratch regions, block buffers, arena chunks) comes from
// here. Pointers stay below 2 GiB because memory is capped at 32768 pages.

/** Allocates `size` bytes aligned to 16; returns 0 when memory is exhausted. */
export function alloc(size: u32): usize {
  if (size == 0) size = 1;
  // TLSF traps when it cannot grow; check the cap first so the host gets 0.
  if (<u64>size > <u64>0x7fff0000) return 0;
  return heap.alloc(<usize>size);
}

/** Frees a pointer returned by `alloc`; 0 is ignored. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

/** Resizes an allocation, keeping its first min(old, new) bytes. */
export function realloc(ptr: usize, size: u32): usize {
  if (ptr == 0) return alloc(size);
  return heap.realloc(ptr, <usize>size);
}
