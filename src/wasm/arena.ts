// Chunked bump allocator in linear memory (assembly/arena.ts). Memory is
// only ever released all at once, by reset or destroy.
import { InvalidArgumentError, WasmOutOfMemoryError } from '../errors.js';
import { raw } from './loader.js';

interface ArenaExports {
  arenaCreate(chunkSize: number): number;
  arenaAlloc(arena: number, size: number, align: number): number;
  arenaBytes(arena: number): number;
  arenaReset(arena: number): void;
  arenaDestroy(arena: number): void;
}

const fns = raw as unknown as ArenaExports;

export const MIN_CHUNK_SIZE = 256;
export const MAX_CHUNK_SIZE = 0x3fff0000;

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new InvalidArgumentError(`chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}, got ${chunkSize}`);
  }
}

export class Arena {
  #handle: number;

  constructor(chunkSize = 64 * 1024) {
    checkChunkSize(chunkSize);
    const handle = fns.arenaCreate(chunkSize);
    if (handle === 0) throw new WasmOutOfMemoryError(chunkSize);
    this.#handle = handle;
  }

  /** The arena struct's address, for kernels that allocate from it. */
  get handle(): number {
    if (this.#handle === 0) throw new InvalidArgumentError('arena is destroyed');
    return this.#handle;
  }

  /** `size` bytes aligned to `align` (1, 2, 4, 8 or 16); may grow memory. */
  alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0 || size > MAX_CHUNK_SIZE) {
      throw new InvalidArgumentError(`arena request must be an integer in 0..${MAX_CHUNK_SIZE}, got ${size}`);
    }
    if (align !== 1 && align !== 2 && align !== 4 && align !== 8 && align !== 16) {
      throw new InvalidArgumentError(`alignment must be 1, 2, 4, 8 or 16, got ${align}`);
    }
    const ptr = fns.arenaAlloc(this.handle, size, align);
    if (ptr === 0) throw new WasmOutOfMemoryError(size);
    return ptr;
  }

  /** Heap bytes held: every chunk with its header, plus the arena struct. */
  get bytes(): number {
    return fns.arenaBytes(this.handle);
  }

  /** Frees every chunk; pointers handed out before are invalid afterwards. */
  reset(): void {
    fns.arenaReset(this.handle);
  }

  destroy(): void {
    if (this.#handle !== 0) fns.arenaDestroy(this.#handle);
    this.#handle = 0;
  }
}
