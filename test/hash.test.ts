import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HASH_BYTES,
  hashAt,
  hashBatch,
  hashBatchAt,
  hashKey,
  heap,
  raw,
  readHashes,
  Region,
} from '../src/wasm/index.js';
import { InvalidArgumentError } from '../src/errors.js';
import { randomBytes } from './support/random.js';

// A plain reference XXH64 in BigInt arithmetic, written from the algorithm's
// description, to check the kernel against on arbitrary input.
const M64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;
const mul = (a: bigint, b: bigint): bigint => (a * b) & M64;
const add = (a: bigint, b: bigint): bigint => (a + b) & M64;
function le(bytes: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]!);
  return v;
}
const round = (acc: bigint, lane: bigint): bigint => mul(rotl(add(acc, mul(lane, P2)), 31n), P1);
const merge = (acc: bigint, v: bigint): bigint => add(mul(acc ^ round(0n, v), P1), P4);

function referenceXxh64(data: Uint8Array, seed: number): bigint {
  const s = BigInt(seed);
  const len = data.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    const v = [add(add(s, P1), P2), add(s, P2), s, (s - P1) & M64];
    for (; p + 32 <= len; p += 32) {
      for (let lane = 0; lane < 4; lane++) v[lane] = round(v[lane]!, le(data, p + lane * 8, 8));
    }
    h = add(add(rotl(v[0]!, 1n), rotl(v[1]!, 7n)), add(rotl(v[2]!, 12n), rotl(v[3]!, 18n)));
    for (const lane of v) h = merge(h, lane);
  } else {
    h = add(s, P5);
  }
  h = add(h, BigInt(len));
  for (; p + 8 <= len; p += 8) h = add(mul(rotl(h ^ round(0n, le(data, p, 8)), 27n), P1), P4);
  if (p + 4 <= len) {
    h = add(mul(rotl(h ^ mul(le(data, p, 4), P1), 23n), P2), P3);
    p += 4;
  }
  for (; p < len; p++) h = mul(rotl(h ^ mul(BigInt(data[p]!), P5), 11n), P1);
  h = mul(h ^ (h >> 33n), P2);
  h = mul(h ^ (h >> 29n), P3);
  return h ^ (h >> 32n);
}

// xxHash's sanity buffer (cli/xsum_sanity_check.c): byte i is the top byte of
// PRIME32 * PRIME64^i mod 2^64.
function sanityBuffer(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let gen = 2654435761n;
  for (let i = 0; i < size; i++) {
    out[i] = Number(gen >> 56n);
    gen = mul(gen, 11400714785074694797n);
  }
  return out;
}

const PRIME32 = 2654435761;

// Published XXH64 vectors over the sanity buffer: [length, seed, hash].
const VECTORS: Array<[number, number, bigint]> = [
  [0, 0, 0xef46db3751d8e999n],
  [0, PRIME32, 0xac75fda2929b17efn],
  [1, 0, 0xe934a84adb052768n],
  [1, PRIME32, 0x5014607643a9b4c3n],
  [4, 0, 0x9136a0dca57457een],
  [14, 0, 0x8282dcc4994e35c8n],
  [14, PRIME32, 0xc3bd6bf63deb6df0n],
  [222, 0, 0xb641ae8cb691c174n],
  [222, PRIME32, 0x20cb8ab7ae10c14an],
];

/** Packs keys into a region as hashBatchAt expects; returns the pointers. */
function packKeys(region: Region, keys: Uint8Array[], firstOffset: number) {
  const keysLen = firstOffset + keys.reduce((n, k) => n + k.length, 0);
  const outPtr = region.ensure(keys.length * HASH_BYTES + (keys.length + 1) * 4 + keysLen);
  const offsetsPtr = outPtr + keys.length * HASH_BYTES;
  const keysPtr = offsetsPtr + (keys.length + 1) * 4;
  const dv = heap.view();
  let offset = firstOffset;
  keys.forEach((key, i) => {
    dv.setUint32(offsetsPtr + i * 4, offset, true);
    heap.write(keysPtr + offset, key);
    offset += key.length;
  });
  dv.setUint32(offsetsPtr + keys.length * 4, offset, true);
  return { outPtr, offsetsPtr, keysPtr, keysLen };
}

describe('key hash (XXH64)', () => {
  it('matches the published xxHash test vectors', () => {
    const buffer = sanityBuffer(256);
    for (const [len, seed, expected] of VECTORS) {
      expect(hashKey(buffer.subarray(0, len), seed), `len ${len} seed ${seed}`).toBe(expected);
      expect(referenceXxh64(buffer.subarray(0, len), seed), `reference, len ${len}`).toBe(expected);
    }
  });

  it('matches the widely published XXH64 values of short strings', () => {
    const enc = new TextEncoder();
    expect(hashKey(enc.encode('a'))).toBe(0xd24ec4f1a98c6e5bn);
    expect(hashKey(enc.encode('abc'))).toBe(0x44bc2cf5ad770999n);
  });

  it('matches the reference on random keys of every length 0..256', () => {
    const data = randomBytes(256 + 64, 5);
    for (let len = 0; len <= 256; len++) {
      const key = data.subarray(len % 64, (len % 64) + len);
      for (const seed of [0, 1, PRIME32, 0xffffffff]) {
        expect(hashKey(key, seed), `len ${len} seed ${seed}`).toBe(referenceXxh64(key, seed));
      }
    }
  });

  it('hashes in place at every alignment', () => {
    const region = new Region(512);
    const data = randomBytes(300, 9);
    for (let offset = 0; offset < 8; offset++) {
      const key = data.subarray(0, 100 + offset * 7);
      heap.write(region.ptr + 16 + offset, key);
      hashAt(region.ptr + 16 + offset, key.length, region.ptr);
      expect(heap.view().getBigUint64(region.ptr, true)).toBe(referenceXxh64(key, 0));
    }
    region.release();
  });

  it('batch equals single-key hashing (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (keys, seed) => {
          const batch = hashBatch(keys, seed);
          expect(batch.length).toBe(keys.length);
          keys.forEach((key, i) => {
            expect(batch[i]).toBe(hashKey(key, seed));
            expect(batch[i]).toBe(referenceXxh64(key, seed));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('batch at the pointer level honours a non-zero first offset', () => {
    const region = new Region();
    const keys = Array.from({ length: 100 }, (_, i) => randomBytes(i % 37, i + 1));
    const { outPtr, offsetsPtr, keysPtr, keysLen } = packKeys(region, keys, 13);
    hashBatchAt(keysPtr, keysLen, offsetsPtr, keys.length, outPtr, 7);
    const hashes = readHashes(outPtr, keys.length);
    keys.forEach((key, i) => expect(hashes[i]).toBe(referenceXxh64(key, 7)));
    region.release();
  });

  it('rejects offsets that decrease or run past the key bytes without reading them', () => {
    const region = new Region();
    const keys = [randomBytes(10, 1), randomBytes(10, 2), randomBytes(10, 3)];
    const packed = packKeys(region, keys, 0);
    const { outPtr, offsetsPtr, keysPtr, keysLen } = packed;
    const batch = raw as unknown as { keyHashBatch(...args: number[]): number };
    expect(batch.keyHashBatch(keysPtr, keysLen, offsetsPtr, 3, 0, outPtr)).toBe(3);
    // Past the end of the key bytes.
    expect(batch.keyHashBatch(keysPtr, keysLen - 1, offsetsPtr, 3, 0, outPtr)).toBe(-1);
    expect(() => hashBatchAt(keysPtr, keysLen - 1, offsetsPtr, 3, outPtr)).toThrow(InvalidArgumentError);
    // Decreasing: key 1 would have a negative length.
    heap.view().setUint32(offsetsPtr + 4, 25, true);
    expect(() => hashBatchAt(keysPtr, keysLen, offsetsPtr, 3, outPtr)).toThrow(InvalidArgumentError);
    // A huge end offset must not be read as a length.
    heap.view().setUint32(offsetsPtr + 4, 10, true);
    heap.view().setUint32(offsetsPtr + 12, 0xfffffff0, true);
    expect(batch.keyHashBatch(keysPtr, keysLen, offsetsPtr, 3, 0, outPtr)).toBe(-1);
    region.release();
  });

  it('rejects seeds that are not u32', () => {
    const key = new Uint8Array(4);
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => hashKey(key, seed)).toThrow(InvalidArgumentError);
    }
  });

  it('spreads sequential keys evenly over both 32-bit halves', () => {
    // 2^16 numbered keys into 256 buckets by the top byte of each half: a
    // chi-square far above 255 degrees of freedom would mean bias.
    const enc = new TextEncoder();
    const keys = Array.from({ length: 1 << 16 }, (_, i) => enc.encode(String(i).padStart(16, '0')));
    const hashes = hashBatch(keys);
    for (const shift of [24n, 56n]) {
      const buckets = new Array<number>(256).fill(0);
      for (const h of hashes) buckets[Number((h >> shift) & 0xffn)]!++;
      const expected = hashes.length / 256;
      const chi = buckets.reduce((s, n) => s + (n - expected) ** 2 / expected, 0);
      expect(chi).toBeLessThan(350);
    }
  });
});
