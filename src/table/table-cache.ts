// Open tables and their cached blocks. Table readers live in an LRU cache
// bounded by maxOpenFiles (each holds one open file); decoded blocks in an
// LRU cache bounded by bytes, shared by all tables. Both pin what a read or
// an iterator uses, so eviction never frees memory in use.
import { join } from 'node:path';
import { LruCache, type CacheHandle } from '../cache/lru.js';
import type { FileSystem } from '../fs/filesystem.js';
import type { InternalIterator } from '../iterator/internal.js';
import { LevelIterator } from '../iterator/level-iterator.js';
import type { FileMetadata } from '../version/edit.js';
import type { Version } from '../version/version.js';
import { tableFileName } from '../version/filenames.js';
import { blockCacheKey, freeCachedBlock, type CachedBlock } from './block-source.js';
import type { WarmBlocksMessage } from './warm-blocks.js';
import { alloc, free, view, write } from '../wasm/heap.js';
import { type CorruptionError, WasmOutOfMemoryError } from '../errors.js';
import { checkRestarts } from '../wasm/block.js';
import { BlockMap } from '../wasm/block-map.js';
import { TableReader, type TableEntry, type TableReaderStats } from './reader.js';
import type { StagedKey } from '../point-lookup.js';
import type { PointBatch } from '../point-batch.js';
import { GET_NEED_BLOCK, tableGetBatch } from '../wasm/table-get.js';
import { PB_OUT, PB_RC, PB_TABLE } from '../wasm/point-batch.js';
import { ratio, type BlockCacheStats, type FilterStats, type TableCacheStats } from '../stats.js';
import { Kind } from '../keys.js';
import type { RangeTombstone } from '../rangedel/tombstone.js';

export interface TableCacheCounters {
  filter: FilterStats;
  blockCache: BlockCacheStats;
  tableCache: TableCacheStats;
}

const EMPTY = new Uint8Array(0);

/** What a read finds for a key a range deletion removed. */
function rangeDeleted(seq: number): TableEntry {
  return { kind: Kind.Deletion, seq, value: EMPTY };
}

export class TableCache {
  readonly #fs: FileSystem;
  readonly #dir: string;
  readonly #readers: LruCache<TableReader>;
  readonly #blocks: LruCache<CachedBlock>;
  /** The blocks #blocks holds, in linear memory, for point reads inside WebAssembly (src/wasm/table-get.ts). */
  readonly #blockMap: BlockMap;
  /** Readers not yet disposed; their counters are summed with those of disposed ones. */
  readonly #openReaders = new Set<TableReader>();
  /** get()'s tables to consult, in its first n slots: one array for every get (Version.collectFilesForKey). */
  readonly #files: FileMetadata[] = [];
  /** getBatch()'s candidate tables: key i's are #batchFiles[#batchStarts[i] ..+ #batchCounts[i]]. */
  readonly #batchFiles: FileMetadata[] = [];
  readonly #batchStarts: number[] = [];
  readonly #batchCounts: number[] = [];
  /** getBatch()'s reader of each key in the current round, when the round reads it in WebAssembly. */
  readonly #batchReaders: Array<TableReader | undefined> = [];
  /** Blocks warm() put in the block cache. */
  #warmed = 0;
  /** Counters of disposed readers, so they outlive table-cache eviction. */
  readonly #retiredFilter: FilterStats = { checks: 0, useful: 0, falsePositives: 0 };

  constructor(fs: FileSystem, dir: string, maxOpenFiles: number, blockCacheBytes: number) {
    this.#fs = fs;
    this.#dir = dir;
    const map = new BlockMap();
    this.#blockMap = map;
    // The map mirrors the cache, so it never names a block the cache has let go (whose memory may be freed).
    this.#blocks = new LruCache<CachedBlock>(blockCacheBytes, freeCachedBlock, {
      cached: (key, block) => void map.put(key, block.ptr, block.len),
      uncached: (key, block) => map.remove(key, block.ptr),
      usedSince: (key) => map.takeReferenced(key),
    });
    this.#readers = new LruCache<TableReader>(maxOpenFiles, (reader) => this.#dispose(reader));
  }

  #dispose(reader: TableReader): void {
    this.#openReaders.delete(reader);
    addFilterCounters(this.#retiredFilter, reader.stats);
    reader.close();
  }

  /** Filter, block-cache and table-cache counters since this cache was made (not per call: walks the open readers). */
  stats(): TableCacheCounters {
    const filter = { ...this.#retiredFilter };
    for (const reader of this.#openReaders) addFilterCounters(filter, reader.stats);
    const blocks = this.#blocks.stats;
    const readers = this.#readers.stats;
    return {
      filter,
      blockCache: {
        hits: blocks.hits,
        misses: blocks.misses,
        hitRate: ratio(blocks.hits, blocks.hits + blocks.misses),
        bytes: this.#blocks.usage,
        capacity: this.#blocks.capacity,
        warmed: this.#warmed,
      },
      tableCache: { openTables: this.#readers.size, hits: readers.hits, misses: readers.misses },
    };
  }

  /** Bytes of decoded blocks the block cache holds, pinned ones included. */
  get blockCacheBytes(): number {
    return this.#blocks.usage;
  }

  /** A pinned reader for the table; release it with `#readers.release`. */
  #pin(meta: FileMetadata): CacheHandle<TableReader> {
    const hit = this.#readers.lookup(meta.number);
    if (hit) return hit;
    const reader = this.#openReader(meta);
    this.#openReaders.add(reader);
    return this.#readers.insert(meta.number, reader, 1);
  }

  /** A new reader of the table, verified as it opens (footer, index, filter, properties, range deletions). */
  #openReader(meta: FileMetadata): TableReader {
    const file = this.#fs.open(join(this.#dir, tableFileName(meta.number)), 'read');
    try {
      return TableReader.open(file, meta.number, meta.size, this.#blocks, { blockMap: this.#blockMap });
    } catch (err) {
      file.closeSync();
      throw err;
    }
  }

  /**
   * Re-reads the table from its file, never the caches: the blocks a reader
   * checks as it opens (a failure there throws), then every data block.
   */
  verify(meta: FileMetadata): { blocks: number; failures: CorruptionError[] } {
    const reader = this.#openReader(meta);
    try {
      return reader.verifyDataBlocks();
    } finally {
      reader.close();
    }
  }

  /**
   * The newest entry for the staged key visible at its sequence in the
   * version's tables (deletions included), searching in LSM order. `coveringSeq` is the
   * newest range deletion covering the key in the sources searched before
   * (-1: none); an entry older than the newest covering range deletion met
   * so far comes back as a deletion. `onLookedPast` is called with the first
   * table searched when the search went on to another (LevelDB's seek_file);
   * it must not read through this cache, whose one list of files the search
   * is still walking.
   */
  get(version: Version, key: StagedKey, coveringSeq: number, onLookedPast: (file: FileMetadata) => void): TableEntry | undefined {
    const { userKey, seq } = key;
    const files = this.#files;
    const n = version.collectFilesForKey(userKey, files, key.target);
    if (n === 0) return undefined;
    let covering = coveringSeq;
    for (let i = 0; i < n; i++) {
      if (i === 1) onLookedPast(files[0]!);
      const handle = this.#pin(files[i]!);
      try {
        const reader = handle.value;
        covering = Math.max(covering, reader.coveringTombstoneSeq(userKey, seq));
        const entry = reader.lookup(key);
        if (entry !== undefined) return entry.seq < covering ? rangeDeleted(covering) : entry;
      } finally {
        this.#readers.release(handle);
      }
    }
    return undefined;
  }

  /**
   * get() for every key of the batch not yet answered, at once: each key
   * reads its first candidate table, then the keys not answered their
   * second, and so on, each round one WebAssembly call over the tables
   * that have a block map (tableGetBatch), so the keys' memory misses
   * overlap. found[i] is set to key i's entry (the key marked answered);
   * covering[i] holds the newest range deletion covering key i met in the
   * sources searched before (-1: none) and is updated. onLookedPast as in
   * get(), for each key that went on past its first table.
   */
  getBatch(version: Version, batch: PointBatch, found: Array<TableEntry | undefined>, covering: number[], onLookedPast: (file: FileMetadata) => void): void {
    const rounds = this.#collectBatchFiles(version, batch);
    const pinned = new Map<number, CacheHandle<TableReader>>();
    try {
      for (let round = 0; round < rounds; round++) {
        if (this.#startRound(batch, round, pinned, found, covering, onLookedPast)) this.#finishRound(batch, found, covering);
      }
    } finally {
      for (const handle of pinned.values()) this.#readers.release(handle);
    }
  }

  /** Fills #batchFiles with each unanswered key's candidate tables (Version.collectFilesForKey); returns the most any key has. */
  #collectBatchFiles(version: Version, batch: PointBatch): number {
    let total = 0;
    let most = 0;
    for (let i = 0; i < batch.count; i++) {
      this.#batchStarts[i] = total;
      const n = batch.done(i) ? 0 : version.collectFilesForKey(batch.userKeys[i]!, this.#batchFiles, batch.target(i), total);
      this.#batchCounts[i] = n;
      total += n;
      if (n > most) most = n;
    }
    return most;
  }

  /**
   * Round `round` of getBatch: each unanswered key with a round-th table
   * either reads it at once (a reader without a block map) or has its
   * record name it for tableGetBatch. Returns whether any record does.
   */
  #startRound(batch: PointBatch, round: number, pinned: Map<number, CacheHandle<TableReader>>, found: Array<TableEntry | undefined>, covering: number[], onLookedPast: (file: FileMetadata) => void): boolean {
    let batched = false;
    for (let i = 0; i < batch.count; i++) {
      this.#batchReaders[i] = undefined;
      if (this.#batchCounts[i]! <= round || batch.done(i)) continue;
      if (round === 1) onLookedPast(this.#batchFiles[this.#batchStarts[i]!]!);
      const meta = this.#batchFiles[this.#batchStarts[i]! + round]!;
      let handle = pinned.get(meta.number);
      if (handle === undefined) pinned.set(meta.number, (handle = this.#pin(meta)));
      const reader = handle.value;
      covering[i] = Math.max(covering[i]!, reader.coveringTombstoneSeq(batch.userKeys[i]!, batch.seq));
      const table = reader.batchTable;
      if (table === 0) {
        this.#answer(batch, i, reader.lookup(batch.key(i)), found, covering);
        continue;
      }
      // view() again: opening a reader or reading a block may have grown linear memory, detaching an earlier view.
      view().setUint32(batch.record(i) + PB_TABLE, table, true);
      this.#batchReaders[i] = reader;
      batched = true;
    }
    return batched;
  }

  /**
   * Reads the round's records in one call, then settles them: those that
   * need no block read first, since a block read into the cache may evict
   * the blocks found values lie in.
   */
  #finishRound(batch: PointBatch, found: Array<TableEntry | undefined>, covering: number[]): void {
    tableGetBatch(batch.records, batch.count);
    if (this.#settleRound(batch, found, covering, false)) this.#settleRound(batch, found, covering, true);
  }

  /**
   * Settles the round's records that need a block read from its file
   * (`blockReads`), or the others; returns whether any record was left for
   * the other kind.
   */
  #settleRound(batch: PointBatch, found: Array<TableEntry | undefined>, covering: number[], blockReads: boolean): boolean {
    let left = false;
    for (let i = 0; i < batch.count; i++) {
      const reader = this.#batchReaders[i];
      if (reader === undefined) continue;
      const r = batch.record(i);
      // view() each time: a block read may have grown linear memory.
      const dv = view();
      const rc = dv.getInt32(r + PB_RC, true);
      if ((rc === GET_NEED_BLOCK) !== blockReads) {
        left = true;
        continue;
      }
      dv.setUint32(r + PB_TABLE, 0, true);
      this.#batchReaders[i] = undefined;
      this.#answer(batch, i, reader.settleBatched(rc, r + PB_OUT, batch.key(i)), found, covering);
    }
    return left;
  }

  /** Key i's entry from a table (undefined: not there), as get() takes it. */
  #answer(batch: PointBatch, i: number, entry: TableEntry | undefined, found: Array<TableEntry | undefined>, covering: number[]): void {
    if (entry === undefined) return;
    found[i] = entry.seq < covering[i]! ? rangeDeleted(covering[i]!) : entry;
    batch.markDone(i);
  }

  /** The range deletions of the version's tables whose files meet user keys [lo, hi] (undefined: unbounded). */
  rangeTombstones(version: Version, lo?: Uint8Array, hi?: Uint8Array): RangeTombstone[] {
    const out: RangeTombstone[] = [];
    for (let level = 0; level < version.levels.length; level++) {
      for (const meta of version.overlappingFiles(level, lo, hi)) {
        const handle = this.#pin(meta);
        try {
          out.push(...handle.value.rangeTombstones);
        } finally {
          this.#readers.release(handle);
        }
      }
    }
    return out;
  }

  /**
   * The iterators a read of the whole version merges: one per level-0 file,
   * one per non-empty deeper level (opening its files one at a time). The
   * caller keeps the version referenced until every one is closed.
   */
  iterators(version: Version): InternalIterator[] {
    const out: InternalIterator[] = version.levels[0]!.map((meta) => this.iterator(meta));
    for (let level = 1; level < version.levels.length; level++) {
      const files = version.levels[level]!;
      if (files.length > 0) out.push(new LevelIterator(files, version.levelIndex(level), (meta) => this.iterator(meta)));
    }
    return out;
  }

  /** An iterator over one table; it keeps the table open until closed. */
  iterator(meta: FileMetadata): InternalIterator {
    const handle = this.#pin(meta);
    return new PinnedIterator(handle.value.iterator(), () => this.#readers.release(handle));
  }

  /**
   * Opens a table just written (a flush's or a compaction's output) into the
   * cache, before a version names it: the open checks its footer, index,
   * filter and properties, so a table that cannot be read is never
   * installed, and the first reads of new data do not pay for the open.
   */
  open(meta: FileMetadata): void {
    this.#readers.release(this.#pin(meta));
  }

  /** Bytes of the table's data blocks the block cache holds; 0 when its reader is not open (this never opens it). */
  cachedDataBytes(number: number): number {
    return this.#readers.peek(number)?.cachedDataBytes() ?? 0;
  }

  get blockCacheCapacity(): number {
    return this.#blocks.capacity;
  }

  /**
   * Puts the decoded blocks a flush or a compaction kept (src/table/warm-blocks.ts)
   * in the block cache, each under its table's key: table `numbers[output]`.
   * Rows naming an output past `numbers` are ignored. A block whose restart
   * array does not check out is left out, to be read (and reported) from its file.
   * Caching is optional: linear memory that cannot grow ends the warming, never
   * the flush or compaction that called it.
   */
  warm(numbers: readonly number[], message: WarmBlocksMessage): void {
    const { entries } = message;
    const bytes = new Uint8Array(message.bytes);
    for (let i = 0; i < entries.length; i += 4) {
      const number = numbers[entries[i]!];
      if (number === undefined) continue;
      const start = entries[i + 2]!;
      const len = entries[i + 3]!;
      let ptr: number;
      try {
        ptr = alloc(len);
      } catch (err) {
        if (err instanceof WasmOutOfMemoryError) return;
        throw err;
      }
      write(ptr, bytes.subarray(start, start + len));
      try {
        checkRestarts(ptr, len);
      } catch {
        free(ptr);
        continue;
      }
      this.#blocks.release(this.#blocks.insert(blockCacheKey(number, entries[i + 1]!), { ptr, len }, len));
      this.#warmed++;
    }
  }

  /** Forgets a deleted table: closes its reader once unpinned and drops its blocks. */
  evict(number: number): void {
    this.#readers.erase(number);
  }

  close(): void {
    this.#readers.eraseIf(() => true);
    this.#blocks.eraseIf(() => true);
    this.#blockMap.destroy();
  }
}

function addFilterCounters(into: FilterStats, from: TableReaderStats): void {
  into.checks += from.filterChecks;
  into.useful += from.filterSkips;
  into.falsePositives += from.filterFalsePositives;
}

/** An iterator that releases a pin when closed. */
class PinnedIterator implements InternalIterator {
  readonly #inner: InternalIterator;
  #release: (() => void) | undefined;

  constructor(inner: InternalIterator, release: () => void) {
    this.#inner = inner;
    this.#release = release;
  }
  valid(): boolean {
    return this.#inner.valid();
  }
  seekToFirst(): void {
    this.#inner.seekToFirst();
  }
  seekToLast(): void {
    this.#inner.seekToLast();
  }
  seek(target: Uint8Array): void {
    this.#inner.seek(target);
  }
  seekForPrev(target: Uint8Array): void {
    this.#inner.seekForPrev(target);
  }
  next(): void {
    this.#inner.next();
  }
  prev(): void {
    this.#inner.prev();
  }
  key(): Uint8Array {
    return this.#inner.key();
  }
  get keyPtr(): number {
    return this.#inner.keyPtr;
  }
  get keyLen(): number {
    return this.#inner.keyLen;
  }
  value(): Uint8Array {
    return this.#inner.value();
  }
  get valuePtr(): number {
    return this.#inner.valuePtr;
  }
  get valueLen(): number {
    return this.#inner.valueLen;
  }
  close(): void {
    this.#inner.close();
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
