import { createRequire } from 'node:module';
import { wasm } from 'varve';
import type { Case } from '../harness.js';
import { numberedKeys } from '../data.js';

const require = createRequire(import.meta.url);
const lz4jsXxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number };

// ---- XXH64 in pure JS, as a skilled JS engineer writes it: 64-bit values
// as (hi, lo) u32 pairs, 16-bit partial products, and results in a typed
// "register" pair (module-level numbers above 2^30 would be boxed on every
// store), so nothing is allocated per key.

const R = new Uint32Array(2); // R[0] = high word, R[1] = low word

/** R = (ah, al) * (bh, bl) mod 2^64. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  R[1] = (mid << 16) | (p00 & 0xffff);
  R[0] = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(ah, bl) + Math.imul(al, bh);
}

/** R = (ah, al) + (bh, bl) mod 2^64. */
function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = (al >>> 0) + (bl >>> 0);
  R[1] = lo;
  R[0] = ah + bh + (lo > 0xffffffff ? 1 : 0);
}

/** R = rotl((h, l), r) for 0 < r < 32. */
function rotl64(h: number, l: number, r: number): void {
  R[0] = (h << r) | (l >>> (32 - r));
  R[1] = (l << r) | (h >>> (32 - r));
}

const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

function u32At(k: Uint8Array, i: number): number {
  return k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24);
}

/** R = round((accH, accL), lane at k[i]). */
function round64(accH: number, accL: number, k: Uint8Array, i: number): void {
  mul64(u32At(k, i + 4), u32At(k, i), P2H, P2L);
  add64(accH, accL, R[0]!, R[1]!);
  rotl64(R[0]!, R[1]!, 31);
  mul64(R[0]!, R[1]!, P1H, P1L);
}

/** R = ((h ^ round(0, v)) * P1 + P4. */
function mergeRound(hH: number, hL: number, vH: number, vL: number): void {
  mul64(vH, vL, P2H, P2L);
  rotl64(R[0]!, R[1]!, 31);
  mul64(R[0]!, R[1]!, P1H, P1L);
  mul64(hH ^ R[0]!, hL ^ R[1]!, P1H, P1L);
  add64(R[0]!, R[1]!, P4H, P4L);
}

/** XXH64 (seed 0) of `k`; writes lo, hi at out[2 * at], out[2 * at + 1]. */
function xxh64Js(k: Uint8Array, out: Uint32Array, at: number): void {
  const len = k.length;
  let p = 0;
  let hh: number, hl: number;
  if (len >= 32) {
    let v1h = 0x60ea27ee, v1l = 0xadc0b5d6; // P1 + P2
    let v2h = P2H, v2l = P2L;
    let v3h = 0, v3l = 0;
    let v4h = 0x61c8864e, v4l = 0x7a143579; // -P1
    for (; p + 32 <= len; p += 32) {
      round64(v1h, v1l, k, p);
      v1h = R[0]!; v1l = R[1]!;
      round64(v2h, v2l, k, p + 8);
      v2h = R[0]!; v2l = R[1]!;
      round64(v3h, v3l, k, p + 16);
      v3h = R[0]!; v3l = R[1]!;
      round64(v4h, v4l, k, p + 24);
      v4h = R[0]!; v4l = R[1]!;
    }
    rotl64(v1h, v1l, 1);
    hh = R[0]!; hl = R[1]!;
    rotl64(v2h, v2l, 7);
    add64(hh, hl, R[0]!, R[1]!);
    hh = R[0]!; hl = R[1]!;
    rotl64(v3h, v3l, 12);
    add64(hh, hl, R[0]!, R[1]!);
    hh = R[0]!; hl = R[1]!;
    rotl64(v4h, v4l, 18);
    add64(hh, hl, R[0]!, R[1]!);
    mergeRound(R[0]!, R[1]!, v1h, v1l);
    mergeRound(R[0]!, R[1]!, v2h, v2l);
    mergeRound(R[0]!, R[1]!, v3h, v3l);
    mergeRound(R[0]!, R[1]!, v4h, v4l);
    add64(R[0]!, R[1]!, 0, len);
  } else {
    add64(P5H, P5L, 0, len);
  }
  hh = R[0]!; hl = R[1]!;
  for (; p + 8 <= len; p += 8) {
    round64(0, 0, k, p);
    rotl64(hh ^ R[0]!, hl ^ R[1]!, 27);
    mul64(R[0]!, R[1]!, P1H, P1L);
    add64(R[0]!, R[1]!, P4H, P4L);
    hh = R[0]!; hl = R[1]!;
  }
  if (p + 4 <= len) {
    mul64(0, u32At(k, p), P1H, P1L);
    rotl64(hh ^ R[0]!, hl ^ R[1]!, 23);
    mul64(R[0]!, R[1]!, P2H, P2L);
    add64(R[0]!, R[1]!, P3H, P3L);
    hh = R[0]!; hl = R[1]!;
    p += 4;
  }
  for (; p < len; p++) {
    mul64(0, k[p]!, P5H, P5L);
    rotl64(hh ^ R[0]!, hl ^ R[1]!, 11);
    mul64(R[0]!, R[1]!, P1H, P1L);
    hh = R[0]!; hl = R[1]!;
  }
  hl ^= hh >>> 1; // h ^= h >> 33
  mul64(hh, hl, P2H, P2L);
  hh = R[0]!; hl = R[1]!;
  hl ^= (hl >>> 29) | (hh << 3); // h ^= h >> 29
  hh ^= hh >>> 29;
  mul64(hh, hl, P3H, P3L);
  out[2 * at] = R[1]! ^ R[0]!; // h ^= h >> 32
  out[2 * at + 1] = R[0]!;
}

// ---- XXH32 in pure JS, the cheaper 32-bit hash a JS engine would pick.

const Q1 = 0x9e3779b1, Q2 = 0x85ebca77, Q3 = 0xc2b2ae3d, Q4 = 0x27d4eb2f, Q5 = 0x165667b1;

function lane32(acc: number, k: Uint8Array, i: number): number {
  const x = (acc + Math.imul(u32At(k, i), Q2)) | 0;
  return Math.imul((x << 13) | (x >>> 19), Q1);
}

function xxh32Js(k: Uint8Array): number {
  const len = k.length;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (Q1 + Q2) | 0, v2 = Q2 | 0, v3 = 0, v4 = -Q1 | 0;
    for (; p + 16 <= len; p += 16) {
      v1 = lane32(v1, k, p);
      v2 = lane32(v2, k, p + 4);
      v3 = lane32(v3, k, p + 8);
      v4 = lane32(v4, k, p + 12);
    }
    h = ((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14));
  } else {
    h = Q5;
  }
  h = (h + len) | 0;
  for (; p + 4 <= len; p += 4) {
    h = (h + Math.imul(u32At(k, p), Q3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), Q4);
  }
  for (; p < len; p++) {
    h = (h + Math.imul(k[p]!, Q5)) | 0;
    h = Math.imul((h << 11) | (h >>> 21), Q1);
  }
  h = Math.imul(h ^ (h >>> 15), Q2);
  h = Math.imul(h ^ (h >>> 13), Q3);
  return (h ^ (h >>> 16)) >>> 0;
}

export function cases(): Case[] {
  const count = 1000;
  const keys = numberedKeys(count, 7);
  const keyLen = 16;
  // The engine hashes keys already in linear memory: packed bytes and offsets.
  const keysLen = count * keyLen;
  const region = new wasm.Region(keysLen + (count + 1) * 4 + count * wasm.HASH_BYTES);
  const outPtr = region.ptr;
  const offsetsPtr = outPtr + count * wasm.HASH_BYTES;
  const keysPtr = offsetsPtr + (count + 1) * 4;
  const dv = wasm.heap.view();
  keys.forEach((key, i) => {
    wasm.heap.write(keysPtr + i * keyLen, key);
    dv.setUint32(offsetsPtr + i * 4, i * keyLen, true);
  });
  dv.setUint32(offsetsPtr + count * 4, keysLen, true);

  const jsOut = new Uint32Array(count * 2);
  const xxh64All = (): Uint32Array => {
    for (let i = 0; i < count; i++) xxh64Js(keys[i]!, jsOut, i);
    return jsOut;
  };
  const xxh32Out = new Uint32Array(count);
  const xxh32All = (): Uint32Array => {
    for (let i = 0; i < count; i++) xxh32Out[i] = xxh32Js(keys[i]!);
    return xxh32Out;
  };
  const lz4jsAll = (): Uint32Array => {
    for (let i = 0; i < count; i++) xxh32Out[i] = lz4jsXxh32.hash(0, keys[i]!, 0, keyLen);
    return xxh32Out;
  };
  const varve = (): number => {
    wasm.hashBatchAt(keysPtr, keysLen, offsetsPtr, count, outPtr);
    return outPtr;
  };

  // Verify before timing: the JS XXH64 agrees with the kernel on every key
  // and on every length 0..100, and both XXH32s agree with each other.
  varve();
  const varveOut = new Uint32Array(wasm.heap.u8().slice(outPtr, outPtr + count * 8).buffer);
  xxh64All();
  if (!varveOut.every((v, i) => v === jsOut[i])) throw new Error('JS XXH64 disagrees with the kernel');
  const probe = new Uint32Array(2);
  const bytes = new Uint8Array(100).map((_, i) => (i * 37 + 11) & 0xff);
  for (let len = 0; len <= 100; len++) {
    const key = bytes.subarray(0, len);
    xxh64Js(key, probe, 0);
    const want = wasm.hashKey(key);
    if (BigInt(probe[0]!) + (BigInt(probe[1]!) << 32n) !== want) throw new Error(`JS XXH64 wrong at length ${len}`);
    if (xxh32Js(key) !== lz4jsXxh32.hash(0, key, 0, len)) throw new Error(`JS XXH32 wrong at length ${len}`);
  }

  const op = 'hash 1,000 16-byte keys';
  return [
    {
      kernel: 'hash',
      op: `${op} (XXH64, same hash)`,
      unit: 'M/s',
      perCall: count,
      varve,
      rival: { name: 'JS XXH64', fn: xxh64All },
      bar: 2.5,
    },
    {
      kernel: 'hash',
      op: `${op} (vs a 32-bit hash)`,
      unit: 'M/s',
      perCall: count,
      varve,
      rival: { name: 'JS XXH32', fn: xxh32All },
    },
    {
      kernel: 'hash',
      op: `${op} (vs lz4js)`,
      unit: 'M/s',
      perCall: count,
      varve,
      rival: { name: 'lz4js xxh32', fn: lz4jsAll },
    },
  ];
}
