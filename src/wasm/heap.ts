// Views over WebAssembly linear memory and region allocation.
// Invariant: after any call that may grow memory (alloc, or a kernel that
// allocates), typed arrays over the old buffer are detached and read as
// length 0. Every access goes through the getters below, which rebuild the
// views when that happens (a ~1 ns check).
import { WasmOutOfMemoryError } from '../errors.js';
import { raw } from './loader.js';

let u8View = new Uint8Array(raw.memory.buffer);
let dataView = new DataView(raw.memory.buffer);

function refresh(): void {
  u8View = new Uint8Array(raw.memory.buffer);
  dataView = new DataView(raw.memory.buffer);
}

/** A byte view of all of linear memory, valid until the next allocation. */
export function u8(): Uint8Array {
  if (u8View.length === 0) refresh();
  return u8View;
}

/** A DataView of all of linear memory, valid until the next allocation. */
export function view(): DataView {
  // A DataView over a detached buffer throws on byteLength; the byte view,
  // refreshed together with it, reads as length 0 instead.
  if (u8View.length === 0) refresh();
  return dataView;
}

/** Allocates `size` bytes (16-aligned). Throws WasmOutOfMemoryError instead of returning 0. */
export function alloc(size: number): number {
  const ptr = raw.alloc(size);
  if (ptr === 0) throw new WasmOutOfMemoryError(size);
  return ptr;
}

export function free(ptr: number): void {
  raw.free(ptr);
}

/** Copies `bytes` into linear memory at `ptr`. */
export function write(ptr: number, bytes: Uint8Array): void {
  u8().set(bytes, ptr);
}

/** A copy of `len` bytes at `ptr`, detached from linear memory. */
export function copyOut(ptr: number, len: number): Uint8Array {
  return u8().slice(ptr, ptr + len);
}

/**
 * A growable region of linear memory owned by one caller, reused across
 * calls so hot paths never allocate. `ensure` may move it (and grow memory).
 */
export class Region {
  ptr = 0;
  capacity = 0;

  constructor(initial = 0) {
    if (initial > 0) this.ensure(initial);
  }

  /** Makes room for at least `size` bytes; contents are not preserved. */
  ensure(size: number): number {
    if (size <= this.capacity) return this.ptr;
    let cap = Math.max(64, this.capacity);
    while (cap < size) cap *= 2;
    if (this.ptr !== 0) free(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
    this.ptr = alloc(cap);
    this.capacity = cap;
    return this.ptr;
  }

  /** Copies `bytes` into the region (growing it) and returns its pointer. */
  load(bytes: Uint8Array): number {
    const ptr = this.ensure(bytes.length);
    u8().set(bytes, ptr);
    return ptr;
  }

  release(): void {
    if (this.ptr !== 0) free(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
  }
}
