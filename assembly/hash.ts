// Key hash: XXH64 (xxHash, 64-bit variant), bit-exact with the published
// algorithm. It is an on-disk format (bloom filters store bits derived from
// it), so it must never change. 64 bits rather than XXH32 so the bloom filter
// gets independent bits for block choice (high word) and in-block probes
// (low word). A hash is written as 8 little-endian bytes; seeds are u32,
// zero-extended to the algorithm's u64 seed.

const P1: u64 = 0x9e3779b185ebca87;
const P2: u64 = 0xc2b2ae3d27d4eb4f;
const P3: u64 = 0x165667b19e3779f9;
const P4: u64 = 0x85ebca77c2b2ae63;
const P5: u64 = 0x27d4eb2f165667c5;

/** Returned by keyHashBatch when the offsets table is not a valid partition of the key bytes. */
export const HASH_ERR_OFFSETS: i32 = -1;

@inline
function round(acc: u64, lane: u64): u64 {
  return rotl<u64>(acc + lane * P2, 31) * P1;
}

@inline
function mergeRound(acc: u64, lane: u64): u64 {
  return (acc ^ round(0, lane)) * P1 + P4;
}

/** XXH64 of `len` bytes at `ptr`. */
@inline
export function xxh64(ptr: usize, len: u32, seed: u64): u64 {
  let p = ptr;
  const end = ptr + <usize>len;
  let h: u64;
  if (len >= 32) {
    let v1 = seed + P1 + P2;
    let v2 = seed + P2;
    let v3 = seed;
    let v4 = seed - P1;
    const limit = end - 32;
    do {
      v1 = round(v1, load<u64>(p));
      v2 = round(v2, load<u64>(p, 8));
      v3 = round(v3, load<u64>(p, 16));
      v4 = round(v4, load<u64>(p, 24));
      p += 32;
    } while (p <= limit);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = seed + P5;
  }
  h += <u64>len;
  while (p + 8 <= end) {
    h = rotl<u64>(h ^ round(0, load<u64>(p)), 27) * P1 + P4;
    p += 8;
  }
  if (p + 4 <= end) {
    h = rotl<u64>(h ^ (<u64>load<u32>(p) * P1), 23) * P2 + P3;
    p += 4;
  }
  while (p < end) {
    h = rotl<u64>(h ^ (<u64>load<u8>(p) * P5), 11) * P1;
    p++;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

/** Writes XXH64(key, seed) as 8 little-endian bytes at `outPtr`. */
export function keyHash(ptr: usize, len: u32, seed: u32, outPtr: usize): void {
  store<u64>(outPtr, xxh64(ptr, len, <u64>seed));
}

/**
 * Hashes `count` keys packed in `keysLen` bytes at `keysPtr`: key i is bytes
 * [offsets[i], offsets[i+1]) relative to `keysPtr`, with `count + 1` u32
 * offsets at `offsetsPtr`. Writes `count` 8-byte hashes at `outPtr`.
 * Returns `count`, or HASH_ERR_OFFSETS (nothing read past the key bytes) if
 * the offsets decrease or run past `keysLen`; outputs before the bad key are
 * written.
 */
export function keyHashBatch(
  keysPtr: usize,
  keysLen: u32,
  offsetsPtr: usize,
  count: u32,
  seed: u32,
  outPtr: usize,
): i32 {
  const s = <u64>seed;
  let start = load<u32>(offsetsPtr);
  for (let i: u32 = 0; i < count; i++) {
    const stop = load<u32>(offsetsPtr + ((<usize>i + 1) << 2));
    if (stop < start || stop > keysLen) return HASH_ERR_OFFSETS;
    store<u64>(outPtr + (<usize>i << 3), xxh64(keysPtr + <usize>start, stop - start, s));
    start = stop;
  }
  return <i32>count;
}
