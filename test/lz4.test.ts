import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { CorruptionError, InvalidArgumentError } from '../src/errors.js';
import { heap, lz4, raw, Region } from '../src/wasm/index.js';
import { compressibleBytes, randomBytes } from './support/random.js';

const require = createRequire(import.meta.url);
const lz4js = require('lz4js') as {
  compressBound(n: number): number;
  makeBuffer(n: number): Uint8Array;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};

interface Decoded {
  bytes: Uint8Array;
  /** Output positions where the last match started and ended (-1 if none). */
  lastMatchStart: number;
  lastMatchEnd: number;
}

/**
 * The model: a plain reading of the LZ4 block format with every bound
 * checked. Returns null where the kernel must return an error code.
 */
function referenceDecode(src: Uint8Array, cap: number): Decoded | null {
  if (src.length === 0) return null;
  const out = new Uint8Array(cap);
  let i = 0;
  let o = 0;
  let lastMatchStart = -1;
  let lastMatchEnd = -1;
  const readLength = (initial: number): number | null => {
    let n = initial;
    if (n !== 15) return n;
    for (;;) {
      if (i >= src.length) return null;
      const b = src[i++]!;
      n += b;
      if (b !== 255) return n;
    }
  };
  for (;;) {
    const token = src[i++]!;
    const lit = readLength(token >> 4);
    if (lit === null || i + lit > src.length || o + lit > cap) return null;
    for (let k = 0; k < lit; k++) out[o++] = src[i++]!;
    if (i === src.length) return { bytes: out.slice(0, o), lastMatchStart, lastMatchEnd };
    if (i + 2 > src.length) return null;
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o) return null;
    const extra = readLength(token & 15);
    if (extra === null) return null;
    const len = extra + 4;
    if (o + len > cap) return null;
    lastMatchStart = o;
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset]!;
    lastMatchEnd = o;
    if (i === src.length) return null;
  }
}

function lz4jsCompress(data: Uint8Array): Uint8Array | null {
  const dst = lz4js.makeBuffer(lz4js.compressBound(data.length));
  const n = lz4js.compressBlock(data, dst, 0, data.length, new Uint32Array(1 << 16));
  // lz4js returns 0 when it found no match (it then stores nothing).
  return n === 0 ? null : dst.subarray(0, n);
}

function lz4jsDecompress(block: Uint8Array, size: number): Uint8Array {
  const out = lz4js.makeBuffer(size);
  const n = lz4js.decompressBlock(block, out, 0, block.length, 0);
  return out.subarray(0, n);
}

/** Data with a repeat of period `period`, to drive every overlapping-copy path. */
function periodicBytes(size: number, period: number, seed: number): Uint8Array {
  const unit = randomBytes(period, seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = unit[i % period]!;
  return out;
}

/** Random runs of fresh bytes and back-references at random distances. */
function mixedBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const noise = randomBytes(size, seed);
  let x = seed >>> 0 || 1;
  const next = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  let i = 0;
  while (i < size) {
    const run = Math.min(size - i, 1 + next(40));
    if (i > 0 && next(2) === 0) {
      const dist = 1 + next(Math.min(i, next(2) === 0 ? 20 : 70_000));
      for (let k = 0; k < run; k++, i++) out[i] = out[i - dist]!;
    } else {
      for (let k = 0; k < run; k++, i++) out[i] = noise[i]!;
    }
  }
  return out;
}

/** Asserts the kernel's block decodes back and obeys the end-of-block rules. */
function checkBlock(data: Uint8Array, block: Uint8Array): void {
  const decoded = referenceDecode(block, data.length);
  expect(decoded, `block of ${data.length} bytes parses`).not.toBeNull();
  expect(Buffer.from(decoded!.bytes).equals(Buffer.from(data))).toBe(true);
  if (decoded!.lastMatchStart >= 0) {
    expect(decoded!.lastMatchStart).toBeLessThanOrEqual(data.length - 12);
    expect(decoded!.lastMatchEnd).toBeLessThanOrEqual(data.length - 5);
  }
  expect(block.length).toBeLessThanOrEqual(lz4.compressBound(data.length));
}

function roundTrip(data: Uint8Array): Uint8Array {
  const block = lz4.compress(data);
  checkBlock(data, block);
  const back = lz4.decompress(block, data.length);
  expect(Buffer.from(back).equals(Buffer.from(data)), `round trip of ${data.length} bytes`).toBe(true);
  return block;
}

const SAMPLE_SIZES = [
  ...Array.from({ length: 41 }, (_, i) => i),
  63, 64, 65, 255, 256, 270, 4095, 4096, 4097,
  65_535 - 1, 65_535, 65_536, 65_537, 65_536 + 12, 131_072 + 5,
];

describe('lz4 round trips', () => {
  it('restores random, text-like, zero, periodic and mixed data of many sizes', () => {
    for (const size of SAMPLE_SIZES) {
      roundTrip(randomBytes(size, size + 1));
      roundTrip(compressibleBytes(size, size + 2));
      roundTrip(new Uint8Array(size));
      roundTrip(mixedBytes(size, size + 3));
      for (const period of [2, 3, 5, 7, 8, 9, 15, 16, 17, 31]) roundTrip(periodicBytes(size, period, size + period));
    }
  });

  it('restores inputs of several MiB', () => {
    const size = (4 << 20) + 7;
    const zeros = roundTrip(new Uint8Array(size));
    expect(zeros.length).toBeLessThan(size / 200);
    const text = roundTrip(compressibleBytes(size, 5));
    // Random picks from a 10-word vocabulary: lz4js also reaches ~52%.
    expect(text.length).toBeLessThan(size * 0.55);
    const noise = roundTrip(randomBytes(size, 6));
    // One literal run: token, length bytes, the bytes themselves.
    expect(noise.length).toBe(1 + Math.floor((size - 15) / 255) + 1 + size);
    roundTrip(mixedBytes(3 << 20, 7));
  }, 30_000);

  it('fast-check: decompress(compress(x)) == x', () => {
    const compressible = fc
      .array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 40 })), { maxLength: 60 })
      .map((parts) => {
        const chunks = parts.flatMap(([bytes, times]) => Array.from({ length: times }, () => bytes));
        return Uint8Array.from(chunks.flatMap((c) => Array.from(c)));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), compressible), (data) => {
        const back = lz4.decompress(lz4.compress(data), data.length);
        return Buffer.from(back).equals(Buffer.from(data));
      }),
      { numRuns: 400 },
    );
  });

  it('is deterministic, and never returns a block a smaller cap could not hold', () => {
    const region = new Region(1 << 18);
    const src = region.ptr;
    const dst = src + (1 << 17);
    for (const data of [compressibleBytes(5000, 1), mixedBytes(70_000, 2), randomBytes(300, 3), new Uint8Array(13)]) {
      heap.write(src, data);
      const first = lz4.compressAt(src, data.length, dst, lz4.compressBound(data.length));
      const block = heap.copyOut(dst, first);
      // Interleave an unrelated input: stale hash entries must not leak into the next call.
      lz4.compress(randomBytes(9000, 4));
      heap.write(src, data);
      expect(lz4.compressAt(src, data.length, dst, first)).toBe(first);
      expect(Buffer.from(heap.copyOut(dst, first)).equals(Buffer.from(block))).toBe(true);
      expect(lz4.compressAt(src, data.length, dst, first - 1)).toBe(0);
      expect(lz4.compressAt(src, data.length, dst, 0)).toBe(0);
    }
    region.release();
  });

  it('gives the same blocks after the hash table epoch wraps around', () => {
    const sample = mixedBytes(20_000, 9);
    const before = lz4.compress(sample);
    // A call consumes srcLen + 1 of the 2^32 epoch space even when it stops at
    // its first match for lack of room, so 140 calls on 32 MiB wrap it. The
    // input starts with a 4-byte match at offset 1 that ends at byte 5.
    const big = new Region(32 << 20);
    heap.write(big.ptr, Uint8Array.of(0, 0, 0, 0, 0, 1));
    const scratch = new Region(16);
    for (let i = 0; i < 140; i++) expect(lz4.compressAt(big.ptr, 32 << 20, scratch.ptr, 1)).toBe(0);
    big.release();
    scratch.release();
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(lz4.compress(sample)).equals(Buffer.from(before))).toBe(true);
      lz4.compress(randomBytes(70_000, i));
    }
  });
});

describe('lz4 interop with lz4js', () => {
  const inputs = (): Uint8Array[] => [
    ...[13, 14, 20, 100, 4096, 65_536, 65_537, 300_000].map((n) => compressibleBytes(n, n)),
    ...[13, 17, 4096, 65_536, 200_000].map((n) => mixedBytes(n, n)),
    ...[16, 64, 5000].map((n) => new Uint8Array(n)),
    ...[3, 7].map((p) => periodicBytes(10_000, p, p)),
    randomBytes(65_536, 1),
    new Uint8Array(0),
    randomBytes(12, 2),
  ];

  it('decodes blocks lz4js produces', () => {
    let decoded = 0;
    for (const data of inputs()) {
      const block = lz4jsCompress(data);
      if (block === null) continue;
      expect(Buffer.from(lz4.decompress(block, data.length)).equals(Buffer.from(data))).toBe(true);
      decoded++;
    }
    // lz4js stores nothing for inputs where it finds no match (8 of them here).
    expect(decoded).toBe(13);
  });

  it('produces blocks lz4js decodes', () => {
    for (const data of inputs()) {
      const block = lz4.compress(data);
      expect(Buffer.from(lz4jsDecompress(block, data.length)).equals(Buffer.from(data))).toBe(true);
    }
  });
});

describe('lz4 decompress on malformed input', () => {
  const E = lz4.Lz4Error;
  const decode = (bytes: number[], cap: number): number => {
    const src = heap.alloc(Math.max(1, bytes.length));
    const dst = heap.alloc(Math.max(1, cap));
    heap.write(src, Uint8Array.from(bytes));
    const n = lz4.decompressAtRaw(src, bytes.length, dst, cap);
    heap.free(src);
    heap.free(dst);
    return n;
  };

  it('reports each error code where the format breaks', () => {
    expect(decode([], 10)).toBe(E.TRUNCATED);
    expect(decode([0xf0], 100)).toBe(E.TRUNCATED);
    expect(decode([0xf0, 0xff], 1000)).toBe(E.TRUNCATED);
    expect(decode([0x20, 65], 10)).toBe(E.TRUNCATED);
    expect(decode([0x10, 65, 1], 10)).toBe(E.TRUNCATED);
    expect(decode([0x1f, 65, 1, 0], 100)).toBe(E.TRUNCATED);
    expect(decode([0x10, 65, 1, 0], 10)).toBe(E.NO_LAST_LITERALS);
    expect(decode([0x10, 65, 0, 0, 0x00], 10)).toBe(E.OFFSET_ZERO);
    expect(decode([0x10, 65, 2, 0, 0x00], 10)).toBe(E.OFFSET_OUT_OF_RANGE);
    expect(decode([0x00, 1, 0, 0x00], 10)).toBe(E.OFFSET_OUT_OF_RANGE);
    expect(decode([0x50, 1, 2, 3, 4, 5], 4)).toBe(E.OUTPUT_OVERFLOW);
    expect(decode([0x10, 65, 1, 0, 0x00], 4)).toBe(E.OUTPUT_OVERFLOW);
    expect(decode([0xf0, ...new Array<number>(5000).fill(255), 0], 100_000)).toBe(E.OUTPUT_OVERFLOW);
    expect(lz4.decompressAtRaw(raw.memory.buffer.byteLength - 2, 3, 0, 0)).toBe(E.BAD_ARGUMENT);
    expect(lz4.decompressAtRaw(16, 1, raw.memory.buffer.byteLength, 1)).toBe(E.BAD_ARGUMENT);
    expect(lz4.decompressAtRaw(16, 1, 0x7fffffff, 0xffffffff)).toBe(E.BAD_ARGUMENT);
  });

  it('decodes the edge forms the format allows', () => {
    expect(decode([0x00], 0)).toBe(0);
    expect(decode([0x10, 65, 1, 0, 0x00], 5)).toBe(5);
    // A final token's match nibble is ignored, as by the reference decoder.
    expect(decode([0x1f, 65], 1)).toBe(1);
    // Matches in the last 12 bytes break the compressor's rules, not the decoder's.
    expect(decode([0x10, 65, 1, 0, 0x10, 66], 6)).toBe(6);
  });

  it('wrapper throws CorruptionError naming the code, or on a length mismatch', () => {
    const block = lz4.compress(compressibleBytes(1000, 1));
    expect(() => lz4.decompress(block, 999)).toThrow(CorruptionError);
    expect(() => lz4.decompress(block, 999)).toThrow(/OUTPUT_OVERFLOW \(code -3\)/);
    expect(() => lz4.decompress(block, 1001)).toThrow(/decoded to 1000 bytes, expected 1001/);
    expect(() => lz4.decompress(block.subarray(0, 500), 1000)).toThrow(CorruptionError);
    expect(() => lz4.decompress(new Uint8Array(0), 0)).toThrow(/TRUNCATED/);
    expect(() => lz4.decompress(block, -1)).toThrow(InvalidArgumentError);
    expect(() => lz4.decompress(block, 1.5)).toThrow(InvalidArgumentError);
    expect(() => lz4.compressBound(-1)).toThrow(InvalidArgumentError);
    expect(() => lz4.compressBound(lz4.MAX_INPUT + 1)).toThrow(InvalidArgumentError);
    expect(lz4.compressBound(0)).toBe(16);
    expect(lz4.compressBound(1000)).toBe(1000 + 3 + 16);
    const src = heap.alloc(block.length);
    const dst = heap.alloc(1000);
    heap.write(src, block);
    expect(() => lz4.decompressAt(src, block.length, dst, 999)).toThrow(CorruptionError);
    expect(lz4.decompressAt(src, block.length, dst, 1000)).toBe(1000);
    const end = raw.memory.buffer.byteLength;
    expect(() => lz4.decompressAt(end - 2, 3, dst, 1000)).toThrow(InvalidArgumentError);
    expect(() => lz4.compressAt(end - 2, 3, dst, 1000)).toThrow(InvalidArgumentError);
    expect(() => lz4.compressAt(src, 10, end - 2, 3)).toThrow(InvalidArgumentError);
    expect(() => lz4.compressAt(src, lz4.MAX_INPUT + 1, dst, 1000)).toThrow(InvalidArgumentError);
    heap.free(src);
    heap.free(dst);
  });
});

describe('lz4 kernel stays inside its buffers', () => {
  const GUARD = 64;
  const PAGE = 65_536;
  const dstRegion = new Region(PAGE + 2 * GUARD);
  const dstBase = dstRegion.ptr + GUARD;
  let pageEnd = 0;

  // Grows a page past everything the allocator owns: an input placed at its
  // end makes any read past the input trap, which fails the test. Call after
  // the test's last allocation.
  const ownTailPage = (): void => {
    pageEnd = (raw.memory.grow(1) + 1) * PAGE;
  };
  const placeAtEnd = (bytes: Uint8Array): number => {
    if (raw.memory.buffer.byteLength !== pageEnd) throw new Error('the guard page is no longer at the end of memory');
    const ptr = pageEnd - bytes.length;
    heap.write(ptr, bytes);
    return ptr;
  };
  const armGuards = (cap: number): void => {
    const mem = heap.u8();
    mem.fill(0xa5, dstBase - GUARD, dstBase);
    mem.fill(0x5a, dstBase + cap, dstBase + cap + GUARD);
  };
  const guardsIntact = (cap: number): boolean => {
    const mem = heap.u8();
    for (let i = dstBase - GUARD; i < dstBase; i++) if (mem[i] !== 0xa5) return false;
    for (let i = dstBase + cap; i < dstBase + cap + GUARD; i++) if (mem[i] !== 0x5a) return false;
    return true;
  };

  it('decompress: 100,000 random, truncated and mutated blocks agree with the model', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pool: Array<{ block: Uint8Array; size: number }> = [];
    for (let i = 0; i < 120; i++) {
      const size = [0, 1, 5, 12, 13, 20, 64, 300, 1000, 4096, 9000][i % 11]!;
      const kinds = [compressibleBytes(size, i), mixedBytes(size, i), periodicBytes(size, 1 + (i % 9), i), randomBytes(size, i)];
      const data = kinds[i % kinds.length]!;
      pool.push({ block: lz4.compress(data), size });
      const theirs = lz4jsCompress(data);
      if (theirs) pool.push({ block: Uint8Array.from(theirs), size });
    }

    ownTailPage();
    let successes = 0;
    let failures = 0;
    for (let iter = 0; iter < 100_000; iter++) {
      let input: Uint8Array;
      let cap: number;
      const mode = rand(6);
      if (mode === 0) {
        input = randomBytes(rand(80), rand(1 << 30) + 1);
        cap = rand(3000);
      } else {
        const { block, size } = pool[rand(pool.length)]!;
        input = Uint8Array.from(block);
        if (mode === 1) {
          input = input.subarray(0, rand(input.length + 1));
        } else if (mode === 2) {
          const tail = randomBytes(1 + rand(20), rand(1 << 30) + 1);
          const longer = new Uint8Array(input.length + tail.length);
          longer.set(input);
          longer.set(tail, input.length);
          input = longer;
        } else if (input.length > 0) {
          const edits = 1 + rand(3);
          for (let e = 0; e < edits; e++) {
            const at = rand(input.length);
            if (mode === 3) input[at]! ^= 1 << rand(8);
            else input[at] = rand(256);
          }
        }
        const capKind = rand(4);
        cap = capKind === 0 ? size : capKind === 1 ? Math.max(0, size - 1 - rand(16)) : capKind === 2 ? size + rand(64) : rand(size * 2 + 1);
      }
      const expected = referenceDecode(input, cap);
      const src = placeAtEnd(input);
      armGuards(cap);
      const n = lz4.decompressAtRaw(src, input.length, dstBase, cap);
      if (!guardsIntact(cap)) throw new Error(`guard bytes changed at iteration ${iter}`);
      if (expected === null) {
        if (n >= 0) throw new Error(`iteration ${iter}: kernel decoded ${n} bytes, model says malformed`);
        failures++;
      } else {
        if (n !== expected.bytes.length) throw new Error(`iteration ${iter}: kernel ${n}, model ${expected.bytes.length} bytes`);
        if (!Buffer.from(heap.copyOut(dstBase, n)).equals(Buffer.from(expected.bytes))) {
          throw new Error(`iteration ${iter}: decoded bytes differ from the model`);
        }
        successes++;
      }
    }
    // The mix must exercise both outcomes substantially.
    expect(successes).toBeGreaterThan(10_000);
    expect(failures).toBeGreaterThan(10_000);
  }, 30_000);

  it('compress: never reads past its input nor writes past its cap', () => {
    const cases = Array.from({ length: 400 }, (_, i) => {
      const size = [0, 1, 12, 13, 14, 17, 100, 4096, 30_000][i % 9]!;
      const data = [compressibleBytes, mixedBytes, randomBytes][i % 3]!(size, i + 1);
      return { size, data, reference: lz4.compress(data) };
    });
    ownTailPage();
    for (const { size, data, reference } of cases) {
      for (const cap of [reference.length, reference.length - 1, Math.floor(reference.length / 2), size + 30]) {
        if (cap < 0 || cap > PAGE) continue;
        const src = placeAtEnd(data);
        armGuards(cap);
        const n = lz4.compressAt(src, size, dstBase, cap);
        expect(guardsIntact(cap)).toBe(true);
        if (cap >= reference.length) {
          expect(n).toBe(reference.length);
          expect(Buffer.from(heap.copyOut(dstBase, n)).equals(Buffer.from(reference))).toBe(true);
        } else {
          expect(n).toBe(0);
        }
      }
    }
  });
});
