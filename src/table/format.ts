// The table file's fixed pieces (docs/FORMAT.md, "Tables"): block handles,
// the 5-byte block trailer, the 80-byte footer and the properties block.
// Every u64 is written as two u32 halves and read back as a number below
// 2^53, so no BigInt is involved. Parsers take bytes that already passed a
// checksum, yet still check every length and bound: a checksum collision
// must never become an out-of-range read.
import { readVarint, writeVarint } from '../varint.js';
import { CorruptionError } from '../errors.js';

/** Version 1 of the layout described in docs/FORMAT.md. */
export const TABLE_FORMAT_VERSION = 1;

/** Compression type byte of a block trailer. */
export const Compression = { None: 0, Lz4: 1 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

/** Type byte + masked CRC32C, after every block. */
export const BLOCK_TRAILER_SIZE = 5;

export const FOOTER_SIZE = 80;

/**
 * Tables stay below 1 GiB: one is assembled as a single allocation of linear
 * memory, and the module's largest allocation is under that. Block offsets
 * therefore fit in 30 bits (block cache keys rely on it).
 */
export const MAX_TABLE_SIZE = 0x4000_0000;

/** The last 8 bytes of every table: ASCII "VARVESST". */
export const TABLE_MAGIC = Uint8Array.of(0x56, 0x41, 0x52, 0x56, 0x45, 0x53, 0x53, 0x54);

/** Largest encoded length of a handle: two varints of numbers below 2^53. */
export const MAX_HANDLE_LENGTH = 16;

const TWO_32 = 0x1_0000_0000;
const TWO_24 = 0x100_0000;
/** Largest high half of a u64 that keeps the value below 2^53. */
const MAX_HIGH = 0x1f_ffff;

/** Where a block's stored bytes are; `size` excludes the trailer that follows. */
export interface BlockHandle {
  offset: number;
  size: number;
}

export const NO_BLOCK: BlockHandle = { offset: 0, size: 0 };

/** A CorruptionError naming the file and the offset of the damaged structure. */
export function corruption(path: string, offset: number, what: string, cause?: unknown): CorruptionError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new CorruptionError(`${path}: ${what} at offset ${offset}${reason}`, cause === undefined ? undefined : { cause });
}

// ---------------------------------------------------------------------------
// Integers

export function writeU64(view: DataView, pos: number, n: number): void {
  view.setUint32(pos, n % TWO_32, true);
  view.setUint32(pos + 4, Math.floor(n / TWO_32), true);
}

/** A u64 as a number, or -1 when it is 2^53 or more. */
export function readU64(view: DataView, pos: number): number {
  const hi = view.getUint32(pos + 4, true);
  if (hi > MAX_HIGH) return -1;
  return hi * TWO_32 + view.getUint32(pos, true);
}

/**
 * Sequence and kind of the internal key of `len` (>= 8) bytes at `ptr`. The
 * sequence may exceed 2^53 - 1 in damaged or hostile bytes: callers check.
 */
export function trailerAt(view: DataView, ptr: number, len: number): { seq: number; kind: number } {
  const lo = view.getUint32(ptr + len - 8, true);
  const hi = view.getUint32(ptr + len - 4, true);
  return { seq: hi * TWO_24 + (lo >>> 8), kind: lo & 0xff };
}

// ---------------------------------------------------------------------------
// Block handles in the index: varint offset, varint size.

export function writeHandle(mem: Uint8Array, pos: number, handle: BlockHandle): number {
  return writeVarint(mem, writeVarint(mem, pos, handle.offset), handle.size);
}

/** Decodes a handle filling exactly mem[pos, end); undefined when malformed. */
export function readHandle(mem: Uint8Array, pos: number, end: number): BlockHandle | undefined {
  const offset = readVarint(mem, pos, end);
  if (offset === undefined) return undefined;
  const size = readVarint(mem, offset.next, end);
  if (size === undefined || size.next !== end) return undefined;
  return { offset: offset.value, size: size.value };
}

// ---------------------------------------------------------------------------
// Compression rule

/**
 * LZ4 is kept only when the stored form (varint32 raw length + LZ4 block)
 * is under 7/8 of the raw block; returns that bound's largest allowed size
 * (0 when no compressed form could qualify).
 */
export function maxCompressedSize(rawLength: number): number {
  return Math.max(0, Math.ceil((rawLength * 7) / 8) - 1);
}

// ---------------------------------------------------------------------------
// Footer

export interface Footer {
  index: BlockHandle;
  filter: BlockHandle;
  properties: BlockHandle;
  /** The range-deletion block; { 0, 0 } when the table has none. */
  rangeDeletions: BlockHandle;
  version: number;
}

const F_INDEX = 0;
const F_FILTER = 16;
const F_PROPERTIES = 32;
const F_RANGE_DELETIONS = 48;
const F_VERSION = 64;
/** Masked CRC32C of bytes [0, F_CHECKSUM). */
export const F_CHECKSUM = 68;
const F_MAGIC = 72;

function writeFixedHandle(view: DataView, pos: number, handle: BlockHandle): void {
  writeU64(view, pos, handle.offset);
  writeU64(view, pos + 8, handle.size);
}

/** Writes the footer at `pos`, except its checksum (the caller computes it over linear memory). */
export function writeFooterFields(view: DataView, pos: number, footer: Footer): void {
  writeFixedHandle(view, pos + F_INDEX, footer.index);
  writeFixedHandle(view, pos + F_FILTER, footer.filter);
  writeFixedHandle(view, pos + F_PROPERTIES, footer.properties);
  writeFixedHandle(view, pos + F_RANGE_DELETIONS, footer.rangeDeletions);
  view.setUint32(pos + F_VERSION, footer.version, true);
  for (let i = 0; i < TABLE_MAGIC.length; i++) view.setUint8(pos + F_MAGIC + i, TABLE_MAGIC[i]!);
}

export function hasMagic(mem: Uint8Array, footerPos: number): boolean {
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (mem[footerPos + F_MAGIC + i] !== TABLE_MAGIC[i]) return false;
  }
  return true;
}

function readFixedHandle(view: DataView, pos: number): BlockHandle {
  const offset = readU64(view, pos);
  const size = readU64(view, pos + 8);
  if (offset < 0 || size < 0) throw new CorruptionError('block handle exceeds 2^53');
  return { offset, size };
}

/** Parses a footer whose magic and checksum were verified. */
export function readFooterFields(view: DataView, pos: number): Footer {
  return {
    index: readFixedHandle(view, pos + F_INDEX),
    filter: readFixedHandle(view, pos + F_FILTER),
    properties: readFixedHandle(view, pos + F_PROPERTIES),
    rangeDeletions: readFixedHandle(view, pos + F_RANGE_DELETIONS),
    version: view.getUint32(pos + F_VERSION, true),
  };
}

// ---------------------------------------------------------------------------
// Properties block: a fixed 108-byte layout, then the smallest and largest
// internal keys. Counts are u64 (two u32 halves), at most 2^53 - 1.

export interface TableProperties {
  entries: number;
  /** Entries of kind 0. */
  deletions: number;
  /** Entries of kind 3 (those of the range-deletion block included in `entries`). */
  rangeDeletions: number;
  /** Sum of internal-key lengths (trailers included). */
  rawKeyBytes: number;
  rawValueBytes: number;
  dataBlocks: number;
  /** Bytes of all data blocks as stored, trailers included. */
  dataBytes: number;
  /** Stored size of the index block, without its trailer. */
  indexSize: number;
  /** Size of the filter block, without its trailer. */
  filterSize: number;
  /** Smallest and largest sequence; both 0 in an empty table. */
  smallestSeq: number;
  largestSeq: number;
  /** Milliseconds since the Unix epoch when the builder finished. */
  creationTime: number;
  formatVersion: number;
  /** Smallest and largest internal keys; empty in an empty table. */
  smallestKey: Uint8Array;
  largestKey: Uint8Array;
}

const P_COUNTERS = [
  'entries',
  'deletions',
  'rangeDeletions',
  'rawKeyBytes',
  'rawValueBytes',
  'dataBlocks',
  'dataBytes',
  'indexSize',
  'filterSize',
  'smallestSeq',
  'largestSeq',
  'creationTime',
] as const;
const P_VERSION = P_COUNTERS.length * 8;
const P_SMALLEST_LENGTH = P_VERSION + 4;
const P_LARGEST_LENGTH = P_VERSION + 8;
export const PROPERTIES_FIXED_SIZE = P_VERSION + 12;

export function propertiesSize(p: TableProperties): number {
  return PROPERTIES_FIXED_SIZE + p.smallestKey.length + p.largestKey.length;
}

/** Writes the properties block at `pos` (propertiesSize(p) bytes). */
export function writeProperties(mem: Uint8Array, view: DataView, pos: number, p: TableProperties): void {
  P_COUNTERS.forEach((name, i) => writeU64(view, pos + i * 8, p[name]));
  view.setUint32(pos + P_VERSION, p.formatVersion, true);
  view.setUint32(pos + P_SMALLEST_LENGTH, p.smallestKey.length, true);
  view.setUint32(pos + P_LARGEST_LENGTH, p.largestKey.length, true);
  mem.set(p.smallestKey, pos + PROPERTIES_FIXED_SIZE);
  mem.set(p.largestKey, pos + PROPERTIES_FIXED_SIZE + p.smallestKey.length);
}

/** Parses a properties block of `len` bytes at `pos`; throws CorruptionError when malformed. */
export function readProperties(mem: Uint8Array, view: DataView, pos: number, len: number): TableProperties {
  if (len < PROPERTIES_FIXED_SIZE) throw new CorruptionError(`properties block of ${len} bytes is too short`);
  const counters = P_COUNTERS.map((name, i) => {
    const n = readU64(view, pos + i * 8);
    if (n < 0) throw new CorruptionError(`property ${name} exceeds 2^53`);
    return n;
  });
  const smallestLength = view.getUint32(pos + P_SMALLEST_LENGTH, true);
  const largestLength = view.getUint32(pos + P_LARGEST_LENGTH, true);
  if (PROPERTIES_FIXED_SIZE + smallestLength + largestLength !== len) {
    throw new CorruptionError('properties block key lengths disagree with its size');
  }
  const keys = pos + PROPERTIES_FIXED_SIZE;
  const p: TableProperties = {
    entries: counters[0]!,
    deletions: counters[1]!,
    rangeDeletions: counters[2]!,
    rawKeyBytes: counters[3]!,
    rawValueBytes: counters[4]!,
    dataBlocks: counters[5]!,
    dataBytes: counters[6]!,
    indexSize: counters[7]!,
    filterSize: counters[8]!,
    smallestSeq: counters[9]!,
    largestSeq: counters[10]!,
    creationTime: counters[11]!,
    formatVersion: view.getUint32(pos + P_VERSION, true),
    smallestKey: mem.slice(keys, keys + smallestLength),
    largestKey: mem.slice(keys + smallestLength, keys + smallestLength + largestLength),
  };
  checkProperties(p);
  return p;
}

function checkProperties(p: TableProperties): void {
  const empty = p.entries === 0;
  const keyLengthOk = (key: Uint8Array): boolean => (empty ? key.length === 0 : key.length >= 8);
  if (!keyLengthOk(p.smallestKey) || !keyLengthOk(p.largestKey)) {
    throw new CorruptionError('properties smallest/largest keys do not match the entry count');
  }
  // Range deletions live in their own block: a table may hold only those and no data block.
  const pointsWithoutBlocks = p.dataBlocks === 0 && p.entries > p.rangeDeletions;
  if (p.deletions + p.rangeDeletions > p.entries || p.smallestSeq > p.largestSeq || (empty && p.dataBlocks !== 0) || pointsWithoutBlocks) {
    throw new CorruptionError('properties counts are inconsistent');
  }
}
