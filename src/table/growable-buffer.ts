// A linear-memory byte buffer that grows while keeping its contents (the
// table file being assembled, the filter's key hashes). Growing may move it
// and grow memory: re-read `ptr` and re-fetch views after `reserve`.
import { WasmOutOfMemoryError } from '../errors.js';
import { raw } from '../wasm/loader.js';

/** The largest single allocation assembly/memory.ts grants. */
export const MAX_ALLOCATION = 0x3fff0000;

export class GrowableBuffer {
  ptr = 0;
  capacity = 0;
  /** Bytes in use, from ptr. */
  length = 0;

  /** Makes room for `extra` more bytes past `length`. */
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.capacity) return;
    let cap = Math.max(256, this.capacity);
    while (cap < need) cap *= 2;
    if (need > MAX_ALLOCATION) throw new WasmOutOfMemoryError(need);
    cap = Math.min(cap, MAX_ALLOCATION);
    const next = raw.realloc(this.ptr, cap);
    if (next === 0) throw new WasmOutOfMemoryError(cap);
    this.ptr = next;
    this.capacity = cap;
  }

  /** Address of the first free byte. */
  get end(): number {
    return this.ptr + this.length;
  }

  release(): void {
    if (this.ptr !== 0) raw.free(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
    this.length = 0;
  }
}
