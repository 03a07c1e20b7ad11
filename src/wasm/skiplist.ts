// The skip-list memtable (assembly/skiplist.ts). Entries are internal keys
// (user key + sequence + kind) with values, in linear memory: nodes with
// their keys in one arena, values in another. Node fields are read here through a DataView (layout below), so
// iteration costs no call across the boundary per field.
import { CorruptionError, InvalidArgumentError, WasmOutOfMemoryError } from '../errors.js';
import type { WriteBatch } from '../batch.js';
import { MAX_SEQUENCE, TRAILER_SIZE, isKind } from '../keys.js';
import { raw } from './loader.js';
import { Region, u8, view } from './heap.js';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from './arena.js';

interface SkipListExports {
  skiplistCreate(chunkSize: number, indexSlots: number): number;
  skiplistGetBatch(list: number, records: number, count: number): void;
  skiplistInsert(list: number, key: number, keyLen: number, seq: number, kind: number, value: number, valueLen: number): number;
  skiplistInsertBatch(list: number, batch: number, len: number, skipRangeDeletions: number): number;
  skiplistSkippedRangeDeletions(): number;
  skiplistSeek(list: number, key: number, len: number): number;
  skiplistSeekUser(list: number, buf: number, userKeyLen: number, snapshotSeq: number): number;
  skiplistGet(list: number, buf: number, userKeyLen: number, snapshotSeq: number): number;
  skiplistGetHashed(list: number, buf: number, userKeyLen: number, snapshotSeq: number, hash: number): number;
  skiplistFirst(list: number): number;
  skiplistLast(list: number): number;
  skiplistNext(node: number): number;
  skiplistPrev(node: number): number;
  skiplistCount(list: number): number;
  skiplistBytes(list: number): number;
  skiplistIndexBytes(list: number): number;
  skiplistReset(list: number): void;
  skiplistDestroy(list: number): void;
  skiplistExportSize(list: number): number;
  skiplistExport(list: number, from: number, out: number, cap: number): number;
  skiplistExportNext(): number;
  skiplistSettleStep(list: number, budget: number): number;
  skiplistExportPending(list: number, from: number, out: number, cap: number): number;
  skiplistInsertRun(list: number, run: number, len: number): number;
}

const fns = raw as unknown as SkipListExports;

/** Node header offsets; next[i] sits at node - 4 * (i + 1). */
export const NODE_PREV = 0;
export const NODE_KEY_LENGTH = 4;
export const NODE_VALUE_LENGTH = 8;
export const NODE_HEIGHT = 12;
export const NODE_VALUE = 16;
export const NODE_KEY = 20;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Bytes in a slot of the user-key index (assembly/skiplist.ts). */
export const INDEX_SLOT_SIZE = 8;
/** Most slots a list's index starts or grows to (256 MiB); the same bound as assembly/skiplist.ts's. */
export const MAX_INDEX_SLOTS = 2 ** 25;

/** Arena chunks of 1/16 of the bytes a list is to hold (4 KiB to 1 MiB) keep a memtable's byte count from overshooting its threshold by much. */
export function chunkSizeFor(bytes: number): number {
  return Math.min(1024 * 1024, Math.max(4096, Math.floor(bytes / 16)));
}

const BATCH_ERRORS: Record<number, string> = {
  [-1]: 'truncated',
  [-2]: 'unknown entry kind',
  [-3]: 'malformed varint',
  [-4]: 'bytes after the last record',
  [-5]: 'sequence numbers beyond 2^53-1',
  [-6]: 'key and value too large for one entry',
};
const ERR_BAD_KEY = -7;
const ERR_OUT_OF_MEMORY = -8;
const ERR_OUTPUT_TOO_SMALL = -9;
const ERR_NOT_ALL_PENDING = -10;

/** Bytes before each entry of a run: u32 internal-key length, u32 value length. */
export const RUN_ENTRY_HEADER_SIZE = 8;

/** Readers of a node's fields (node = pointer returned by the kernel, non-zero). */
export const node = {
  next(n: number): number {
    return view().getUint32(n - 4, true);
  },
  prev(n: number): number {
    return view().getUint32(n + NODE_PREV, true);
  },
  userKeyPtr(n: number): number {
    return n + NODE_KEY;
  },
  userKeyLength(n: number): number {
    return view().getUint32(n + NODE_KEY_LENGTH, true) - TRAILER_SIZE;
  },
  valuePtr(n: number): number {
    return view().getUint32(n + NODE_VALUE, true);
  },
  valueLength(n: number): number {
    return view().getUint32(n + NODE_VALUE_LENGTH, true);
  },
  /** The sequence from the trailer's upper 56 bits (exact: sequences are < 2^53). */
  seq(n: number): number {
    const dv = view();
    const t = n + NODE_KEY + dv.getUint32(n + NODE_KEY_LENGTH, true) - TRAILER_SIZE;
    return dv.getUint32(t + 4, true) * 0x1000000 + (dv.getUint32(t, true) >>> 8);
  },
  kind(n: number): number {
    const dv = view();
    return dv.getUint8(n + NODE_KEY + dv.getUint32(n + NODE_KEY_LENGTH, true) - TRAILER_SIZE);
  },
};

export interface Entry {
  kind: number;
  seq: number;
  /** A copy, detached from linear memory. */
  value: Uint8Array;
}

// Keys and values of single calls are staged here; keys get 8 spare bytes for the seek trailer.
const scratch = new Region(4096);

function stageKey(userKey: Uint8Array): number {
  const ptr = scratch.ensure(userKey.length + TRAILER_SIZE);
  u8().set(userKey, ptr);
  return ptr;
}

function checkSequence(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidArgumentError(`sequence must be an integer in 0..2^53-1, got ${seq}`);
}

function checkOutput(outPtr: number, outCap: number): void {
  if (!Number.isInteger(outPtr) || !Number.isInteger(outCap) || outPtr <= 0 || outCap < 0 || outPtr + outCap > u8().length) {
    throw new InvalidArgumentError(`output region ${outPtr}+${outCap} is not inside linear memory`);
  }
}

function checkKind(kind: number): void {
  if (!isKind(kind)) {
    throw new InvalidArgumentError(`unknown entry kind ${kind}`);
  }
}

export class SkipList {
  #handle: number;
  /** Bumped by reset and destroy; cursors from an older epoch refuse to run. */
  #epoch = 0;

  /**
   * `indexSlots`: the starting size of the user-key index that answers
   * get() without a search through the list (a power of two up to
   * MAX_INDEX_SLOTS; it doubles as keys arrive); 0 for none (a list that is
   * only iterated).
   */
  constructor(chunkSize = DEFAULT_CHUNK_SIZE, indexSlots = 0) {
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new InvalidArgumentError(`chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}, got ${chunkSize}`);
    }
    if (!Number.isInteger(indexSlots) || indexSlots < 0 || indexSlots > MAX_INDEX_SLOTS || (indexSlots & (indexSlots - 1)) !== 0) {
      throw new InvalidArgumentError(`index slots must be 0 or a power of two up to ${MAX_INDEX_SLOTS}, got ${indexSlots}`);
    }
    const handle = fns.skiplistCreate(chunkSize, indexSlots);
    if (handle === 0) throw new WasmOutOfMemoryError(chunkSize + indexSlots * INDEX_SLOT_SIZE);
    this.#handle = handle;
  }

  /** The list struct's address in linear memory. */
  get handle(): number {
    if (this.#handle === 0) throw new InvalidArgumentError('skip list is destroyed');
    return this.#handle;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Inserts one entry (copies key and value). Returns its node. */
  put(userKey: Uint8Array, seq: number, kind: number, value: Uint8Array = new Uint8Array(0)): number {
    checkSequence(seq);
    checkKind(kind);
    const ptr = scratch.ensure(userKey.length + value.length);
    const bytes = u8();
    bytes.set(userKey, ptr);
    bytes.set(value, ptr + userKey.length);
    const n = fns.skiplistInsert(this.handle, ptr, userKey.length, seq, kind, ptr + userKey.length, value.length);
    if (n === ERR_OUT_OF_MEMORY) throw new WasmOutOfMemoryError(userKey.length + value.length);
    if (n < 0) throw new InvalidArgumentError(`entry rejected by the memtable (code ${n})`);
    return n;
  }

  /** Inserts every record of the batch; nothing if it is malformed. Returns the record count. */
  insertBatch(batch: WriteBatch): number {
    return this.insertBatchAt(batch.ptr, batch.len);
  }

  /**
   * Inserts an encoded batch already in linear memory (e.g. a WAL record
   * being replayed). Throws CorruptionError, having inserted nothing, when
   * the bytes are not a well-formed batch.
   */
  insertBatchAt(ptr: number, len: number): number {
    return this.#insertBatchAt(ptr, len, 0);
  }

  /**
   * As insertBatchAt, but range deletions (kind 3) stay out of the list;
   * returns the batch's record count and how many were left out (the caller
   * keeps them elsewhere).
   */
  insertPointsAt(ptr: number, len: number): { count: number; rangeDeletions: number } {
    const count = this.#insertBatchAt(ptr, len, 1);
    return { count, rangeDeletions: fns.skiplistSkippedRangeDeletions() };
  }

  #insertBatchAt(ptr: number, len: number, skipRangeDeletions: number): number {
    const n = fns.skiplistInsertBatch(this.handle, ptr, len, skipRangeDeletions);
    if (n >= 0) return n;
    if (n === ERR_OUT_OF_MEMORY) throw new WasmOutOfMemoryError(len);
    throw new CorruptionError(`malformed write batch: ${BATCH_ERRORS[n] ?? `code ${n}`}`);
  }

  /** The newest entry for `userKey` with sequence <= snapshotSeq (a deletion included), copied out. */
  get(userKey: Uint8Array, snapshotSeq: number = MAX_SEQUENCE): Entry | undefined {
    const n = this.findAt(stageKey(userKey), userKey.length, snapshotSeq);
    if (n === 0) return undefined;
    const valuePtr = node.valuePtr(n);
    return { kind: node.kind(n), seq: node.seq(n), value: u8().slice(valuePtr, valuePtr + node.valueLength(n)) };
  }

  /**
   * The node get would return (0 if none) for a user key already in linear
   * memory at `buf`, which must have 8 writable bytes after the key.
   */
  findAt(buf: number, userKeyLength: number, snapshotSeq: number): number {
    checkSequence(snapshotSeq);
    return fns.skiplistGet(this.handle, buf, userKeyLength, snapshotSeq);
  }

  /** findAt for a key whose hash the caller took: the low half of its XXH64, seed 0 (src/point-lookup.ts). */
  findHashedAt(buf: number, userKeyLength: number, snapshotSeq: number, hash: number): number {
    checkSequence(snapshotSeq);
    return fns.skiplistGetHashed(this.handle, buf, userKeyLength, snapshotSeq, hash);
  }

  /**
   * findHashedAt for each record of a point batch (./point-batch.ts) whose
   * PB_DONE is 0, the node (or 0) written at its PB_NODE. Every record's
   * snapshot sequence must be one findHashedAt accepts.
   */
  findBatch(records: number, count: number): void {
    fns.skiplistGetBatch(this.handle, records, count);
  }

  cursor(): SkipListCursor {
    return new SkipListCursor(this);
  }

  get count(): number {
    return fns.skiplistCount(this.handle) >>> 0;
  }

  /** Bytes of the list's run: every entry in order as [u32 keyLen][u32 valueLen][internal key][value]. */
  get exportSize(): number {
    return fns.skiplistExportSize(this.handle) >>> 0;
  }

  /**
   * Writes the run from node `from` (0: the first) at `outPtr`, as many whole
   * entries as fit in `outCap` bytes; returns the bytes written and the node
   * to continue from (0 when the run is complete). `written` is -1 when not
   * even the entry at `from` fits.
   */
  exportSlice(from: number, outPtr: number, outCap: number): { written: number; next: number } {
    checkOutput(outPtr, outCap);
    const n = fns.skiplistExport(this.handle, from, outPtr, outCap);
    return { written: n === ERR_OUTPUT_TOO_SMALL ? -1 : n, next: fns.skiplistExportNext() >>> 0 };
  }

  /**
   * As exportSlice, but of the pending nodes from slot `from` (0: the
   * first) in insertion order, an unsorted run; `next` is the slot to
   * continue from, `count` once complete. `written` is -1 when not
   * even that entry fits, and -2 when some node is linked (or a settle is
   * under way): the list must then be exported sorted, from the start.
   */
  exportPendingSlice(from: number, outPtr: number, outCap: number): { written: number; next: number } {
    checkOutput(outPtr, outCap);
    const n = fns.skiplistExportPending(this.handle, from, outPtr, outCap);
    const written = n === ERR_OUTPUT_TOO_SMALL ? -1 : n === ERR_NOT_ALL_PENDING ? -2 : n;
    return { written, next: fns.skiplistExportNext() >>> 0 };
  }

  /**
   * Inserts every entry of a run in linear memory (`len` bytes at `ptr`, in
   * any order) as pending nodes, to be sorted by the next walk or export.
   * Throws CorruptionError for malformed run bytes.
   */
  insertRunAt(ptr: number, len: number): number {
    const n = fns.skiplistInsertRun(this.handle, ptr, len);
    if (n >= 0) return n;
    if (n === ERR_OUT_OF_MEMORY) throw new WasmOutOfMemoryError(len);
    throw new CorruptionError(`malformed run: ${n === ERR_BAD_KEY ? 'a key under 8 bytes' : (BATCH_ERRORS[n] ?? `code ${n}`)}`);
  }

  /**
   * Links about `budget` of the pending nodes' worth (assembly/skiplist.ts,
   * "Settling in steps"); true while more remains. Export settles first, in
   * one go unless this was called until false.
   */
  settleStep(budget: number): boolean {
    return fns.skiplistSettleStep(this.handle, budget) !== 0;
  }

  /** Heap bytes held by the list (arena chunks with their headers, and structs). */
  get bytes(): number {
    return fns.skiplistBytes(this.handle) >>> 0;
  }

  /** Of `bytes`, those of the user-key index. */
  get indexBytes(): number {
    return fns.skiplistIndexBytes(this.handle) >>> 0;
  }

  /** Drops every entry and frees its memory in one call. Invalidates cursors and nodes. */
  reset(): void {
    fns.skiplistReset(this.handle);
    this.#epoch++;
  }

  destroy(): void {
    if (this.#handle !== 0) fns.skiplistDestroy(this.#handle);
    this.#handle = 0;
    this.#epoch++;
  }
}

/**
 * A position in a SkipList: a node, or none (`valid` false). Inserts are
 * linked into the list in batches (assembly/skiplist.ts): next and prev meet
 * an entry inserted after the cursor was positioned only once it is linked,
 * which any seek, first or last of any cursor does.
 */
export class SkipListCursor {
  readonly #list: SkipList;
  readonly #epoch: number;
  #node = 0;

  constructor(list: SkipList) {
    this.#list = list;
    this.#epoch = list.epoch;
  }

  /** The list's handle, checking that it has not been reset or destroyed since. */
  #handle(): number {
    if (this.#list.epoch !== this.#epoch) throw new InvalidArgumentError('cursor used after its skip list was reset or destroyed');
    return this.#list.handle;
  }

  #at(): number {
    this.#handle();
    if (this.#node === 0) throw new InvalidArgumentError('cursor is not positioned on an entry');
    return this.#node;
  }

  get valid(): boolean {
    return this.#node !== 0;
  }

  /** The current node pointer (0 when not valid). */
  get node(): number {
    return this.#node;
  }

  first(): boolean {
    this.#node = fns.skiplistFirst(this.#handle());
    return this.#node !== 0;
  }

  last(): boolean {
    this.#node = fns.skiplistLast(this.#handle());
    return this.#node !== 0;
  }

  next(): boolean {
    this.#node = node.next(this.#at());
    return this.#node !== 0;
  }

  prev(): boolean {
    this.#node = node.prev(this.#at());
    return this.#node !== 0;
  }

  /** First entry at or after (userKey, snapshotSeq): the newest version of userKey visible at that snapshot, or later keys. */
  seek(userKey: Uint8Array, snapshotSeq: number = MAX_SEQUENCE): boolean {
    checkSequence(snapshotSeq);
    this.#node = fns.skiplistSeekUser(this.#handle(), stageKey(userKey), userKey.length, snapshotSeq);
    return this.#node !== 0;
  }

  /** First entry whose internal key (user key + 8-byte trailer) is >= internalKey. */
  seekInternal(internalKey: Uint8Array): boolean {
    if (internalKey.length < TRAILER_SIZE) throw new InvalidArgumentError('an internal key has at least 8 bytes');
    const ptr = scratch.ensure(internalKey.length);
    u8().set(internalKey, ptr);
    this.#node = fns.skiplistSeek(this.#handle(), ptr, internalKey.length);
    return this.#node !== 0;
  }

  /** The user key, copied out. */
  key(): Uint8Array {
    const n = this.#at();
    const ptr = node.userKeyPtr(n);
    return u8().slice(ptr, ptr + node.userKeyLength(n));
  }

  /** The value, copied out. */
  value(): Uint8Array {
    const n = this.#at();
    const ptr = node.valuePtr(n);
    return u8().slice(ptr, ptr + node.valueLength(n));
  }

  get seq(): number {
    return node.seq(this.#at());
  }

  get kind(): number {
    return node.kind(this.#at());
  }

  get keyPtr(): number {
    return node.userKeyPtr(this.#at());
  }

  get keyLength(): number {
    return node.userKeyLength(this.#at());
  }

  get valuePtr(): number {
    return node.valuePtr(this.#at());
  }

  get valueLength(): number {
    return node.valueLength(this.#at());
  }
}
