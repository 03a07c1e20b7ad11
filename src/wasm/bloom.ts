// The blocked bloom filter (see assembly/bloom.ts and docs/FORMAT.md) over
// linear memory or host bytes. Hashes are the key hashes of ./hash.ts.
// Probes are lenient: a malformed filter answers "may contain", so a damaged
// filter costs reads, never results. bloomCheck/bloomCheckAt report damage.
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { raw } from './loader.js';
import { Region, u8 } from './heap.js';
import { HASH_BYTES, writeHashes } from './hash.js';

interface BloomExports {
  bloomFilterSize(numKeys: number, bitsPerKey: number): number;
  bloomProbesFor(bitsPerKey: number): number;
  bloomBuild(hashesPtr: number, count: number, bitsPerKey: number, outPtr: number, outCap: number): number;
  bloomCheck(filterPtr: number, filterLen: number): number;
  bloomMayContain(filterPtr: number, filterLen: number, lo: number, hi: number): number;
  bloomMayContainBatch(filterPtr: number, filterLen: number, hashesPtr: number, count: number, outPtr: number): number;
}

const kernel = raw as unknown as BloomExports;

/** Bytes of the trailer that ends every filter. */
export const BLOOM_TRAILER_BYTES = 8;

// Negative results of the kernel (BLOOM_ERR_* in assembly/bloom.ts).
const MESSAGES: Record<number, string> = {
  [-1]: 'bloom filter length is not 8 + a positive multiple of 64',
  [-2]: 'bloom filter block count disagrees with its length',
  [-3]: 'bloom filter has an unknown format tag',
  [-4]: 'bloom filter probe count is out of range',
  [-5]: 'bloom filter reserved trailer bytes are not zero',
  [-6]: 'bitsPerKey must be a number in [1, 64]',
  [-7]: 'bloom filter would exceed 2 GiB',
  [-8]: 'bloom filter output buffer is too small',
};

const scratch = new Region(4096);

function argumentError(code: number): InvalidArgumentError {
  return new InvalidArgumentError(MESSAGES[code] ?? `bloom kernel error ${code}`);
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
    throw new InvalidArgumentError(`key count must be a u32, got ${count}`);
  }
}

/** Byte length of the filter `bloomBuildAt` writes for `numKeys` keys. */
export function bloomSize(numKeys: number, bitsPerKey: number): number {
  checkCount(numKeys);
  const size = kernel.bloomFilterSize(numKeys, bitsPerKey);
  if (size < 0) throw argumentError(size);
  return size;
}

/** Probes per key the builder uses at `bitsPerKey`. */
export function bloomProbesFor(bitsPerKey: number): number {
  const valid = kernel.bloomFilterSize(0, bitsPerKey);
  if (valid < 0) throw argumentError(valid);
  return kernel.bloomProbesFor(bitsPerKey);
}

/**
 * Builds the filter of `count` 8-byte hashes at `hashesPtr` into `outPtr`
 * (`outCapacity` bytes, at least bloomSize(count, bitsPerKey)). Returns its length.
 */
export function bloomBuildAt(
  hashesPtr: number,
  count: number,
  bitsPerKey: number,
  outPtr: number,
  outCapacity: number,
): number {
  checkCount(count);
  const size = kernel.bloomBuild(hashesPtr, count, bitsPerKey, outPtr, outCapacity);
  if (size < 0) throw argumentError(size);
  return size;
}

/** Builds a filter from host hashes; returns its bytes. */
export function bloomBuild(hashes: BigUint64Array, bitsPerKey: number): Uint8Array {
  const size = bloomSize(hashes.length, bitsPerKey);
  const hashesPtr = scratch.ensure(hashes.length * HASH_BYTES + size);
  const outPtr = hashesPtr + hashes.length * HASH_BYTES;
  writeHashes(hashesPtr, hashes);
  bloomBuildAt(hashesPtr, hashes.length, bitsPerKey, outPtr, size);
  return u8().slice(outPtr, outPtr + size);
}

/** Validates a filter in linear memory; returns its probe count or throws CorruptionError. */
export function bloomCheckAt(filterPtr: number, filterLen: number): number {
  const probes = kernel.bloomCheck(filterPtr, filterLen);
  if (probes < 0) throw new CorruptionError(MESSAGES[probes] ?? `bloom filter error ${probes}`);
  return probes;
}

/** Validates filter bytes; returns the probe count or throws CorruptionError. */
export function bloomCheck(filter: Uint8Array): number {
  const ptr = scratch.load(filter);
  return bloomCheckAt(ptr, filter.length);
}

/** False only if the key whose hash is (hi << 32 | lo) is certainly absent. */
export function bloomMayContainAt(filterPtr: number, filterLen: number, lo: number, hi: number): boolean {
  return kernel.bloomMayContain(filterPtr, filterLen, lo, hi) !== 0;
}

/**
 * Probes `count` 8-byte hashes at `hashesPtr`, writing one byte per hash at
 * `outPtr` (1 = may contain, 0 = absent). Returns how many may be present.
 */
export function bloomMayContainBatchAt(
  filterPtr: number,
  filterLen: number,
  hashesPtr: number,
  count: number,
  outPtr: number,
): number {
  checkCount(count);
  return kernel.bloomMayContainBatch(filterPtr, filterLen, hashesPtr, count, outPtr);
}

function checkHash(hash: bigint): void {
  if (BigInt.asUintN(64, hash) !== hash) throw new InvalidArgumentError('a key hash is a u64');
}

/** Probes host filter bytes (copied in on every call; prefer bloomMayContainAt). */
export function bloomMayContain(filter: Uint8Array, hash: bigint): boolean {
  checkHash(hash);
  const ptr = scratch.load(filter);
  return bloomMayContainAt(ptr, filter.length, Number(hash & 0xffffffffn), Number(hash >> 32n));
}

/** Probes every hash against host filter bytes; one byte per hash, 1 = may contain. */
export function bloomMayContainBatch(filter: Uint8Array, hashes: BigUint64Array): Uint8Array {
  const count = hashes.length;
  // Layout in scratch: hashes (8-aligned), answers, filter.
  const hashesPtr = scratch.ensure(count * HASH_BYTES + count + filter.length);
  const outPtr = hashesPtr + count * HASH_BYTES;
  const filterPtr = outPtr + count;
  writeHashes(hashesPtr, hashes);
  u8().set(filter, filterPtr);
  bloomMayContainBatchAt(filterPtr, filter.length, hashesPtr, count, outPtr);
  return u8().slice(outPtr, outPtr + count);
}
