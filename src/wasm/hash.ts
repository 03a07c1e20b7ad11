// The key hash (XXH64, see assembly/hash.ts and docs/FORMAT.md) over linear
// memory or host bytes. A hash is 8 little-endian bytes in linear memory and
// a bigint on the host.
import { InvalidArgumentError } from '../errors.js';
import { raw } from './loader.js';
import { Region, u8, view } from './heap.js';

interface HashExports {
  keyHash(ptr: number, len: number, seed: number, outPtr: number): void;
  keyHashBatch(keysPtr: number, keysLen: number, offsetsPtr: number, count: number, seed: number, outPtr: number): number;
}

const kernel = raw as unknown as HashExports;

/** Bytes per hash in linear memory. */
export const HASH_BYTES = 8;

const scratch = new Region(4096);

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidArgumentError(`hash seed must be a u32, got ${seed}`);
  }
}

/** Writes XXH64 of `len` bytes at `ptr` as 8 little-endian bytes at `outPtr`. */
export function hashAt(ptr: number, len: number, outPtr: number, seed = 0): void {
  checkSeed(seed);
  kernel.keyHash(ptr, len, seed, outPtr);
}

/**
 * Hashes `count` keys in one call: key i is bytes [offsets[i], offsets[i+1])
 * of the `keysLen` bytes at `keysPtr`, with `count + 1` u32 offsets at
 * `offsetsPtr`. Writes `count` 8-byte hashes at `outPtr`.
 */
export function hashBatchAt(
  keysPtr: number,
  keysLen: number,
  offsetsPtr: number,
  count: number,
  outPtr: number,
  seed = 0,
): void {
  checkSeed(seed);
  if (kernel.keyHashBatch(keysPtr, keysLen, offsetsPtr, count, seed, outPtr) < 0) {
    throw new InvalidArgumentError('hash batch offsets decrease or run past the key bytes');
  }
}

/** XXH64 of host bytes (copies them into linear memory; prefer hashAt on hot paths). */
export function hashKey(key: Uint8Array, seed = 0): bigint {
  checkSeed(seed);
  const outPtr = scratch.ensure(HASH_BYTES + key.length);
  u8().set(key, outPtr + HASH_BYTES);
  kernel.keyHash(outPtr + HASH_BYTES, key.length, seed, outPtr);
  return view().getBigUint64(outPtr, true);
}

/** XXH64 of each key, in one call into the module. */
export function hashBatch(keys: readonly Uint8Array[], seed = 0): BigUint64Array {
  checkSeed(seed);
  const count = keys.length;
  let keysLen = 0;
  for (const key of keys) keysLen += key.length;
  // Layout in scratch: hashes (8-aligned), offsets, key bytes.
  const outPtr = scratch.ensure(count * HASH_BYTES + (count + 1) * 4 + keysLen);
  const offsetsPtr = outPtr + count * HASH_BYTES;
  const keysPtr = offsetsPtr + (count + 1) * 4;
  const mem = u8();
  const dv = view();
  let offset = 0;
  for (let i = 0; i < count; i++) {
    dv.setUint32(offsetsPtr + i * 4, offset, true);
    mem.set(keys[i]!, keysPtr + offset);
    offset += keys[i]!.length;
  }
  dv.setUint32(offsetsPtr + count * 4, offset, true);
  hashBatchAt(keysPtr, keysLen, offsetsPtr, count, outPtr, seed);
  return readHashes(outPtr, count);
}

/** Reads `count` 8-byte hashes at `ptr` into a host array. */
export function readHashes(ptr: number, count: number): BigUint64Array {
  const dv = view();
  const out = new BigUint64Array(count);
  for (let i = 0; i < count; i++) out[i] = dv.getBigUint64(ptr + i * HASH_BYTES, true);
  return out;
}

/** Writes host hashes as 8-byte little-endian values at `ptr`. */
export function writeHashes(ptr: number, hashes: BigUint64Array): void {
  const dv = view();
  for (let i = 0; i < hashes.length; i++) dv.setBigUint64(ptr + i * HASH_BYTES, hashes[i]!, true);
}
