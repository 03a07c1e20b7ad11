// LEB128 varints of integers below 2^53 (JavaScript numbers, no BigInt):
// 7 bits per byte, low group first, the high bit set on every byte but the
// last. Readers accept only the shortest form, at most 8 bytes.

/** Bytes of the LEB128 varint of `n` (an integer below 2^53). */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes `n` (an integer below 2^53) as a LEB128 varint at `pos`; returns the position after it. */
export function writeVarint(mem: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    mem[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  mem[pos++] = n;
  return pos;
}

/** The varint's value and end, read from mem[pos, end). */
interface VarintResult {
  value: number;
  next: number;
}

/**
 * Reads a varint of a number below 2^53 from mem[pos, end): at most 8 bytes,
 * shortest form (no trailing zero group). Returns undefined when malformed.
 */
export function readVarint(mem: Uint8Array, pos: number, end: number): VarintResult | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8 && pos < end; i++) {
    const b = mem[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (b === 0 && i > 0) return undefined;
      return value <= Number.MAX_SAFE_INTEGER ? { value, next: pos } : undefined;
    }
    scale *= 128;
  }
  return undefined;
}
