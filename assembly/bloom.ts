// Cache-line-blocked bloom filter over 64-bit key hashes (see hash.ts).
//
// Filter bytes: numBlocks blocks of 64 bytes (512 bits), then an 8-byte
// trailer:
//   +0 u32 LE  numBlocks (>= 1; must equal (length - 8) / 64)
//   +4 u8      numProbes (1..MAX_PROBES)
//   +5 u8      0 (reserved)
//   +6 u8      0 (reserved)
//   +7 u8      format tag, FORMAT_BLOCKED_512 = 1
// A hash (lo = low 32 bits, hi = high 32 bits) selects block
// (hi * numBlocks) >> 32 and sets numProbes bits in it: with h = lo, each
// probe takes bit h >>> 23 (0..511) then steps h = h * GOLDEN (mod 2^32).
// Bit b of a block is bit (b & 7) of its byte b >> 3.
//
// Probing never traps on a malformed filter: it answers "may contain".
// bloomCheck reports what is wrong.

import { touch } from './point-batch';

const BLOCK_BYTES: u32 = 64;
const TRAILER_BYTES: u32 = 8;
const FORMAT_BLOCKED_512: u8 = 1;
const MAX_PROBES: u32 = 32;
const GOLDEN: u32 = 0x9e3779b9;

export const BLOOM_ERR_LENGTH: i32 = -1;
export const BLOOM_ERR_BLOCK_COUNT: i32 = -2;
export const BLOOM_ERR_TAG: i32 = -3;
export const BLOOM_ERR_PROBES: i32 = -4;
export const BLOOM_ERR_RESERVED: i32 = -5;
export const BLOOM_ERR_BITS_PER_KEY: i32 = -6;
export const BLOOM_ERR_TOO_LARGE: i32 = -7;
export const BLOOM_ERR_OUT_TOO_SMALL: i32 = -8;

const MIN_BITS_PER_KEY: f64 = 1;
const MAX_BITS_PER_KEY: f64 = 64;
// Largest filter the module can allocate (memory.ts caps allocations here).
const MAX_FILTER_BYTES: f64 = 0x7fff0000;

// PROBE_THRESHOLDS[i]: the bits per key, in millibits, from which the
// builder uses i + 2 probes (below the first, 1 probe). Each is where the
// choice changes under this rule: the fewest probes whose expected
// false-positive rate is within 1% of the best over all probe counts (fewer
// probes are cheaper at equal accuracy), the rate of a 512-bit block with
// Poisson(512 / bitsPerKey) keys, each setting k bits with replacement.
const PROBE_THRESHOLDS: usize = memory.data<u32>([
  2140, 3670, 5210, 6810, 8480, 10250, 12150, 14190, 16410, 18850,
  21540, 24530, 27880, 31630, 35870, 40670, 46130, 52370, 59520,
]);
const PROBE_THRESHOLD_COUNT: u32 = 19;

/** Probes the builder uses at `bitsPerKey`, rounded to a millibit (precondition: in range). */
export function bloomProbesFor(bitsPerKey: f64): u32 {
  const millibits = <u32>Math.floor(bitsPerKey * 1000 + 0.5);
  let probes: u32 = 1;
  for (let i: u32 = 0; i < PROBE_THRESHOLD_COUNT; i++) {
    if (millibits < load<u32>(PROBE_THRESHOLDS + (<usize>i << 2))) break;
    probes++;
  }
  return probes;
}

function validBitsPerKey(bitsPerKey: f64): bool {
  // Written so NaN fails.
  return bitsPerKey >= MIN_BITS_PER_KEY && bitsPerKey <= MAX_BITS_PER_KEY;
}

/** Blocks for `numKeys` keys at `bitsPerKey`, at least one; 0 if too large. */
function blocksFor(numKeys: u32, bitsPerKey: f64): u32 {
  const blocks = Math.ceil((<f64>numKeys * bitsPerKey) / <f64>(BLOCK_BYTES * 8));
  if (blocks * <f64>BLOCK_BYTES + <f64>TRAILER_BYTES > MAX_FILTER_BYTES) return 0;
  return blocks < 1 ? 1 : <u32>blocks;
}

/** Byte length of the filter for `numKeys` keys, or a negative BLOOM_ERR_*. */
export function bloomFilterSize(numKeys: u32, bitsPerKey: f64): i32 {
  if (!validBitsPerKey(bitsPerKey)) return BLOOM_ERR_BITS_PER_KEY;
  const blocks = blocksFor(numKeys, bitsPerKey);
  if (blocks == 0) return BLOOM_ERR_TOO_LARGE;
  return <i32>(blocks * BLOCK_BYTES + TRAILER_BYTES);
}

@inline
function blockOf(hi: u32, numBlocks: u32): u32 {
  return <u32>((<u64>hi * <u64>numBlocks) >> 32);
}

/**
 * Sets the bits of the hash (hi << 32 | lo) in `numBlocks` blocks at
 * `blocksPtr` (the blocks only: no trailer is read).
 */
@inline
function bloomAdd(blocksPtr: usize, numBlocks: u32, probes: u32, lo: u32, hi: u32): void {
  const block = blocksPtr + <usize>blockOf(hi, numBlocks) * BLOCK_BYTES;
  let h = lo;
  for (let j: u32 = 0; j < probes; j++) {
    const bit = h >>> 23;
    const byte = block + <usize>(bit >>> 3);
    store<u8>(byte, load<u8>(byte) | (<u8>1 << <u8>(bit & 7)));
    h *= GOLDEN;
  }
}

/**
 * Builds a filter from `count` 8-byte hashes at `hashesPtr` into `outPtr`
 * (capacity `outCap`). Returns the filter length, or a negative BLOOM_ERR_*.
 */
export function bloomBuild(hashesPtr: usize, count: u32, bitsPerKey: f64, outPtr: usize, outCap: u32): i32 {
  const size = bloomFilterSize(count, bitsPerKey);
  if (size < 0) return size;
  if (<u32>size > outCap) return BLOOM_ERR_OUT_TOO_SMALL;
  const numBlocks = (<u32>size - TRAILER_BYTES) / BLOCK_BYTES;
  const probes = bloomProbesFor(bitsPerKey);
  memory.fill(outPtr, 0, <usize>numBlocks * BLOCK_BYTES);
  for (let i: u32 = 0; i < count; i++) {
    const at = hashesPtr + (<usize>i << 3);
    bloomAdd(outPtr, numBlocks, probes, load<u32>(at), load<u32>(at, 4));
  }
  const trailer = outPtr + <usize>numBlocks * BLOCK_BYTES;
  store<u32>(trailer, numBlocks);
  store<u8>(trailer, <u8>probes, 4);
  store<u8>(trailer, 0, 5);
  store<u8>(trailer, 0, 6);
  store<u8>(trailer, FORMAT_BLOCKED_512, 7);
  return size;
}

/** Validates a filter's framing: its probe count, or a negative BLOOM_ERR_*. */
export function bloomCheck(filterPtr: usize, filterLen: u32): i32 {
  if (filterLen < BLOCK_BYTES + TRAILER_BYTES || (filterLen - TRAILER_BYTES) % BLOCK_BYTES != 0) {
    return BLOOM_ERR_LENGTH;
  }
  const trailer = filterPtr + <usize>(filterLen - TRAILER_BYTES);
  if (load<u8>(trailer, 7) != FORMAT_BLOCKED_512) return BLOOM_ERR_TAG;
  if (load<u32>(trailer) != (filterLen - TRAILER_BYTES) / BLOCK_BYTES) return BLOOM_ERR_BLOCK_COUNT;
  if (load<u8>(trailer, 5) != 0 || load<u8>(trailer, 6) != 0) return BLOOM_ERR_RESERVED;
  const probes = <u32>load<u8>(trailer, 4);
  if (probes == 0 || probes > MAX_PROBES) return BLOOM_ERR_PROBES;
  return <i32>probes;
}

/** 1 if the hash's bits are all set in `numBlocks` blocks at `blocksPtr`, else 0; every bit is tested (no branch per probe). */
@inline
function bloomProbe(filterPtr: usize, numBlocks: u32, probes: u32, lo: u32, hi: u32): u32 {
  const block = filterPtr + <usize>blockOf(hi, numBlocks) * BLOCK_BYTES;
  let h = lo;
  let all: u32 = 1;
  for (let j: u32 = 0; j < probes; j++) {
    const bit = h >>> 23;
    all &= <u32>load<u8>(block + <usize>(bit >>> 3)) >>> (bit & 7);
    h *= GOLDEN;
  }
  return all & 1;
}

/** 1 if the key with hash (hi << 32 | lo) may be in the filter, 0 if it is not; 1 for a malformed filter. */
export function bloomMayContain(filterPtr: usize, filterLen: u32, lo: u32, hi: u32): i32 {
  const probes = bloomCheck(filterPtr, filterLen);
  if (probes < 0) return 1;
  return <i32>bloomProbe(filterPtr, (filterLen - TRAILER_BYTES) / BLOCK_BYTES, <u32>probes, lo, hi);
}

/** Loads the line of the filter block the hash (high half `hi`) probes, to start its cache miss (point-batch.ts). */
@inline
export function bloomTouch(filterPtr: usize, filterLen: u32, hi: u32): void {
  if (filterLen < BLOCK_BYTES + TRAILER_BYTES) return;
  touch(filterPtr + <usize>blockOf(hi, (filterLen - TRAILER_BYTES) / BLOCK_BYTES) * BLOCK_BYTES);
}

/**
 * Probes `count` 8-byte hashes at `hashesPtr`, writing one byte per hash at
 * `outPtr` (1 = may contain, 0 = absent). Returns how many may be present;
 * a malformed filter answers 1 for every hash.
 */
export function bloomMayContainBatch(filterPtr: usize, filterLen: u32, hashesPtr: usize, count: u32, outPtr: usize): i32 {
  const probes = bloomCheck(filterPtr, filterLen);
  if (probes < 0) {
    memory.fill(outPtr, 1, <usize>count);
    return <i32>count;
  }
  const numBlocks = (filterLen - TRAILER_BYTES) / BLOCK_BYTES;
  let maybe: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const at = hashesPtr + (<usize>i << 3);
    const r = bloomProbe(filterPtr, numBlocks, <u32>probes, load<u32>(at), load<u32>(at, 4));
    store<u8>(outPtr + <usize>i, <u8>r);
    maybe += r;
  }
  return <i32>maybe;
}
