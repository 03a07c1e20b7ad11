// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8.
// The tables are built once at start-up into static memory (8 x 256 u32).

const POLY: u32 = 0x82f63b78;
const MASK_DELTA: u32 = 0xa282ead8;

const TABLES: usize = memory.data(8 * 256 * 4, 16);

function initTables(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize>i << 2), c);
  }
  for (let t: u32 = 1; t < 8; t++) {
    for (let i: u32 = 0; i < 256; i++) {
      const prev = load<u32>(TABLES + ((<usize>(t - 1) << 10) + (<usize>i << 2)));
      const next = (prev >>> 8) ^ load<u32>(TABLES + (<usize>(prev & 0xff) << 2));
      store<u32>(TABLES + ((<usize>t << 10) + (<usize>i << 2)), next);
    }
  }
}
initTables();

@inline
function tab(t: u32, i: u32): u32 {
  return load<u32>(TABLES + ((<usize>t << 10) + (<usize>(i & 0xff) << 2)));
}

/**
 * Extends `crc` (a finished CRC32C of earlier bytes, 0 to start) over
 * `len` bytes at `ptr`.
 */
export function crc32cExtend(crc: u32, ptr: usize, len: u32): u32 {
  let c = ~crc;
  let p = ptr;
  const end = ptr + <usize>len;
  while (p < end && (p & 7) != 0) {
    c = tab(0, c ^ load<u8>(p)) ^ (c >>> 8);
    p++;
  }
  while (p + 8 <= end) {
    const lo = load<u32>(p) ^ c;
    const hi = load<u32>(p, 4);
    c =
      tab(7, lo) ^ tab(6, lo >>> 8) ^ tab(5, lo >>> 16) ^ tab(4, lo >>> 24) ^
      tab(3, hi) ^ tab(2, hi >>> 8) ^ tab(1, hi >>> 16) ^ tab(0, hi >>> 24);
    p += 8;
  }
  while (p < end) {
    c = tab(0, c ^ load<u8>(p)) ^ (c >>> 8);
    p++;
  }
  return ~c;
}

/**
 * The smallest n in [0, len] for which crc32cExtend(crc, ptr, n) equals
 * `target`, or -1: where a record ends whose length field was damaged but
 * whose checksum was not.
 */
export function crc32cPrefixMatching(crc: u32, ptr: usize, len: u32, target: u32): i32 {
  let c = ~crc;
  if (~c == target) return 0;
  for (let i: u32 = 0; i < len; i++) {
    c = tab(0, c ^ load<u8>(ptr + <usize>i)) ^ (c >>> 8);
    if (~c == target) return <i32>(i + 1);
  }
  return -1;
}

/** CRC32C of `len` bytes at `ptr`. */
export function crc32c(ptr: usize, len: u32): u32 {
  return crc32cExtend(0, ptr, len);
}

/**
 * Stored checksums are masked (LevelDB's scheme) so that a CRC computed over
 * bytes that themselves embed CRCs does not degenerate.
 */
export function crc32cMask(crc: u32): u32 {
  return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
}

export function crc32cUnmask(masked: u32): u32 {
  const rot = masked - MASK_DELTA;
  return (rot >>> 17) | (rot << 15);
}
