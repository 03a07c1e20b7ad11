// Unsigned LEB128 varints (7 bits per byte, low group first, high bit set on
// every byte but the last), as LevelDB's varint32. At most 5 bytes.

export const MAX_VARINT32_SIZE: u32 = 5;

/** Bytes the shortest encoding of `v` takes. */
@inline
export function varint32Size(v: u32): u32 {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` at `p` and returns the position just after it. Caller reserves 5 bytes. */
@inline
export function putVarint32(p: usize, v: u32): usize {
  while (v >= 0x80) {
    store<u8>(p, <u8>(v | 0x80));
    p++;
    v >>>= 7;
  }
  store<u8>(p, <u8>v);
  return p + 1;
}

/**
 * Decodes a varint32 from bytes [p, end). Returns (value << 32) | size, where
 * size is the number of bytes read, or 0 when the varint runs past `end` or
 * does not fit 32 bits (a fifth byte above 0x0F). Never reads at or past `end`.
 */
export function getVarint32(p: usize, end: usize): u64 {
  let value: u32 = 0;
  let shift: u32 = 0;
  let q = p;
  while (q < end) {
    const b = <u32>load<u8>(q);
    q++;
    if (shift == 28) {
      if (b > 0x0f) return 0;
      return (<u64>(value | (b << 28)) << 32) | <u64>(q - p);
    }
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return (<u64>value << 32) | <u64>(q - p);
    shift += 7;
  }
  return 0;
}
