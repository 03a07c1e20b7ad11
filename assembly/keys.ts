// Internal keys: user key bytes followed by an 8-byte little-endian trailer
// holding (sequence << 8 | kind). Order: user key bytewise ascending, then
// trailer descending, so the newest version of a key comes first.
// Precondition for every function here: each internal key is >= 8 bytes.

export const TRAILER_SIZE: u32 = 8;
/** The largest sequence: sequences must stay exact as f64 on the host side. */
export const MAX_SEQUENCE: u64 = (<u64>1 << 53) - 1;

/** Bytewise comparison of two byte strings: <0, 0 or >0. */
@inline
export function compareBytes(a: usize, aLen: u32, b: usize, bLen: u32): i32 {
  const n = aLen < bLen ? aLen : bLen;
  let i: u32 = 0;
  // Eight bytes at a time; a big-endian view of each word orders like memcmp.
  while (i + 8 <= n) {
    const x = load<u64>(a + i);
    const y = load<u64>(b + i);
    if (x != y) {
      const bx = bswap<u64>(x);
      const by = bswap<u64>(y);
      return bx < by ? -1 : 1;
    }
    i += 8;
  }
  while (i < n) {
    const x = <i32>load<u8>(a + i);
    const y = <i32>load<u8>(b + i);
    if (x != y) return x - y;
    i++;
  }
  return aLen < bLen ? -1 : aLen > bLen ? 1 : 0;
}

/** Internal-key comparison: user key ascending, then trailer descending. */
@inline
export function compareInternal(a: usize, aLen: u32, b: usize, bLen: u32): i32 {
  const c = compareBytes(a, aLen - TRAILER_SIZE, b, bLen - TRAILER_SIZE);
  if (c != 0) return c;
  const ta = load<u64>(a + aLen - TRAILER_SIZE);
  const tb = load<u64>(b + bLen - TRAILER_SIZE);
  return ta > tb ? -1 : ta < tb ? 1 : 0;
}

/** Packs a sequence (exact integer < 2^53, passed as f64 to keep BigInt off the boundary) and kind. */
@inline
export function packTrailer(seq: f64, kind: u32): u64 {
  return (<u64>seq << 8) | <u64>(kind & 0xff);
}

/** Exported for hosts and tests that need the engine's exact ordering. */
export function compareInternalKeys(a: usize, aLen: u32, b: usize, bLen: u32): i32 {
  return compareInternal(a, aLen, b, bLen);
}
