// Data blocks (assembly/block.ts): a builder, a cursor over an encoded block
// in linear memory, and a decoded form that can be binary-searched without
// decoding again. Format: docs/FORMAT.md, "Data block".
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { Region, alloc, copyOut, free, u8, view } from './heap.js';
import { raw } from './loader.js';

interface BlockExports {
  blockBuilderCreate(interval: number): number;
  blockBuilderAdd(h: number, key: number, keyLength: number, value: number, valueLength: number): number;
  blockBuilderAddBatch(h: number, table: number, count: number): number;
  blockBuilderEstimatedSize(h: number): number;
  blockBuilderFinish(h: number): number;
  blockBuilderReset(h: number): void;
  blockBuilderDestroy(h: number): void;
  blockCursorCreate(): number;
  blockCursorInit(c: number, block: number, len: number): number;
  blockCursorAttach(c: number, block: number, len: number): void;
  blockCheckRestarts(block: number, len: number): number;
  blockCursorSeek(c: number, target: number, targetLength: number): number;
  blockCursorSeekFirst(c: number): number;
  blockCursorSeekLast(c: number): number;
  blockCursorNext(c: number): number;
  blockCursorPrev(c: number): number;
  blockCursorDestroy(c: number): void;
  blockDecodedSize(block: number, len: number, out: number): number;
  blockDecodeAll(block: number, len: number, table: number, tableCap: number, keys: number, keysCap: number): number;
  blockDecodedPrefixes(table: number, keys: number, count: number, prefixes: number): number;
  blockDecodedSeek(table: number, keys: number, prefixes: number, shared: number, count: number, target: number, targetLength: number): number;
  blockDecodedSeekBatch(table: number, keys: number, prefixes: number, shared: number, count: number, targets: number, n: number, out: number): number;
}

const ex = raw as unknown as BlockExports;

export const DEFAULT_RESTART_INTERVAL = 16;

/** Result codes of assembly/block.ts. */
const E_OUT_OF_ORDER = -1;
const E_KEY_TOO_SHORT = -2;
const E_FINISHED = -3;
const E_TOO_LARGE = -4;
const E_BAD_RESTARTS = -10;
const E_BAD_ENTRY = -11;
const E_BAD_KEY = -12;
const E_BAD_ORDER = -13;
const E_TOO_SMALL = -20;

/** The typed error for a negative result code of the block kernels. */
export function blockFailure(code: number): CorruptionError | InvalidArgumentError {
  switch (code) {
    case E_OUT_OF_ORDER:
      return new InvalidArgumentError('block keys must be added in strictly increasing internal-key order');
    case E_KEY_TOO_SHORT:
      return new InvalidArgumentError('internal key is shorter than its 8-byte trailer');
    case E_FINISHED:
      return new InvalidArgumentError('block builder is finished; reset it before adding');
    case E_TOO_LARGE:
      return new InvalidArgumentError('block would exceed 2 GiB');
    case E_BAD_RESTARTS:
      return new CorruptionError('data block: malformed restart array');
    case E_BAD_ENTRY:
      return new CorruptionError('data block: entry runs past the end of the entries');
    case E_BAD_KEY:
      return new CorruptionError('data block: malformed key prefix');
    case E_BAD_ORDER:
      return new CorruptionError('data block: keys out of order');
    case E_TOO_SMALL:
      return new InvalidArgumentError('decode buffers too small for the block');
    default:
      return new CorruptionError(`data block: error code ${code}`);
  }
}

function fail(code: number): never {
  throw blockFailure(code);
}

function destroyed(what: string): never {
  throw new InvalidArgumentError(`${what} was destroyed`);
}

// Host bytes (keys, values, seek targets) are copied here before a call.
const scratch = new Region(256);

// Builder state fields (see assembly/block.ts).
const B_BUFFER = 0;
const B_LAST_KEY = 32;
const B_LAST_KEY_LENGTH = 40;
const B_ENTRY_COUNT = 44;

/** Builds one data block in linear memory. Reuse it with reset(); free it with destroy(). */
export class BlockBuilder {
  #handle: number;

  constructor(restartInterval = DEFAULT_RESTART_INTERVAL) {
    if (!Number.isInteger(restartInterval) || restartInterval < 1 || restartInterval > 0x7fffffff) {
      throw new InvalidArgumentError(`restart interval ${restartInterval} is not an integer >= 1`);
    }
    this.#handle = ex.blockBuilderCreate(restartInterval);
  }

  get handle(): number {
    return this.#handle || destroyed('BlockBuilder');
  }

  /** Copies key and value into linear memory and adds them. Throws InvalidArgumentError out of order. */
  add(key: Uint8Array, value: Uint8Array): void {
    const ptr = scratch.ensure(key.length + value.length);
    const mem = u8();
    mem.set(key, ptr);
    mem.set(value, ptr + key.length);
    this.addAt(ptr, key.length, ptr + key.length, value.length);
  }

  /** Adds an entry whose bytes are already in linear memory. */
  addAt(keyPtr: number, keyLength: number, valuePtr: number, valueLength: number): void {
    const rc = ex.blockBuilderAdd(this.handle, keyPtr, keyLength, valuePtr, valueLength);
    if (rc !== 0) fail(rc);
  }

  /**
   * Adds `count` entries described at `tablePtr` by 16-byte rows of u32 LE
   * [keyPtr, keyLength, valuePtr, valueLength]. On error the entries before
   * the failing row stay added (see entryCount).
   */
  addBatch(tablePtr: number, count: number): void {
    const rc = ex.blockBuilderAddBatch(this.handle, tablePtr, count);
    if (rc !== 0) fail(rc);
  }

  get entryCount(): number {
    return view().getUint32(this.handle + B_ENTRY_COUNT, true);
  }

  /** Pointer to the builder's copy of the last key added; valid until the next add, reset or destroy. */
  get lastKeyPtr(): number {
    return view().getUint32(this.handle + B_LAST_KEY, true);
  }

  /** Length of the last key added (0 before the first add, and after reset). */
  get lastKeyLen(): number {
    return view().getUint32(this.handle + B_LAST_KEY_LENGTH, true);
  }

  /** Bytes the block would take if finished now; cut blocks on this. */
  get estimatedSize(): number {
    return ex.blockBuilderEstimatedSize(this.handle) >>> 0;
  }

  /** The finished block inside the builder's buffer, valid until reset() or destroy(). */
  finish(): { ptr: number; len: number } {
    const len = ex.blockBuilderFinish(this.handle);
    if (len < 0) fail(len);
    return { ptr: view().getUint32(this.handle + B_BUFFER, true), len };
  }

  /** The finished block, copied out of linear memory. */
  finishCopy(): Uint8Array {
    const { ptr, len } = this.finish();
    return copyOut(ptr, len);
  }

  reset(): void {
    ex.blockBuilderReset(this.handle);
  }

  destroy(): void {
    if (this.#handle !== 0) ex.blockBuilderDestroy(this.#handle);
    this.#handle = 0;
  }
}

// Cursor state fields (see assembly/block.ts).
const C_KEY = 0;
const C_KEY_LENGTH = 4;
const C_VALUE = 8;
const C_VALUE_LENGTH = 12;
const C_STATUS = 16;

/** Throws CorruptionError unless the block's restart array is well formed: the check BlockCursor.attach relies on. */
export function checkRestarts(ptr: number, len: number): void {
  const rc = ex.blockCheckRestarts(ptr, len);
  if (rc < 0) fail(rc);
}

/**
 * Iterates an encoded block that sits in linear memory (and must stay there
 * while the cursor is positioned on it). Positioning methods return whether
 * the cursor is on an entry and throw CorruptionError on a corrupt block.
 */
export class BlockCursor {
  #handle: number;

  constructor() {
    this.#handle = ex.blockCursorCreate();
  }

  get handle(): number {
    return this.#handle || destroyed('BlockCursor');
  }

  /** Points at the block of `len` bytes at `ptr`, not yet positioned; checks its restart array. */
  init(ptr: number, len: number): void {
    const rc = ex.blockCursorInit(this.handle, ptr, len);
    if (rc < 0) fail(rc);
  }

  /**
   * As init(), without the restart-array check, for a block that passed
   * checkRestarts() and has not changed since (a cached block): point reads
   * set up a cursor on every lookup.
   */
  attach(ptr: number, len: number): void {
    ex.blockCursorAttach(this.handle, ptr, len);
  }

  get valid(): boolean {
    return view().getInt32(this.handle + C_STATUS, true) === 1;
  }

  /** Positions at the first entry >= target (an internal key). */
  seek(target: Uint8Array): boolean {
    return this.seekAt(scratch.load(target), target.length);
  }

  seekAt(targetPtr: number, targetLength: number): boolean {
    return positioned(ex.blockCursorSeek(this.handle, targetPtr, targetLength));
  }

  first(): boolean {
    return positioned(ex.blockCursorSeekFirst(this.handle));
  }

  last(): boolean {
    return positioned(ex.blockCursorSeekLast(this.handle));
  }

  /** Steps forward; false past the last entry, or if not positioned. */
  next(): boolean {
    return positioned(ex.blockCursorNext(this.handle));
  }

  /** Steps back; false before the first entry, or if not positioned. */
  prev(): boolean {
    return positioned(ex.blockCursorPrev(this.handle));
  }

  /** Pointer to the current key in the cursor's own buffer; valid until the cursor moves. */
  get keyPtr(): number {
    return view().getUint32(this.handle + C_KEY, true);
  }

  get keyLen(): number {
    return view().getUint32(this.handle + C_KEY_LENGTH, true);
  }

  /** Pointer to the current value inside the block. */
  get valuePtr(): number {
    return view().getUint32(this.handle + C_VALUE, true);
  }

  get valueLen(): number {
    return view().getUint32(this.handle + C_VALUE_LENGTH, true);
  }

  key(): Uint8Array {
    this.#requireValid();
    return copyOut(this.keyPtr, this.keyLen);
  }

  value(): Uint8Array {
    this.#requireValid();
    return copyOut(this.valuePtr, this.valueLen);
  }

  destroy(): void {
    if (this.#handle !== 0) ex.blockCursorDestroy(this.#handle);
    this.#handle = 0;
  }

  #requireValid(): void {
    if (!this.valid) throw new InvalidArgumentError('block cursor is not positioned on an entry');
  }
}

function positioned(rc: number): boolean {
  if (rc === 1) return true;
  if (rc === 0) return false;
  return fail(rc);
}

const ROW_SIZE = 16;
/** Bytes of a row's search prefix (assembly/block.ts, "Prefixes"). */
const PREFIX_SIZE = 8;
const sizes = new Region(8);

/**
 * A block decoded into an offset table plus full keys and their search
 * prefixes, searchable without decoding again. Values point into the
 * block, which must outlive this object. Free it with release().
 */
export class DecodedBlock {
  readonly count: number;
  readonly blockPtr: number;
  /** count rows of u32 LE [keyOffset, keyLength, valueOffset, valueLength]; then the prefixes and the keys, in the same allocation. */
  #table: number;
  /** count u64 search prefixes, one per row. */
  readonly #prefixes: number;
  /** Bytes every user key of the block starts with, which the prefixes follow. */
  readonly #shared: number;
  /** Full keys back to back; keyOffset is relative to this. */
  readonly keysPtr: number;

  private constructor(blockPtr: number, table: number, count: number, shared: number) {
    this.blockPtr = blockPtr;
    this.#table = table;
    this.count = count;
    this.#prefixes = table + count * ROW_SIZE;
    this.keysPtr = this.#prefixes + count * PREFIX_SIZE;
    this.#shared = shared;
  }

  /** Decodes the block of `len` bytes at `ptr`; throws CorruptionError if it is malformed. */
  static decode(ptr: number, len: number): DecodedBlock {
    const n = ex.blockDecodedSize(ptr, len, sizes.ptr);
    if (n < 0) fail(n);
    const keyBytes = view().getUint32(sizes.ptr + 4, true);
    const prefixes = n * ROW_SIZE;
    const keys = prefixes + n * PREFIX_SIZE;
    const table = alloc(keys + keyBytes);
    const rc = ex.blockDecodeAll(ptr, len, table, n, table + keys, keyBytes);
    if (rc < 0) {
      free(table);
      fail(rc);
    }
    return new DecodedBlock(ptr, table, n, ex.blockDecodedPrefixes(table, table + keys, n, table + prefixes));
  }

  get tablePtr(): number {
    return this.#table || destroyed('DecodedBlock');
  }

  #row(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new InvalidArgumentError(`entry ${i} is outside a block of ${this.count}`);
    }
    return this.tablePtr + i * ROW_SIZE;
  }

  keyPtr(i: number): number {
    return this.keysPtr + view().getUint32(this.#row(i), true);
  }

  keyLen(i: number): number {
    return view().getUint32(this.#row(i) + 4, true);
  }

  valuePtr(i: number): number {
    return this.blockPtr + view().getUint32(this.#row(i) + 8, true);
  }

  valueLen(i: number): number {
    return view().getUint32(this.#row(i) + 12, true);
  }

  key(i: number): Uint8Array {
    return copyOut(this.keyPtr(i), this.keyLen(i));
  }

  value(i: number): Uint8Array {
    return copyOut(this.valuePtr(i), this.valueLen(i));
  }

  /** Index of the first entry >= target (count if none). */
  seek(target: Uint8Array): number {
    return this.seekAt(scratch.load(target), target.length);
  }

  seekAt(targetPtr: number, targetLength: number): number {
    const rc = ex.blockDecodedSeek(this.tablePtr, this.keysPtr, this.#prefixes, this.#shared, this.count, targetPtr, targetLength);
    return rc < 0 ? fail(rc) : rc;
  }

  /**
   * Seeks n targets described at `targetsPtr` by 8-byte rows of u32 LE
   * [ptr, length]; writes one u32 LE index per target at `outPtr`.
   */
  seekBatch(targetsPtr: number, n: number, outPtr: number): void {
    const rc = ex.blockDecodedSeekBatch(this.tablePtr, this.keysPtr, this.#prefixes, this.#shared, this.count, targetsPtr, n, outPtr);
    if (rc < 0) fail(rc);
  }

  /** Writes the five u32 LE a search of this block in a kernel reads (table, keys, prefixes, shared, count) at `at` (assembly/table-get.ts). */
  writeSearch(dv: DataView, at: number): void {
    dv.setUint32(at, this.tablePtr, true);
    dv.setUint32(at + 4, this.keysPtr, true);
    dv.setUint32(at + 8, this.#prefixes, true);
    dv.setUint32(at + 12, this.#shared, true);
    dv.setUint32(at + 16, this.count, true);
  }

  release(): void {
    if (this.#table !== 0) free(this.#table);
    this.#table = 0;
  }
}
