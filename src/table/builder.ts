// Builds a table file (docs/FORMAT.md, "Tables") in linear memory: data
// blocks cut at the target size, each LZ4-compressed where that saves an
// eighth or more, checksummed in place and appended to one growing file
// buffer; then the filter, index, properties and footer. The finished
// file is copied out once. Depends only on the WebAssembly wrappers, so a
// worker thread can run it with its own instance.
import { InvalidArgumentError } from '../errors.js';
import { Kind, MAX_SEQUENCE, TRAILER_SIZE, compareInternalKeys, isKind, makeInternalKey } from '../keys.js';
import { BlockBuilder, DEFAULT_RESTART_INTERVAL } from '../wasm/block.js';
import { bloomBuildAt, bloomSize } from '../wasm/bloom.js';
import { crc32cAt, maskCrc } from '../wasm/crc32c.js';
import { HASH_BYTES, hashAt } from '../wasm/hash.js';
import { Region, copyOut, u8, view } from '../wasm/heap.js';
import * as lz4 from '../wasm/lz4.js';
import { type RunBatch, scanRunBatch } from '../wasm/table-run.js';
import { raw } from '../wasm/loader.js';
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  Compression,
  F_CHECKSUM,
  FOOTER_SIZE,
  MAX_HANDLE_LENGTH,
  NO_BLOCK,
  TABLE_FORMAT_VERSION,
  type TableProperties,
  maxCompressedSize,
  PROPERTIES_FIXED_SIZE,
  propertiesSize,
  trailerAt,
  writeFooterFields,
  writeHandle,
  writeProperties,
} from './format.js';
import { varintLength, writeVarint } from '../varint.js';
import { GrowableBuffer } from './growable-buffer.js';
import { type RangeTombstone, encodeEnd, isEmptyRange } from '../rangedel/tombstone.js';
import { largestOf, smallestOf } from '../version/bounds.js';
import { writeSeparator } from './separator.js';
import type { WarmBlocks } from './warm-blocks.js';

export interface TableBuilderOptions {
  /** Target size of a data block before compression; a block is cut once it reaches this. Default 4096. */
  blockSize?: number;
  /** Entries between restart points in data blocks. Default 16. */
  restartInterval?: number;
  /** Bloom filter bits per distinct user key, in [1, 64]. Default 10. */
  bitsPerKey?: number;
  /** 'lz4' (default): compress blocks where that saves space; 'none': never. */
  compression?: 'lz4' | 'none';
  /** Where to keep a decoded copy of each data block written, for the engine's block cache. Default none. */
  warm?: WarmBlocks;
  /** Creation time recorded in the properties, ms since the epoch. Default: Date.now() at finish. */
  creationTime?: number;
}

export interface TableBuildResult {
  /** The whole file. */
  bytes: Uint8Array;
  properties: TableProperties;
}

/** Smallest stored size of a run entry: two u32 lengths and an 8-byte key. */
const RUN_HEADER = 8;
/** Upper bound on what one entry adds to a data block beyond its key and value: three varints and a restart. */
const ENTRY_OVERHEAD = 15 + 4;
const ROW_SIZE = 16;
/** Upper bound on an index entry beyond its separator key: three varints, a block handle and a restart. */
const INDEX_ENTRY_OVERHEAD = 15 + MAX_HANDLE_LENGTH + 4;

function checkOption(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !(value >= min && value <= max) || (name !== 'bitsPerKey' && !Number.isInteger(value))) {
    throw new InvalidArgumentError(`${name} ${value} is outside [${min}, ${max}]`);
  }
  return value;
}

export class TableBuilder {
  readonly #blockSize: number;
  readonly #bitsPerKey: number;
  readonly #compress: boolean;
  readonly #creationTime: number | undefined;
  readonly #warm: WarmBlocks | undefined;

  #data: BlockBuilder;
  #index: BlockBuilder;
  /** The file so far: finished blocks with their trailers. */
  #file = new GrowableBuffer();
  /** One 8-byte hash per distinct user key. */
  #hashes = new GrowableBuffer();
  /** Rows for BlockBuilder.addBatch. */
  #rows = new GrowableBuffer();
  // Regions allocate on first use, so a constructor that rejects its options leaks nothing.
  /** Last key of the last finished data block. */
  #lastKey = new Region(0);
  #lastKeyLen = 0;
  /** Handle of the last finished data block, until its index entry is written. */
  #pending: BlockHandle | undefined;
  #separator = new Region(0);
  #handleBytes = new Region(0);
  #input = new Region(0);

  #entries = 0;
  #deletions = 0;
  #rangeDeletions = 0;
  #rawKeyBytes = 0;
  #rawValueBytes = 0;
  #dataBlocks = 0;
  #dataBytes = 0;
  #distinctUserKeys = 0;
  #smallestSeq = MAX_SEQUENCE;
  #largestSeq = 0;
  #smallestKey: Uint8Array = new Uint8Array(0);
  /** Range deletions for the range-deletion block, in any order until finish sorts them. */
  readonly #tombstones: RangeTombstone[] = [];
  #tombstoneBytes = 0;
  #finished = false;
  #failed = false;

  constructor(options: TableBuilderOptions = {}) {
    this.#blockSize = checkOption('blockSize', options.blockSize ?? 4096, 1, 0x1000_0000);
    const interval = checkOption('restartInterval', options.restartInterval ?? DEFAULT_RESTART_INTERVAL, 1, 0xffff);
    this.#bitsPerKey = checkOption('bitsPerKey', options.bitsPerKey ?? 10, 1, 64);
    const compression = options.compression ?? 'lz4';
    if (compression !== 'lz4' && compression !== 'none') {
      throw new InvalidArgumentError(`compression must be 'lz4' or 'none', got ${String(compression)}`);
    }
    this.#compress = compression === 'lz4';
    if (options.creationTime !== undefined) checkOption('creationTime', options.creationTime, 0, Number.MAX_SAFE_INTEGER);
    this.#creationTime = options.creationTime;
    this.#warm = options.warm;
    this.#data = new BlockBuilder(interval);
    this.#index = new BlockBuilder(1);
  }

  get entryCount(): number {
    return this.#entries;
  }

  /** The file size if finished now, give or take the compression of the open block. */
  get estimatedFileSize(): number {
    this.#checkUsable();
    const largestKeyLen = this.#data.entryCount > 0 ? this.#data.lastKeyLen : this.#lastKeyLen;
    return (
      this.#file.length +
      this.#data.estimatedSize +
      this.#index.estimatedSize +
      bloomSize(this.#distinctUserKeys, this.#bitsPerKey) +
      PROPERTIES_FIXED_SIZE +
      this.#smallestKey.length +
      largestKeyLen +
      3 * BLOCK_TRAILER_SIZE +
      FOOTER_SIZE +
      this.#tombstoneBytes
    );
  }

  /**
   * What the index entry of the last finished data block, written once the
   * next block starts, will add to estimatedFileSize; 0 when none waits.
   */
  get pendingIndexEntrySize(): number {
    return this.#pending === undefined ? 0 : this.#lastKeyLen + INDEX_ENTRY_OVERHEAD;
  }

  /**
   * Adds the entry whose internal key and value already sit in linear memory.
   * Keys must strictly increase (InvalidArgumentError otherwise, and the
   * builder is unchanged); kinds are 0..3.
   */
  add(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): void {
    this.#checkUsable();
    checkRange(keyPtr, keyLen, 'key');
    checkRange(valuePtr, valueLen, 'value');
    const { seq, kind } = readTrailer(keyPtr, keyLen);
    const newUserKey = this.#startEntry(keyPtr, keyLen);
    this.#data.addAt(keyPtr, keyLen, valuePtr, valueLen);
    this.#countEntry(keyPtr, keyLen, valueLen, seq, kind, newUserKey);
    if (this.#data.estimatedSize >= this.#blockSize) this.#cutBlock();
  }

  /** add() for host bytes (copied into linear memory first). */
  addBytes(key: Uint8Array, value: Uint8Array): void {
    this.#checkUsable();
    const ptr = this.#input.ensure(key.length + value.length);
    const mem = u8();
    mem.set(key, ptr);
    mem.set(value, ptr + key.length);
    this.add(ptr, key.length, ptr + key.length, value.length);
  }

  /**
   * Adds a sorted run in the memtable export format: repeated
   * [u32 LE key length][u32 LE value length][internal key][value]. The run is
   * copied into linear memory once. An error leaves the builder failed.
   */
  addRun(run: Uint8Array): void {
    this.#checkUsable();
    const ptr = this.#input.ensure(run.length);
    u8().set(run, ptr);
    this.addRunAt(ptr, run.length);
  }

  /** addRun over a run already in linear memory (`len` bytes at `ptr`). */
  addRunAt(ptr: number, len: number): void {
    this.#checkUsable();
    checkRange(ptr, len, 'run');
    try {
      this.#addRun(ptr, ptr + len);
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  /**
   * Adds the range deletion [start, end)#seq (end undefined: unbounded) to
   * the range-deletion block. Any order; (start, seq) must be unique.
   */
  addRangeDeletion(start: Uint8Array, end: Uint8Array | undefined, seq: number): void {
    this.#checkUsable();
    if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidArgumentError(`sequence ${seq} is not an integer in [0, 2^53)`);
    if (isEmptyRange(start, end)) throw new InvalidArgumentError('a range deletion must not be empty');
    this.#tombstones.push({ start: start.slice(), end: end?.slice(), seq });
    this.#tombstoneBytes += start.length + (end?.length ?? 0) + TRAILER_SIZE + ENTRY_OVERHEAD;
  }

  /** Writes the filter, index, properties and footer; returns the file. The builder is then spent. */
  finish(): TableBuildResult {
    let bytes: Uint8Array = new Uint8Array(0);
    const properties = this.finishIn((ptr, len) => {
      bytes = copyOut(ptr, len);
    });
    return { bytes, properties };
  }

  /**
   * As finish, but hands `use` the file where it lies in linear memory
   * (`len` bytes at `ptr`, freed when `use` returns; `use` must not allocate
   * in this thread's instance) instead of copying it out.
   */
  finishIn(use: (ptr: number, len: number, properties: TableProperties) => void): TableProperties {
    this.#checkUsable();
    try {
      if (this.#data.entryCount > 0) this.#cutBlock();
      if (this.#pending !== undefined) this.#addIndexEntry(undefined);
      const rangeDeletions = this.#writeRangeDeletions();
      const filter = this.#writeFilter();
      const indexBlock = this.#index.finish();
      const index = this.#writeBlock(indexBlock.ptr, indexBlock.len, true);
      const properties = this.#properties(index.size, filter.size);
      const props = this.#writePropertiesBlock(properties);
      this.#writeFooter(index, filter, props, rangeDeletions);
      use(this.#file.ptr, this.#file.length, properties);
      this.#warm?.tableFinished();
      return properties;
    } catch (err) {
      this.#warm?.tableAbandoned();
      throw err;
    } finally {
      this.#finished = true;
      this.#releaseAll();
    }
  }

  /** Frees the builder's memory without finishing. Idempotent. */
  abandon(): void {
    if (!this.#finished) this.#warm?.tableAbandoned();
    this.#finished = true;
    this.#releaseAll();
  }

  // -------------------------------------------------------------------------
  // Entries

  #checkUsable(): void {
    if (this.#finished) throw new InvalidArgumentError('table builder is finished');
    if (this.#failed) throw new InvalidArgumentError('table builder failed earlier');
  }

  /** The previous key (in the open block, or the last finished block's last key); len 0 when none. */
  #previousKey(): { ptr: number; len: number } {
    if (this.#data.entryCount > 0) return { ptr: this.#data.lastKeyPtr, len: this.#data.lastKeyLen };
    return { ptr: this.#lastKey.ptr, len: this.#lastKeyLen };
  }

  /**
   * Checks the order across a block boundary and writes the pending index
   * entry before the first key of a new block. Returns whether the key starts
   * a new user key. Changes nothing when it throws.
   */
  #startEntry(keyPtr: number, keyLen: number): boolean {
    if (this.#entries === 0) return true;
    const prev = this.#previousKey();
    if (this.#data.entryCount === 0) {
      if (raw.compareInternalKeys(prev.ptr, prev.len, keyPtr, keyLen) >= 0) {
        throw new InvalidArgumentError('table keys must be added in strictly increasing internal-key order');
      }
      if (this.#pending !== undefined) this.#addIndexEntry({ ptr: keyPtr, len: keyLen });
    }
    return !sameUserKey(u8(), prev.ptr, prev.len, keyPtr, keyLen);
  }

  /** Statistics and the filter hash of an entry just added. */
  #countEntry(keyPtr: number, keyLen: number, valueLen: number, seq: number, kind: number, newUserKey: boolean): void {
    if (this.#entries === 0) this.#smallestKey = copyOut(keyPtr, keyLen);
    this.#entries++;
    if (kind === Kind.Deletion) this.#deletions++;
    else if (kind === Kind.RangeDeletion) this.#rangeDeletions++;
    this.#rawKeyBytes += keyLen;
    this.#rawValueBytes += valueLen;
    if (seq < this.#smallestSeq) this.#smallestSeq = seq;
    if (seq > this.#largestSeq) this.#largestSeq = seq;
    if (newUserKey) {
      this.#hashes.reserve(HASH_BYTES);
      hashAt(keyPtr, keyLen - TRAILER_SIZE, this.#hashes.end);
      this.#hashes.length += HASH_BYTES;
      this.#distinctUserKeys++;
    }
  }

  /**
   * Adds run entries in batches: each batch takes entries until their
   * worst-case encoded size fills what is left of the block, so the block
   * can only reach its target on a batch's last entry, exactly where adding
   * one at a time would cut it.
   */
  #addRun(p: number, end: number): void {
    while (p < end) {
      const budget = this.#blockSize - this.#data.estimatedSize;
      const rowsCap = Math.ceil(budget / (RUN_HEADER + ENTRY_OVERHEAD)) + 1;
      this.#rows.length = 0;
      this.#rows.reserve(ROW_SIZE * rowsCap);
      this.#hashes.reserve(HASH_BYTES * rowsCap);
      // The first entry's key is checked here, before #startEntry reads it; the scan checks every entry.
      const dv = view();
      const keyPtr = p + RUN_HEADER;
      const keyLen = end - p < RUN_HEADER ? 0 : dv.getUint32(p, true);
      if (keyLen < TRAILER_SIZE || keyPtr + keyLen + dv.getUint32(p + 4, true) > end) {
        throw new InvalidArgumentError(`run entry at byte ${p} is truncated or has a key under 8 bytes`);
      }
      const firstIsNew = this.#startEntry(keyPtr, keyLen);
      const batch = scanRunBatch(p, end, budget, firstIsNew, this.#rows.ptr, rowsCap, this.#hashes.end);
      if (this.#entries === 0) this.#smallestKey = copyOut(keyPtr, keyLen);
      this.#countBatch(batch);
      this.#data.addBatch(this.#rows.ptr, batch.count);
      if (this.#data.estimatedSize >= this.#blockSize) this.#cutBlock();
      p = batch.next;
    }
  }

  /** #countEntry for a batch scanned in WebAssembly (its filter hashes already written past #hashes.length). */
  #countBatch(batch: RunBatch): void {
    this.#entries += batch.count;
    this.#deletions += batch.deletions;
    this.#rangeDeletions += batch.rangeDeletions;
    this.#rawKeyBytes += batch.keyBytes;
    this.#rawValueBytes += batch.valueBytes;
    if (batch.smallestSeq < this.#smallestSeq) this.#smallestSeq = batch.smallestSeq;
    if (batch.largestSeq > this.#largestSeq) this.#largestSeq = batch.largestSeq;
    this.#hashes.length += batch.hashes * HASH_BYTES;
    this.#distinctUserKeys += batch.hashes;
  }

  // -------------------------------------------------------------------------
  // Blocks

  /** Finishes the open data block, appends it, and remembers its last key for the index. */
  #cutBlock(): void {
    const len = this.#data.lastKeyLen;
    const dst = this.#lastKey.ensure(len);
    const src = this.#data.lastKeyPtr;
    u8().copyWithin(dst, src, src + len);
    this.#lastKeyLen = len;
    const block = this.#data.finish();
    this.#pending = this.#writeBlock(block.ptr, block.len, this.#compress);
    this.#warm?.keep(this.#pending.offset, block.ptr, block.len);
    this.#dataBlocks++;
    this.#dataBytes += this.#pending.size + BLOCK_TRAILER_SIZE;
    this.#data.reset();
  }

  /**
   * Index entry for the pending block: a separator below `next` (the next
   * block's first key), or at the end the block's last key itself. A
   * shortened last key would save a few bytes but share no prefix with the
   * others ("key:000000999999" cut to "l"), and the index search compares
   * 8-byte prefixes past the bytes its first and last keys share
   * (assembly/block.ts).
   */
  #addIndexEntry(next: { ptr: number; len: number } | undefined): void {
    const out = this.#separator.ensure(this.#lastKeyLen);
    const handlePtr = this.#handleBytes.ensure(MAX_HANDLE_LENGTH);
    const mem = u8();
    const a = this.#lastKey.ptr;
    const keyPtr = next === undefined ? a : out;
    const keyLen = next === undefined ? this.#lastKeyLen : writeSeparator(mem, a, this.#lastKeyLen, next.ptr, next.len, out);
    const handleLen = writeHandle(mem, handlePtr, this.#pending!) - handlePtr;
    this.#index.addAt(keyPtr, keyLen, handlePtr, handleLen);
    this.#pending = undefined;
  }

  /**
   * Appends `len` bytes at `ptr` as a block with its trailer: LZ4 (varint32
   * raw length, then the LZ4 block) when allowed and under 7/8 of the raw
   * size, else the bytes as they are.
   */
  #writeBlock(ptr: number, len: number, compressible: boolean): BlockHandle {
    const limit = compressible && len <= lz4.MAX_INPUT ? maxCompressedSize(len) : 0;
    this.#file.reserve(Math.max(len, limit) + BLOCK_TRAILER_SIZE);
    const pos = this.#file.end;
    const header = varintLength(len);
    if (limit > header) {
      writeVarint(u8(), pos, len);
      const n = lz4.compressAt(ptr, len, pos + header, limit - header);
      if (n > 0) return this.#sealBlock(header + n, Compression.Lz4);
    }
    u8().copyWithin(pos, ptr, ptr + len);
    return this.#sealBlock(len, Compression.None);
  }

  /** Writes the trailer after `size` stored bytes at the file's end and commits them. */
  #sealBlock(size: number, type: Compression): BlockHandle {
    const pos = this.#file.end;
    u8()[pos + size] = type;
    const crc = maskCrc(crc32cAt(pos, size + 1));
    view().setUint32(pos + size + 1, crc, true);
    const handle = { offset: this.#file.length, size };
    this.#file.length += size + BLOCK_TRAILER_SIZE;
    return handle;
  }

  #writeFilter(): BlockHandle {
    const size = bloomSize(this.#distinctUserKeys, this.#bitsPerKey);
    this.#file.reserve(size + BLOCK_TRAILER_SIZE);
    bloomBuildAt(this.#hashes.ptr, this.#distinctUserKeys, this.#bitsPerKey, this.#file.end, size);
    return this.#sealBlock(size, Compression.None);
  }

  /**
   * The range-deletion block (docs/FORMAT.md): one entry per tombstone,
   * key start#seq (kind 3), value the end, in internal-key order; counted
   * in the properties like entries. NO_BLOCK when there are none.
   */
  #writeRangeDeletions(): BlockHandle {
    const tombstones = this.#tombstones;
    if (tombstones.length === 0) return NO_BLOCK;
    const keys = tombstones.map((t) => makeInternalKey(t.start, t.seq, Kind.RangeDeletion));
    const order = keys.map((_, i) => i).sort((a, b) => compareInternalKeys(keys[a]!, keys[b]!));
    const block = new BlockBuilder(1);
    try {
      for (let i = 0; i < order.length; i++) {
        const key = keys[order[i]!]!;
        if (i > 0 && compareInternalKeys(keys[order[i - 1]!]!, key) === 0) throw new InvalidArgumentError('a range deletion was added twice');
        const t = tombstones[order[i]!]!;
        const value = encodeEnd(t.end);
        block.add(key, value);
        this.#entries++;
        this.#rangeDeletions++;
        this.#rawKeyBytes += key.length;
        this.#rawValueBytes += value.length;
        if (t.seq < this.#smallestSeq) this.#smallestSeq = t.seq;
        if (t.seq > this.#largestSeq) this.#largestSeq = t.seq;
      }
      const { ptr, len } = block.finish();
      return this.#writeBlock(ptr, len, this.#compress);
    } finally {
      block.destroy();
    }
  }

  #properties(indexSize: number, filterSize: number): TableProperties {
    const empty = this.#entries === 0;
    const pointsSmallest = this.#dataBlocks === 0 ? undefined : this.#smallestKey;
    const pointsLargest = this.#dataBlocks === 0 ? undefined : copyOut(this.#lastKey.ptr, this.#lastKeyLen);
    return {
      entries: this.#entries,
      deletions: this.#deletions,
      rangeDeletions: this.#rangeDeletions,
      rawKeyBytes: this.#rawKeyBytes,
      rawValueBytes: this.#rawValueBytes,
      dataBlocks: this.#dataBlocks,
      dataBytes: this.#dataBytes,
      indexSize,
      filterSize,
      smallestSeq: empty ? 0 : this.#smallestSeq,
      largestSeq: this.#largestSeq,
      creationTime: this.#creationTime ?? Date.now(),
      formatVersion: TABLE_FORMAT_VERSION,
      smallestKey: empty ? new Uint8Array(0) : smallestOf(pointsSmallest, this.#tombstones),
      largestKey: empty ? new Uint8Array(0) : largestOf(pointsLargest, this.#tombstones),
    };
  }

  #writePropertiesBlock(p: TableProperties): BlockHandle {
    const size = propertiesSize(p);
    this.#file.reserve(size + BLOCK_TRAILER_SIZE);
    writeProperties(u8(), view(), this.#file.end, p);
    return this.#sealBlock(size, Compression.None);
  }

  #writeFooter(index: BlockHandle, filter: BlockHandle, properties: BlockHandle, rangeDeletions: BlockHandle): void {
    this.#file.reserve(FOOTER_SIZE);
    const pos = this.#file.end;
    writeFooterFields(view(), pos, { index, filter, properties, rangeDeletions, version: TABLE_FORMAT_VERSION });
    view().setUint32(pos + F_CHECKSUM, maskCrc(crc32cAt(pos, F_CHECKSUM)), true);
    this.#file.length += FOOTER_SIZE;
  }

  #releaseAll(): void {
    this.#data.destroy();
    this.#index.destroy();
    this.#file.release();
    this.#hashes.release();
    this.#rows.release();
    this.#lastKey.release();
    this.#separator.release();
    this.#handleBytes.release();
    this.#input.release();
  }
}

/** Throws unless [ptr, ptr + len) lies inside linear memory. */
function checkRange(ptr: number, len: number, what: string): void {
  if (!Number.isInteger(ptr) || !Number.isInteger(len) || ptr < 0 || len < 0 || ptr + len > u8().length) {
    throw new InvalidArgumentError(`${what} [${ptr}, +${len}) is outside linear memory`);
  }
}

/** Sequence and kind of the internal key at ptr; InvalidArgumentError for an unknown kind or a short key. */
function readTrailer(ptr: number, len: number): { seq: number; kind: number } {
  if (len < TRAILER_SIZE) throw new InvalidArgumentError(`internal key of ${len} bytes is shorter than its trailer`);
  const { seq, kind } = trailerAt(view(), ptr, len);
  if (!isKind(kind)) throw new InvalidArgumentError(`internal key has unknown kind ${kind}`);
  if (seq > MAX_SEQUENCE) throw new InvalidArgumentError('internal key sequence exceeds 2^53 - 1');
  return { seq, kind };
}

/** Whether the internal keys at a and b have the same user key. */
function sameUserKey(mem: Uint8Array, a: number, aLen: number, b: number, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen - TRAILER_SIZE; i++) {
    if (mem[a + i] !== mem[b + i]) return false;
  }
  return true;
}
