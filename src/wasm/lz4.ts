// LZ4 block compression (standard block format, no frame) over linear memory
// or over host bytes. The *At functions are the engine's: inputs and outputs
// already sit in linear memory and nothing is copied.
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { Region, copyOut } from './heap.js';
import { raw } from './loader.js';

interface Lz4Exports {
  lz4CompressBound(n: number): number;
  lz4Compress(src: number, srcLen: number, dst: number, dstCap: number): number;
  lz4Decompress(src: number, srcLen: number, dst: number, dstCap: number): number;
}

const k = raw as unknown as Lz4Exports;

/** Largest input the block format accepts (LZ4's LZ4_MAX_INPUT_SIZE). */
export const MAX_INPUT = 0x7e000000;

/** Error codes of the raw kernel; they mirror assembly/lz4.ts. */
export const Lz4Error = {
  /** The input is empty or ends inside a length, a literal run or an offset. */
  TRUNCATED: -1,
  /** The input ends right after a match; a block must end with literals. */
  NO_LAST_LITERALS: -2,
  /** The block decodes to more bytes than the destination holds. */
  OUTPUT_OVERFLOW: -3,
  /** A match offset is 0. */
  OFFSET_ZERO: -4,
  /** A match offset reaches before the start of the output. */
  OFFSET_OUT_OF_RANGE: -5,
  /** A region lies outside linear memory, or (compress) the input exceeds MAX_INPUT. */
  BAD_ARGUMENT: -6,
} as const;

const errorNames = new Map<number, string>(Object.entries(Lz4Error).map(([name, code]) => [code, name]));

/** The name of a decompression error code, e.g. "TRUNCATED". */
export function errorName(code: number): string {
  return errorNames.get(code) ?? `UNKNOWN(${code})`;
}

/** Worst-case compressed size of `n` input bytes (n <= MAX_INPUT). */
export function compressBound(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_INPUT) {
    throw new InvalidArgumentError(`lz4: input length ${n} is not an integer in 0..${MAX_INPUT}`);
  }
  return k.lz4CompressBound(n);
}

/**
 * Compresses `srcLen` bytes at `src` into a block at `dst`. Returns the block
 * length, or 0 when it does not fit in `dstCap` bytes: callers pass a cap
 * below srcLen to compress only where it saves space, or
 * compressBound(srcLen) to always succeed. Regions must not overlap.
 * Throws InvalidArgumentError for a region outside linear memory.
 */
export function compressAt(src: number, srcLen: number, dst: number, dstCap: number): number {
  const n = k.lz4Compress(src, srcLen, dst, dstCap);
  if (n < 0) throw new InvalidArgumentError(`lz4: bad compress arguments (${src}, ${srcLen}, ${dst}, ${dstCap})`);
  return n;
}

/**
 * Decodes the block of `srcLen` bytes at `src` into at most `dstCap` bytes at
 * `dst` and returns the decoded length. Throws CorruptionError, naming the
 * error code, when the block is malformed or does not fit (what was written
 * to dst is then unspecified), and InvalidArgumentError for a region outside
 * linear memory. Regions must not overlap.
 */
export function decompressAt(src: number, srcLen: number, dst: number, dstCap: number): number {
  const n = k.lz4Decompress(src, srcLen, dst, dstCap);
  if (n >= 0) return n;
  if (n === Lz4Error.BAD_ARGUMENT) {
    throw new InvalidArgumentError(`lz4: bad decompress arguments (${src}, ${srcLen}, ${dst}, ${dstCap})`);
  }
  throw new CorruptionError(`lz4: malformed block: ${errorName(n)} (code ${n})`);
}

/** Like decompressAt, but returns the raw result: a length >= 0 or an Lz4Error code. */
export function decompressAtRaw(src: number, srcLen: number, dst: number, dstCap: number): number {
  return k.lz4Decompress(src, srcLen, dst, dstCap);
}

const input = new Region(4096);
const output = new Region(4096);

/** Compresses host bytes into a new LZ4 block (copies in and out; prefer compressAt). */
export function compress(bytes: Uint8Array): Uint8Array {
  const cap = compressBound(bytes.length);
  const dst = output.ensure(cap);
  const src = input.load(bytes);
  return copyOut(dst, compressAt(src, bytes.length, dst, cap));
}

/**
 * Decodes a block that must decode to exactly `expectedLength` bytes. Throws
 * CorruptionError when the block is malformed or its length differs.
 */
export function decompress(bytes: Uint8Array, expectedLength: number): Uint8Array {
  if (!Number.isInteger(expectedLength) || expectedLength < 0 || expectedLength > MAX_INPUT) {
    throw new InvalidArgumentError(`lz4: expected length ${expectedLength} is not an integer in 0..${MAX_INPUT}`);
  }
  const dst = output.ensure(expectedLength);
  const src = input.load(bytes);
  const n = decompressAt(src, bytes.length, dst, expectedLength);
  if (n !== expectedLength) {
    throw new CorruptionError(`lz4: block decoded to ${n} bytes, expected ${expectedLength}`);
  }
  return copyOut(dst, n);
}
