import { describe, expect, it } from 'vitest';
import { WasmOutOfMemoryError } from '../src/errors.js';
import { heap, raw } from '../src/wasm/index.js';

// Its own file: the test takes linear memory to near its 2 GiB cap for good.
describe('linear memory near its cap', () => {
  it('refuses, without trapping, a request TLSF would round past the pages left', () => {
    const memory = raw.memory as WebAssembly.Memory;
    raw.free(raw.alloc(16)); // the heap is set up
    // 260 pages (16.25 MiB) left, outside the heap. A 16 MiB block would fit in them, but TLSF rounds the
    // request up to the next size class (+1 MiB) before it grows, and would trap.
    memory.grow(32768 - 260 - memory.buffer.byteLength / 65536);
    expect(raw.alloc(16 << 20)).toBe(0);
    expect(() => heap.alloc(16 << 20)).toThrow(WasmOutOfMemoryError);
    const p = raw.alloc(16);
    expect(raw.realloc(p, 16 << 20)).toBe(0); // p stays valid
    // What the pages left do hold is still met.
    const q = raw.alloc(8 << 20);
    expect(q).not.toBe(0);
    raw.free(q);
    raw.free(p);
  });
});
