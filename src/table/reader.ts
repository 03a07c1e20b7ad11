// Reads a table file (docs/FORMAT.md, "Tables"). open() verifies the footer
// and loads the index (kept decoded), the filter and the properties into
// linear memory; data blocks come through the block cache, read on a miss
// with one positional read straight into linear memory, checksummed and
// LZ4-decoded there. Any damage is a CorruptionError naming the file and
// the offset of the block or footer that failed.
import { ClosedError, CorruptionError, InvalidArgumentError } from '../errors.js';
import { Kind, TRAILER_SIZE, isKind } from '../keys.js';
import { TombstoneFragments } from '../rangedel/fragments.js';
import { type RangeTombstone, decodeEnd, isEmptyRange } from '../rangedel/tombstone.js';
import type { FileHandle } from '../fs/filesystem.js';
import { BlockCursor, DecodedBlock, blockFailure, checkRestarts } from '../wasm/block.js';
import type { BlockMap } from '../wasm/block-map.js';
import { GET_FILTERED, GET_FOUND, GET_NEED_BLOCK, GET_ABSENT, GET_OUT_SIZE, OUT_BLOCK, OUT_MAP_HITS, OUT_TRAILER, OUT_VALUE, OUT_VALUE_LENGTH, TABLE_SIZE, T_CACHE_BASE, T_FILTER, T_INDEX, T_MAP, T_OFFSETS, tableGet } from '../wasm/table-get.js';
import { bloomCheckAt, bloomMayContainAt } from '../wasm/bloom.js';
import { crc32cAt, maskCrc } from '../wasm/crc32c.js';
import { Region, alloc, free, u8, view } from '../wasm/heap.js';
import { PointLookup, type StagedKey } from '../point-lookup.js';
import { copyOut } from '../copy-out.js';
import * as lz4 from '../wasm/lz4.js';
import { type BlockCache, type BlockCacheHandle, type BlockCacheRef, type CachedBlock, MAX_CACHE_ID, blockCacheKey, freeCachedBlock } from './block-source.js';
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  Compression,
  F_CHECKSUM,
  FOOTER_SIZE,
  type Footer,
  MAX_TABLE_SIZE,
  TABLE_FORMAT_VERSION,
  type TableProperties,
  corruption,
  hasMagic,
  readFooterFields,
  readHandle,
  readProperties,
  trailerAt,
} from './format.js';
import { readVarint } from '../varint.js';
import { TableIterator, type TableIteratorSource } from './iterator.js';

/** tableGet's result struct, shared by the thread's readers. */
const getOut = new Region(GET_OUT_SIZE);

export interface TableReaderOptions {
  /** Names this table's blocks in the block cache; an integer in [0, MAX_CACHE_ID]. Default: the file number. */
  cacheId?: number;
  /**
   * The map of the blocks the cache holds, which the cache keeps (CacheHooks):
   * with it, a point read of cached blocks runs in one WebAssembly call.
   */
  blockMap?: BlockMap;
}

/** The newest entry of a user key visible at a snapshot. Deletions are returned too. */
export interface TableEntry {
  kind: number;
  seq: number;
  /** A copy, detached from linear memory; empty for a deletion. */
  value: Uint8Array;
}

export interface TableReaderStats {
  /** get() calls that probed the bloom filter. */
  filterChecks: number;
  /** Probes that ruled the key out, skipping the index and data block. */
  filterSkips: number;
  /**
   * Probes that passed but found no entry visible at the snapshot: at the
   * newest snapshot these are exactly the filter's false positives.
   */
  filterFalsePositives: number;
  /** Data blocks found in the block cache. */
  blockCacheHits: number;
  /** Data blocks read from the file (cache misses). */
  blockReads: number;
}

/** One data block as a tool that shows a table's layout sees it (TableReader.dataBlockLayout). */
export interface DataBlockLayout {
  handle: BlockHandle;
  /** The block's index key: an internal key >= each of the block's keys and < each of the next block's. */
  separator: Uint8Array;
  /** How the block is stored (its trailer's type byte). */
  compression: Compression;
  entries: number;
}

/** A block read and verified by BlockIO, and how it was stored. */
interface StoredBlock extends CachedBlock {
  readonly compression: Compression;
}

export class TableReader {
  readonly path: string;
  readonly fileNumber: number;
  readonly properties: TableProperties;
  /** The block handles and format version from the footer. */
  readonly footer: Footer;
  readonly stats: TableReaderStats = {
    filterChecks: 0,
    filterSkips: 0,
    filterFalsePositives: 0,
    blockCacheHits: 0,
    blockReads: 0,
  };

  readonly #file: FileHandle;
  readonly #io: BlockIO;
  readonly #cache: BlockCache;
  /** blockCacheKey(cacheId, 0). */
  readonly #cacheBase: number;
  readonly #index: DecodedBlock;
  readonly #indexBlock: CachedBlock;
  readonly #filter: CachedBlock;
  /** Offset and stored size of each data block, from the index. */
  readonly #offsets: Uint32Array;
  readonly #sizes: Uint32Array;
  /**
   * Each data block's cache entry as last pinned, kept unpinned: a hit
   * pins it again without the cache's map (whose number keys are doubles,
   * hashed on every lookup). An entry no longer cached is looked up anew.
   */
  readonly #blockRefs: (BlockCacheRef | undefined)[];
  /** The range-deletion block's tombstones, as stored (empty for most tables). */
  readonly rangeTombstones: readonly RangeTombstone[];
  /** Those tombstones fragmented for lookups; undefined when there are none. */
  readonly #fragments: TombstoneFragments | undefined;
  #cursor = new BlockCursor();
  /** The table struct lookup() hands to tableGet, then the data block offsets it names (0 without a block map). */
  #table = 0;
  /** get()'s staged key. */
  #lookup = new PointLookup();
  /** The reader itself plus each open iterator; everything is freed at 0. */
  #refs = 1;
  #closed = false;

  private constructor(parts: {
    file: FileHandle;
    fileNumber: number;
    cache: BlockCache;
    cacheId: number;
    properties: TableProperties;
    footer: Footer;
    indexBlock: CachedBlock;
    index: DecodedBlock;
    filter: CachedBlock;
    offsets: Uint32Array;
    sizes: Uint32Array;
    tombstones: RangeTombstone[];
    blockMap: BlockMap | undefined;
  }) {
    this.#file = parts.file;
    this.#io = new BlockIO(parts.file);
    this.path = parts.file.path;
    this.fileNumber = parts.fileNumber;
    this.#cache = parts.cache;
    this.#cacheBase = blockCacheKey(parts.cacheId, 0);
    this.properties = parts.properties;
    this.footer = parts.footer;
    this.#indexBlock = parts.indexBlock;
    this.#index = parts.index;
    this.#filter = parts.filter;
    this.#offsets = parts.offsets;
    this.#sizes = parts.sizes;
    this.#blockRefs = new Array<BlockCacheRef | undefined>(parts.offsets.length).fill(undefined);
    this.rangeTombstones = parts.tombstones;
    this.#fragments = TombstoneFragments.build(parts.tombstones);
    if (parts.blockMap !== undefined) this.#table = this.#writeTable(parts.blockMap);
  }

  /** Allocates and fills the table struct of tableGet (src/wasm/table-get.ts). */
  #writeTable(blockMap: BlockMap): number {
    const offsets = this.#offsets;
    const table = alloc(TABLE_SIZE + offsets.length * 4);
    const dv = view();
    dv.setUint32(table + T_FILTER, this.#filter.ptr, true);
    dv.setUint32(table + T_FILTER + 4, this.#filter.len, true);
    this.#index.writeSearch(dv, table + T_INDEX);
    dv.setUint32(table + T_OFFSETS, table + TABLE_SIZE, true);
    dv.setUint32(table + T_MAP, blockMap.ptr, true);
    dv.setFloat64(table + T_CACHE_BASE, this.#cacheBase, true);
    for (let i = 0; i < offsets.length; i++) dv.setUint32(table + TABLE_SIZE + i * 4, offsets[i]!, true);
    return table;
  }

  /**
   * Opens the table of `fileSize` bytes in `file`, verifying its footer,
   * index, filter and properties. On success the reader owns `file` and
   * closes it when the reader and its iterators are all closed; on failure
   * the caller still owns it.
   */
  static open(file: FileHandle, fileNumber: number, fileSize: number, cache: BlockCache, options: TableReaderOptions = {}): TableReader {
    if (!Number.isSafeInteger(fileNumber) || fileNumber < 0) throw new InvalidArgumentError(`file number ${fileNumber} is not a non-negative integer`);
    const cacheId = options.cacheId ?? fileNumber;
    if (!Number.isInteger(cacheId) || cacheId < 0 || cacheId > MAX_CACHE_ID) {
      throw new InvalidArgumentError(`cache id ${cacheId} is outside [0, ${MAX_CACHE_ID}]`);
    }
    if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw new InvalidArgumentError(`file size ${fileSize} is not a non-negative integer`);
    const io = new BlockIO(file);
    if (fileSize < FOOTER_SIZE) throw corruption(file.path, 0, `file of ${fileSize} bytes is shorter than a table footer`);
    if (fileSize > MAX_TABLE_SIZE) throw corruption(file.path, 0, `file of ${fileSize} bytes exceeds the 1 GiB table limit`);
    const footer = io.readFooter(fileSize);
    const metaEnd = fileSize - FOOTER_SIZE;
    for (const [what, handle] of [
      ['index block', footer.index],
      ['filter block', footer.filter],
      ['properties block', footer.properties],
    ] as const) {
      if (handle.offset + handle.size + BLOCK_TRAILER_SIZE > metaEnd) {
        throw corruption(file.path, metaEnd, `${what} handle [${handle.offset}, +${handle.size}) runs past the footer`);
      }
    }
    const hasRangeDeletions = footer.rangeDeletions.offset !== 0 || footer.rangeDeletions.size !== 0;
    if (hasRangeDeletions && footer.rangeDeletions.offset + footer.rangeDeletions.size + BLOCK_TRAILER_SIZE > metaEnd) {
      throw corruption(file.path, metaEnd, 'range-deletion block handle runs past the footer');
    }
    const properties = io.readPropertiesBlock(footer);
    const tombstones = hasRangeDeletions ? io.readRangeDeletions(footer.rangeDeletions) : [];
    const metaStarts = [footer.index.offset, footer.filter.offset, footer.properties.offset];
    if (hasRangeDeletions) metaStarts.push(footer.rangeDeletions.offset);
    const dataEnd = Math.min(...metaStarts);
    const held: CachedBlock[] = [];
    let index: DecodedBlock | undefined;
    try {
      const filter = io.readBlock(footer.filter, 'filter block');
      held.push(filter);
      try {
        bloomCheckAt(filter.ptr, filter.len);
      } catch (err) {
        throw corruption(file.path, footer.filter.offset, 'filter block', err);
      }
      const indexBlock = io.readBlock(footer.index, 'index block');
      held.push(indexBlock);
      try {
        index = DecodedBlock.decode(indexBlock.ptr, indexBlock.len);
      } catch (err) {
        throw err instanceof CorruptionError ? corruption(file.path, footer.index.offset, 'index block', err) : err;
      }
      const { offsets, sizes } = readIndexHandles(file.path, footer.index.offset, index, dataEnd, properties);
      return new TableReader({ file, fileNumber, cache, cacheId, properties, footer, indexBlock, index, filter, offsets, sizes, tombstones, blockMap: options.blockMap });
    } catch (err) {
      index?.release();
      for (const block of held) freeCachedBlock(block);
      throw err;
    }
  }

  /**
   * The newest entry of `userKey` with sequence <= snapshotSeq, deletions
   * included (the caller stops at one), or undefined when the table holds
   * none. Bloom filter, then index, then one data block through the cache.
   */
  get(userKey: Uint8Array, snapshotSeq: number): TableEntry | undefined {
    return this.lookup(this.#lookup.stage(userKey, snapshotSeq));
  }

  /**
   * As get(), for a lookup staged once for every table a read consults. With
   * a block map, one WebAssembly call reads cached blocks; a block not
   * cached is read (into the cache) by the steps below, from that block on.
   */
  lookup(key: StagedKey): TableEntry | undefined {
    this.#checkOpen();
    this.stats.filterChecks++;
    if (this.#table === 0) return this.#lookupInSteps(key);
    const out = getOut.ptr;
    return this.#settle(tableGet(this.#table, key.target, key.targetLen, key.h1, key.h2, out), out, key);
  }

  /** The table struct a point batch's records name to read this table in WebAssembly (tableGetBatch); 0 when it has none (use lookup()). */
  get batchTable(): number {
    this.#checkOpen();
    return this.#table;
  }

  /**
   * lookup()'s answer from tableGetBatch's code `rc` and result struct at
   * `out` for `key`. A block not cached is read into the cache here, which
   * may evict blocks other results point into: settle found entries first.
   */
  settleBatched(rc: number, out: number, key: StagedKey): TableEntry | undefined {
    this.#checkOpen();
    this.stats.filterChecks++;
    return this.#settle(rc, out, key);
  }

  #settle(rc: number, out: number, key: StagedKey): TableEntry | undefined {
    const dv = view();
    const hits = dv.getUint32(out + OUT_MAP_HITS, true);
    if (hits > 0) {
      this.stats.blockCacheHits += hits;
      this.#cache.recordHits(hits);
    }
    if (rc === GET_FOUND) return this.#foundEntry(dv, out);
    if (rc === GET_FILTERED) {
      this.stats.filterSkips++;
      return undefined;
    }
    let found: TableEntry | undefined;
    if (rc === GET_NEED_BLOCK) found = this.#findFrom(dv.getUint32(out + OUT_BLOCK, true), key.target, key.targetLen, key.userKey);
    else if (rc !== GET_ABSENT) throw this.#blockError(dv.getUint32(out + OUT_BLOCK, true), blockFailure(rc));
    if (found === undefined) this.stats.filterFalsePositives++;
    return found;
  }

  /** The entry tableGet found, its value copied out before anything can free its block. */
  #foundEntry(dv: DataView, out: number): TableEntry {
    const lo = dv.getUint32(out + OUT_TRAILER, true);
    const seq = dv.getUint32(out + OUT_TRAILER + 4, true) * 2 ** 24 + (lo >>> 8);
    const kind = lo & 0xff;
    if (!isKind(kind) || seq > Number.MAX_SAFE_INTEGER) {
      throw this.#blockError(dv.getUint32(out + OUT_BLOCK, true), new CorruptionError(`entry has a bad trailer (kind ${kind})`));
    }
    const valuePtr = dv.getUint32(out + OUT_VALUE, true);
    return { kind, seq, value: copyOut(u8(), valuePtr, valuePtr + dv.getUint32(out + OUT_VALUE_LENGTH, true)) };
  }

  /** lookup() one step at a time: the bloom filter, the index, then data blocks through the cache. */
  #lookupInSteps(key: StagedKey): TableEntry | undefined {
    const filter = this.#filter;
    if (!bloomMayContainAt(filter.ptr, filter.len, key.h1, key.h2)) {
      this.stats.filterSkips++;
      return undefined;
    }
    const found = this.#find(key.target, key.targetLen, key.userKey);
    if (found === undefined) this.stats.filterFalsePositives++;
    return found;
  }

  /** The largest sequence <= snapshotSeq of this table's range deletions covering `userKey`, or -1. */
  coveringTombstoneSeq(userKey: Uint8Array, snapshotSeq: number): number {
    return this.#fragments === undefined ? -1 : this.#fragments.coveringSeq(userKey, snapshotSeq);
  }

  /** An iterator over every entry. Close it; the reader's memory lives until its last iterator closes. */
  iterator(): TableIterator {
    this.#checkOpen();
    this.#refs++;
    return new TableIterator(this.#iteratorSource());
  }

  /** Closes the reader; open iterators keep working until they close. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unref();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError(`table ${this.path} is closed`);
  }

  #unref(): void {
    if (--this.#refs > 0) return;
    this.#index.release();
    freeCachedBlock(this.#indexBlock);
    freeCachedBlock(this.#filter);
    this.#cursor.destroy();
    if (this.#table !== 0) free(this.#table);
    this.#table = 0;
    this.#lookup.release();
    this.#file.closeSync();
  }

  /**
   * The first entry >= target is in the block the index points at, or (when
   * the target falls between that block's last key and its separator) the
   * first entry of the next block.
   */
  #find(target: number, targetLen: number, userKey: Uint8Array): TableEntry | undefined {
    return this.#findFrom(this.#findBlock(target, targetLen), target, targetLen, userKey);
  }

  /** #find from data block `first` on. */
  #findFrom(first: number, target: number, targetLen: number, userKey: Uint8Array): TableEntry | undefined {
    for (let i = first; i < this.#offsets.length; i++) {
      const handle = this.#pinBlock(i);
      try {
        const cursor = this.#cursor;
        cursor.attach(handle.value.ptr, handle.value.len);
        if (cursor.seekAt(target, targetLen)) return this.#entryAtCursor(userKey);
      } catch (err) {
        throw this.#blockError(i, err);
      } finally {
        this.#cache.release(handle);
      }
    }
    return undefined;
  }

  /** The cursor's entry if its user key is `userKey`. */
  #entryAtCursor(userKey: Uint8Array): TableEntry | undefined {
    const cursor = this.#cursor;
    const keyPtr = cursor.keyPtr;
    const keyLen = cursor.keyLen;
    if (keyLen !== userKey.length + TRAILER_SIZE) return undefined;
    const mem = u8();
    for (let j = 0; j < userKey.length; j++) {
      if (mem[keyPtr + j] !== userKey[j]) return undefined;
    }
    const { seq, kind } = trailerAt(view(), keyPtr, keyLen);
    if (!isKind(kind) || seq > Number.MAX_SAFE_INTEGER) throw new CorruptionError(`entry has a bad trailer (kind ${kind})`);
    const valuePtr = cursor.valuePtr;
    return { kind, seq, value: copyOut(mem, valuePtr, valuePtr + cursor.valueLen) };
  }

  /**
   * Reads every data block from the file (never the cache), checking its
   * checksum and decoding it: how many there are, and the corruption errors
   * of those that fail, each naming the file and the block's offset.
   */
  verifyDataBlocks(): { blocks: number; failures: CorruptionError[] } {
    this.#checkOpen();
    const failures: CorruptionError[] = [];
    for (let i = 0; i < this.#offsets.length; i++) {
      try {
        freeCachedBlock(this.#io.readBlock({ offset: this.#offsets[i]!, size: this.#sizes[i]! }, 'data block'));
      } catch (err) {
        if (!(err instanceof CorruptionError)) throw err;
        failures.push(err);
      }
    }
    return { blocks: this.#offsets.length, failures };
  }

  /**
   * Each data block read from the file (never the cache), its checksum
   * verified and its entries decoded, with its index entry: what a tool that
   * shows a table's layout prints. Throws the CorruptionError of the first
   * block that fails, naming the file and the block's offset.
   */
  dataBlockLayout(): DataBlockLayout[] {
    this.#checkOpen();
    const layout: DataBlockLayout[] = [];
    for (let i = 0; i < this.#offsets.length; i++) {
      const handle = { offset: this.#offsets[i]!, size: this.#sizes[i]! };
      const block = this.#io.readBlock(handle, 'data block');
      try {
        const decoded = DecodedBlock.decode(block.ptr, block.len);
        layout.push({ handle, separator: this.#index.key(i), compression: block.compression, entries: decoded.count });
        decoded.release();
      } catch (err) {
        throw this.#blockError(i, err);
      } finally {
        freeCachedBlock(block);
      }
    }
    return layout;
  }

  /** Bytes of this table's data blocks the block cache holds now. */
  cachedDataBytes(): number {
    this.#checkOpen();
    let bytes = 0;
    for (let i = 0; i < this.#offsets.length; i++) bytes += this.#cache.chargeOf(this.#cacheBase + this.#offsets[i]!);
    return bytes;
  }

  #findBlock(target: number, targetLen: number): number {
    return this.#index.seekAt(target, targetLen);
  }

  /**
   * Data block i, pinned, through the cache. A block read from the file has
   * its restart array checked before it enters the cache, so cursors attach
   * to cached blocks without checking it again.
   */
  #pinBlock(i: number): BlockCacheHandle {
    const ref = this.#blockRefs[i];
    if (ref !== undefined && ref.cached) {
      this.stats.blockCacheHits++;
      return this.#cache.pinRef(ref);
    }
    const offset = this.#offsets[i]!;
    const key = this.#cacheBase + offset;
    let handle = this.#cache.lookup(key);
    if (handle !== undefined) {
      this.stats.blockCacheHits++;
    } else {
      this.stats.blockReads++;
      const block = this.#io.readBlock({ offset, size: this.#sizes[i]! }, 'data block');
      try {
        checkRestarts(block.ptr, block.len);
      } catch (err) {
        freeCachedBlock(block);
        throw this.#blockError(i, err);
      }
      handle = this.#cache.insert(key, block, block.len);
    }
    this.#blockRefs[i] = this.#cache.refOf(handle);
    return handle;
  }

  #blockError(i: number, err: unknown): unknown {
    return err instanceof CorruptionError ? corruption(this.path, this.#offsets[i]!, 'data block', err) : err;
  }

  #iteratorSource(): TableIteratorSource {
    let closed = false;
    return {
      blockCount: this.#offsets.length,
      findBlock: (targetPtr, targetLen) => this.#findBlock(targetPtr, targetLen),
      pinBlock: (i) => this.#pinBlock(i),
      unpinBlock: (handle) => this.#cache.release(handle),
      blockError: (i, err) => this.#blockError(i, err),
      iteratorClosed: () => {
        if (closed) return;
        closed = true;
        this.#unref();
      },
    };
  }
}

/** Positional reads of a table's footer and blocks into linear memory. */
class BlockIO {
  readonly #file: FileHandle;

  constructor(file: FileHandle) {
    this.#file = file;
  }

  /** Reads exactly `len` bytes at `position` into linear memory at `ptr`. */
  readExactly(ptr: number, len: number, position: number, what: string): void {
    let done = 0;
    while (done < len) {
      // Reads do not allocate, so one view serves the loop.
      const n = this.#file.readSync(u8(), ptr + done, len - done, position + done);
      if (n === 0) throw corruption(this.#file.path, position, `${what} is truncated (file ends ${len - done} bytes early)`);
      done += n;
    }
  }

  readFooter(fileSize: number): Footer {
    const path = this.#file.path;
    const at = fileSize - FOOTER_SIZE;
    const ptr = alloc(FOOTER_SIZE);
    try {
      this.readExactly(ptr, FOOTER_SIZE, at, 'footer');
      if (!hasMagic(u8(), ptr)) throw corruption(path, fileSize - 8, 'bad magic number (not a table, or truncated)');
      if (maskCrc(crc32cAt(ptr, F_CHECKSUM)) !== view().getUint32(ptr + F_CHECKSUM, true)) {
        throw corruption(path, at, 'footer checksum mismatch');
      }
      let footer: Footer;
      try {
        footer = readFooterFields(view(), ptr);
      } catch (err) {
        throw corruption(path, at, 'footer', err);
      }
      if (footer.version !== TABLE_FORMAT_VERSION) throw corruption(path, at, `unsupported table format version ${footer.version}`);
      return footer;
    } finally {
      free(ptr);
    }
  }

  /**
   * Reads the block at `handle` and its trailer, verifies the checksum and
   * decodes it. The result owns a fresh allocation (free with freeCachedBlock).
   */
  readBlock(handle: BlockHandle, what: string): StoredBlock {
    const path = this.#file.path;
    const { offset, size } = handle;
    const ptr = alloc(size + BLOCK_TRAILER_SIZE);
    let owned = true;
    try {
      this.readExactly(ptr, size + BLOCK_TRAILER_SIZE, offset, what);
      const type = u8()[ptr + size]!;
      if (maskCrc(crc32cAt(ptr, size + 1)) !== view().getUint32(ptr + size + 1, true)) {
        throw corruption(path, offset, `${what} checksum mismatch`);
      }
      if (type === Compression.None) {
        owned = false;
        return { ptr, len: size, compression: Compression.None };
      }
      if (type !== Compression.Lz4) throw corruption(path, offset, `${what} has unknown compression type ${type}`);
      return this.#decompress(ptr, size, offset, what);
    } finally {
      if (owned) free(ptr);
    }
  }

  /** Decodes an LZ4-stored block: varint32 raw length, then the LZ4 block, which must decode to exactly that length. */
  #decompress(ptr: number, size: number, offset: number, what: string): StoredBlock {
    const path = this.#file.path;
    const header = readVarint(u8(), ptr, ptr + size);
    if (header === undefined || header.next - ptr > 5 || header.value > lz4.MAX_INPUT) {
      throw corruption(path, offset, `${what} has a bad uncompressed length`);
    }
    const rawLen = header.value;
    const out = alloc(rawLen);
    const n = lz4.decompressAtRaw(header.next, ptr + size - header.next, out, rawLen);
    if (n !== rawLen) {
      free(out);
      throw corruption(path, offset, `${what} does not decompress (${n < 0 ? lz4.errorName(n) : `${n} of ${rawLen} bytes`})`);
    }
    return { ptr: out, len: rawLen, compression: Compression.Lz4 };
  }

  /**
   * Reads and checks the range-deletion block: entries of kind 3 in strictly
   * increasing internal-key order, each a non-empty range.
   */
  readRangeDeletions(handle: BlockHandle): RangeTombstone[] {
    const path = this.#file.path;
    const block = this.readBlock(handle, 'range-deletion block');
    let decoded: DecodedBlock | undefined;
    try {
      decoded = DecodedBlock.decode(block.ptr, block.len);
      const out: RangeTombstone[] = [];
      for (let i = 0; i < decoded.count; i++) {
        const key = decoded.key(i);
        if (key.length < TRAILER_SIZE) throw new CorruptionError(`entry ${i} has a key under 8 bytes`);
        const { seq, kind } = trailerAt(new DataView(key.buffer, key.byteOffset, key.length), 0, key.length);
        if (kind !== Kind.RangeDeletion || seq > Number.MAX_SAFE_INTEGER) throw new CorruptionError(`entry ${i} is not a range deletion`);
        const start = key.subarray(0, key.length - TRAILER_SIZE);
        const end = decodeEnd(decoded.value(i));
        if (isEmptyRange(start, end)) throw new CorruptionError(`entry ${i} is an empty range`);
        out.push({ start, end, seq });
      }
      return out;
    } catch (err) {
      throw err instanceof CorruptionError ? corruption(path, handle.offset, 'range-deletion block', err) : err;
    } finally {
      decoded?.release();
      freeCachedBlock(block);
    }
  }

  readPropertiesBlock(footer: Footer): TableProperties {
    const path = this.#file.path;
    const at = footer.properties.offset;
    const block = this.readBlock(footer.properties, 'properties block');
    let p: TableProperties;
    try {
      p = readProperties(u8(), view(), block.ptr, block.len);
    } catch (err) {
      throw corruption(path, at, 'properties block', err);
    } finally {
      freeCachedBlock(block);
    }
    if (p.formatVersion !== footer.version || p.indexSize !== footer.index.size || p.filterSize !== footer.filter.size) {
      throw corruption(path, at, 'properties disagree with the footer');
    }
    return p;
  }
}

/**
 * Decodes every index value into (offset, size) and checks that the data
 * blocks tile [0, dataEnd) in order, one per index entry, as the builder
 * writes them.
 */
function readIndexHandles(
  path: string,
  indexOffset: number,
  index: DecodedBlock,
  dataEnd: number,
  properties: TableProperties,
): { offsets: Uint32Array; sizes: Uint32Array } {
  const count = index.count;
  if (count !== properties.dataBlocks || dataEnd !== properties.dataBytes) {
    throw corruption(path, indexOffset, `index holds ${count} blocks ending at ${dataEnd}; properties say ${properties.dataBlocks} ending at ${properties.dataBytes}`);
  }
  const offsets = new Uint32Array(count);
  const sizes = new Uint32Array(count);
  const mem = u8();
  let expected = 0;
  for (let i = 0; i < count; i++) {
    const valuePtr = index.valuePtr(i);
    const handle = readHandle(mem, valuePtr, valuePtr + index.valueLen(i));
    if (handle === undefined || handle.offset !== expected || handle.offset + handle.size + BLOCK_TRAILER_SIZE > dataEnd) {
      throw corruption(path, indexOffset, `index entry ${i} has a bad block handle`);
    }
    offsets[i] = handle.offset;
    sizes[i] = handle.size;
    expected = handle.offset + handle.size + BLOCK_TRAILER_SIZE;
  }
  if (expected !== dataEnd) throw corruption(path, indexOffset, 'data blocks do not end where the meta blocks start');
  return { offsets, sizes };
}
