// Index keys. Entry i of the index holds a separator S with
// last(block i) <= S < first(block i+1), so a seek that finds the first
// S >= target lands on the only block that can hold the first key >= target
// (or on the block before it, when target falls between last(i) and S).
// A shorter S keeps the index small: the user key is cut after the first
// byte where it can grow while staying below the next user key, and given
// the largest trailer (MAX_SEQUENCE, kind 0xff), which sorts before every
// real entry of that user key.
import { MAX_SEQUENCE, SEEK_KIND, TRAILER_SIZE, writeTrailer } from '../keys.js';

/**
 * Writes a separator for internal keys a < b (at aPtr and bPtr in `mem`)
 * at `out` (room for aLen bytes); returns its length.
 */
export function writeSeparator(mem: Uint8Array, aPtr: number, aLen: number, bPtr: number, bLen: number, out: number): number {
  const aUser = aLen - TRAILER_SIZE;
  const n = Math.min(aUser, bLen - TRAILER_SIZE);
  let i = 0;
  while (i < n && mem[aPtr + i] === mem[bPtr + i]) i++;
  // Cut when a's byte at the first difference can grow by one and stay below b's.
  if (i < n && i + 1 < aUser && mem[aPtr + i]! + 1 < mem[bPtr + i]!) {
    return writeShortened(mem, aPtr, i, out);
  }
  mem.copyWithin(out, aPtr, aPtr + aLen);
  return aLen;
}

/** a's user key up to byte i, byte i plus one, then the largest trailer. */
function writeShortened(mem: Uint8Array, aPtr: number, i: number, out: number): number {
  mem.copyWithin(out, aPtr, aPtr + i);
  mem[out + i] = mem[aPtr + i]! + 1;
  writeTrailer(mem, out + i + 1, MAX_SEQUENCE, SEEK_KIND);
  return i + 1 + TRAILER_SIZE;
}
