// Arena: bump allocation in chunks taken from the TLSF heap (memory.ts), for
// objects that all die together (a memtable's nodes). Nothing is freed
// individually; reset frees every chunk in one call.
//
// Arena struct (ARENA_SIZE bytes, from alloc):
//   0  u32 head       newest chunk of the chunk list (0 = none)
//   4  u32 cursor     next free byte of the current bump chunk
//   8  u32 limit      one past the last byte of the current bump chunk
//   12 u32 chunkSize  payload bytes of a regular chunk
//   16 u32 bytes      total bytes of all chunks, headers included
// Chunk (one heap allocation):
//   0  u32 next       older chunk (0 = end of list)
//   4  u32 size       bytes of this allocation, header included
//   8  8 bytes padding, so the payload at 16 is 16-aligned like the heap's blocks
//   16 payload
import { alloc, free } from './memory';

const HEAD: usize = 0;
const CURSOR: usize = 4;
const LIMIT: usize = 8;
const CHUNK_SIZE: usize = 12;
const BYTES: usize = 16;
const ARENA_SIZE: u32 = 20;

const CHUNK_NEXT: usize = 0;
const CHUNK_BYTES: usize = 4;
const CHUNK_HEADER: u32 = 16;

export const MIN_CHUNK_SIZE: u32 = 256;
/** Largest chunk the heap can hand out (TLSF's block limit, with room for headers). */
export const MAX_CHUNK_SIZE: u32 = 0x3fff0000;
const MAX_ALIGN: u32 = 16;

/** Creates an arena whose regular chunks hold `chunkSize` bytes; 0 on bad size or no memory. */
export function arenaCreate(chunkSize: u32): usize {
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) return 0;
  const arena = alloc(ARENA_SIZE);
  if (arena == 0) return 0;
  store<u32>(arena + HEAD, 0);
  store<u32>(arena + CURSOR, 0);
  store<u32>(arena + LIMIT, 0);
  store<u32>(arena + CHUNK_SIZE, chunkSize);
  store<u32>(arena + BYTES, 0);
  return arena;
}

/** The payload bytes of the arena's regular chunks. */
export function arenaChunkSize(arena: usize): u32 {
  return load<u32>(arena + CHUNK_SIZE);
}

/** Takes a chunk with `payload` bytes from the heap and links it in; returns its payload or 0. */
function addChunk(arena: usize, payload: u32): usize {
  const size = payload + CHUNK_HEADER;
  const chunk = alloc(size);
  if (chunk == 0) return 0;
  store<u32>(chunk + CHUNK_NEXT, load<u32>(arena + HEAD));
  store<u32>(chunk + CHUNK_BYTES, size);
  store<u32>(arena + HEAD, <u32>chunk);
  store<u32>(arena + BYTES, load<u32>(arena + BYTES) + size);
  return chunk + CHUNK_HEADER;
}

/**
 * Returns `size` bytes aligned to `align` (a power of two <= 16), or 0 when
 * the request is invalid or memory is exhausted. Requests above a quarter of
 * the chunk size get a chunk of their own, so they waste no bump space.
 */
export function arenaAlloc(arena: usize, size: u32, align: u32): usize {
  if (align == 0 || align > MAX_ALIGN || (align & (align - 1)) != 0) return 0;
  if (size > MAX_CHUNK_SIZE) return 0;
  const mask = <usize>align - 1;
  const ptr = (<usize>load<u32>(arena + CURSOR) + mask) & ~mask;
  if (ptr + <usize>size <= <usize>load<u32>(arena + LIMIT) && ptr != 0) {
    store<u32>(arena + CURSOR, <u32>(ptr + size));
    return ptr;
  }
  const chunkSize = load<u32>(arena + CHUNK_SIZE);
  if (size > chunkSize >> 2) return addChunk(arena, size);
  const payload = addChunk(arena, chunkSize);
  if (payload == 0) return 0;
  // Chunk payloads are 16-aligned, so no padding is needed at their start.
  store<u32>(arena + CURSOR, <u32>(payload + size));
  store<u32>(arena + LIMIT, <u32>(payload + chunkSize));
  return payload;
}

/** Bytes the arena holds from the heap: every chunk, headers included, plus the arena struct. */
export function arenaBytes(arena: usize): u32 {
  return load<u32>(arena + BYTES) + ARENA_SIZE;
}

/** Frees every chunk; the arena stays usable and holds no memory but its struct. */
export function arenaReset(arena: usize): void {
  let chunk = <usize>load<u32>(arena + HEAD);
  while (chunk != 0) {
    const next = <usize>load<u32>(chunk + CHUNK_NEXT);
    free(chunk);
    chunk = next;
  }
  store<u32>(arena + HEAD, 0);
  store<u32>(arena + CURSOR, 0);
  store<u32>(arena + LIMIT, 0);
  store<u32>(arena + BYTES, 0);
}

/** Frees every chunk and the arena itself. */
export function arenaDestroy(arena: usize): void {
  arenaReset(arena);
  free(arena);
}
