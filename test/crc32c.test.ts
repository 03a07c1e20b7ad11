import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { crc32c, crc32cAt, maskCrc, unmaskCrc, heap, Region } from '../src/wasm/index.js';
import { crc32cPrefixMatching } from '../src/wasm/crc32c.js';
import { randomBytes } from './support/random.js';

const require = createRequire(import.meta.url);
const CRC32C = require('crc-32/crc32c') as { buf(data: Uint8Array, seed?: number): number };
const oracle = (b: Uint8Array): number => CRC32C.buf(b) >>> 0;

describe('crc32c', () => {
  it('matches the published check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('matches crc-32 on random buffers of every length 0..4096', () => {
    const data = randomBytes(4096 + 16, 1);
    for (let len = 0; len <= 4096; len++) {
      // Vary the start so the kernel's alignment prologue is exercised too.
      const start = len % 16;
      const slice = data.subarray(start, start + len);
      expect(crc32c(slice), `length ${len}`).toBe(oracle(slice));
    }
  });

  it('matches crc-32 on large buffers', () => {
    for (const size of [65_537, 1 << 20, (8 << 20) + 3]) {
      const data = randomBytes(size, size);
      expect(crc32c(data)).toBe(oracle(data));
    }
  });

  it('extends across split buffers as over the whole', () => {
    const data = randomBytes(10_000, 7);
    for (const cut of [0, 1, 7, 8, 9, 4096, 9999, 10_000]) {
      const first = crc32c(data.subarray(0, cut));
      expect(crc32c(data.subarray(cut), first)).toBe(oracle(data));
    }
  });

  it('computes in place on linear memory at any alignment', () => {
    const region = new Region(5000);
    const data = randomBytes(4999, 3);
    for (const offset of [0, 1, 3, 5, 7]) {
      heap.write(region.ptr + offset, data.subarray(0, 4999 - offset));
      expect(crc32cAt(region.ptr + offset, 4999 - offset)).toBe(oracle(data.subarray(0, 4999 - offset)));
    }
    region.release();
  });

  it('mask and unmask are inverse and change the value', () => {
    const data = randomBytes(4 * 10_000, 11);
    const words = new Uint32Array(data.buffer, data.byteOffset, 10_000);
    for (const crc of [0, 1, 0xffffffff, 0xe3069283, ...words]) {
      const masked = maskCrc(crc);
      expect(unmaskCrc(masked)).toBe(crc >>> 0);
    }
    expect(maskCrc(0xe3069283)).not.toBe(0xe3069283);
    // LevelDB's mask: rotate right by 15, add 0xa282ead8.
    const c = 0x12345678;
    expect(maskCrc(c)).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
  });

  it('finds the shortest prefix whose CRC matches a target, from a seed, or says none does', () => {
    for (let t = 0; t < 200; t++) {
      const bytes = randomBytes(1 + (t * 37) % 3000, 900 + t);
      const seed = t % 2 === 0 ? 0 : crc32c(Uint8Array.of(t & 0xff));
      const n = (t * 101) % (bytes.length + 1);
      const target = crc32c(bytes.subarray(0, n), seed);
      const found = crc32cPrefixMatching(bytes, seed, target);
      expect(found).toBeGreaterThanOrEqual(0);
      expect(found).toBeLessThanOrEqual(n);
      expect(crc32c(bytes.subarray(0, found), seed)).toBe(target);
    }
    const bytes = randomBytes(500, 1);
    expect(crc32cPrefixMatching(bytes, 0, (crc32c(bytes) ^ 1) >>> 0)).toBe(-1);
  });
});
