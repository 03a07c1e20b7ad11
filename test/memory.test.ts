import { describe, expect, it } from 'vitest';
import { WasmOutOfMemoryError } from '../src/errors.js';
import { BlockBuilder, heap, raw } from '../src/wasm/index.js';

describe('linear memory', () => {
  it('refreshes both views after memory grows', () => {
    const before = heap.u8();
    const dv = heap.view();
    const ptr = heap.alloc(64 << 20); // forces growth past the initial pages
    expect(before.length).toBe(0); // the old buffer is detached
    expect(() => dv.byteLength).toThrow(); // a stale DataView throws: never use it
    heap.view().setUint32(ptr, 0xdeadbeef, true);
    expect(heap.u8()[ptr]).toBe(0xef);
    heap.free(ptr);
  });

  it('refuses impossible requests with a typed error and no trap', () => {
    expect(raw.alloc(0x7fff0000)).toBe(0);
    expect(() => heap.alloc(0x7fff0000)).toThrow(WasmOutOfMemoryError);
    const p = heap.alloc(16);
    expect(raw.realloc(p, 0x7fff0000)).toBe(0); // p stays valid
    heap.free(p);
  });

  it('runs out at the 2 GiB cap cleanly, then recovers once memory is freed', () => {
    // A 200 MiB value already in linear memory, for a kernel that must copy it.
    const valueLen = 200 << 20;
    const value = heap.alloc(valueLen);
    const key = heap.alloc(8);
    heap.u8().fill(0, key, key + 8);
    const builder = new BlockBuilder();

    const held: number[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 64; i++) held.push(heap.alloc(256 << 20));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmOutOfMemoryError);
    expect((error as WasmOutOfMemoryError).code).toBe('ERR_WASM_OUT_OF_MEMORY');
    expect(held.length).toBeGreaterThanOrEqual(4);
    expect(held.length).toBeLessThan(8);

    // The builder cannot grow its buffer: the kernel aborts with the same
    // typed error before changing its state.
    expect(() => builder.addAt(key, 8, value, valueLen)).toThrow(WasmOutOfMemoryError);
    expect(builder.entryCount).toBe(0);

    // With memory at its cap, requests are met from freed blocks.
    for (const p of held) heap.free(p);
    builder.addAt(key, 8, value, valueLen);
    expect(builder.entryCount).toBe(1);
    expect(builder.finish().len).toBeGreaterThan(valueLen);
    builder.destroy();
    heap.free(value);
    heap.free(key);
    const again = heap.alloc(256 << 20);
    heap.free(again);
  });
});
