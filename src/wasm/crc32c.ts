// CRC32C over linear memory or over host bytes.
import { raw } from './loader.js';
import { Region } from './heap.js';

const scratch = new Region(4096);

/** CRC32C of `len` bytes already in linear memory at `ptr` (unsigned). */
export function crc32cAt(ptr: number, len: number, seed = 0): number {
  return raw.crc32cExtend(seed, ptr, len) >>> 0;
}

/** CRC32C of host bytes; copies them in first, so prefer crc32cAt on hot paths. */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  const ptr = scratch.load(bytes);
  return raw.crc32cExtend(seed, ptr, bytes.length) >>> 0;
}

/** The length of the shortest prefix of `bytes` over which CRC32C extended from `seed` equals `target`; -1 if none. */
export function crc32cPrefixMatching(bytes: Uint8Array, seed: number, target: number): number {
  const ptr = scratch.load(bytes);
  return raw.crc32cPrefixMatching(seed, ptr, bytes.length, target);
}

/** Masks a CRC for storage (see docs/FORMAT.md). */
export function maskCrc(crc: number): number {
  return raw.crc32cMask(crc) >>> 0;
}

export function unmaskCrc(masked: number): number {
  return raw.crc32cUnmask(masked) >>> 0;
}
