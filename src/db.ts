// The database: the public API and the orchestration of the write path
// (group commit -> WAL -> memtable -> flush to a level-0 table), the read
// path (memtable, frozen memtables newest first, then tables by level) and
// the lifecycle (open with recovery, close). docs/ARCHITECTURE.md walks
// through both paths and says what runs on which thread.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks'; // not the global, which Node defines as a getter: a call per use
import { ClosedError, InvalidArgumentError, ReadOnlyError } from './errors.js';
import { keyBytes, valueBytes } from './encoding.js';
import { Kind, compareBytes, userKeyOf } from './keys.js';
import { encodeEnd, isEmptyRange, successor } from './rangedel/tombstone.js';
import { TombstoneFragments, visibleAt } from './rangedel/fragments.js';
import { resolveOptions, type Options, type ResolvedOptions } from './options.js';
import type { FileHandle, FileLock, FileSystem } from './fs/filesystem.js';
import { GroupCommit, type WriteOp } from './write/group-commit.js';
import { Memtable, memtableIndexSlots, type MemtableEntry } from './memtable/memtable.js';
import { chunkSizeFor } from './wasm/skiplist.js';
import { LogWriter } from './wal/writer.js';
import { ManifestWriter } from './version/manifest.js';
import { manifestFileName, parseFileName, walFileName } from './version/filenames.js';
import { type VerifyProgress, type VerifyReport, verifyFiles } from './verify.js';
import type { TableWorkers } from './flush/table-workers.js';
import { writeTable } from './flush/write-table.js';
import type { WarmBlocksMessage } from './table/warm-blocks.js';
import type { VersionSet } from './version/set.js';
import type { FileMetadata } from './version/edit.js';
import type { TableCache } from './table/table-cache.js';
import { MergingIterator } from './iterator/merging.js';
import { deferred } from './deferred.js';
import { DbIterator } from './iterator/db-iterator.js';
import type { InternalIterator } from './iterator/internal.js';
import { ValueIterator, type IteratorOptions } from './iterator/value-iterator.js';
import { recover } from './recovery.js';
import { deleteObsoleteFiles } from './version/obsolete.js';
import { CompactionScheduler } from './compaction/scheduler.js';
import { SnapshotList, readSequence, type Snapshot } from './snapshot.js';
import { writeStats, type DatabaseStats, type LevelStats, type LiveFile } from './stats.js';
import { levelTargetBytes, scores } from './compaction/picker.js';
import { checkCheckpointTarget, writeCheckpoint } from './checkpoint.js';
import type { Clock } from './clock.js';
import { EXPIRY_SIZE, expiryOf, isExpired, readClock, readExpiry } from './expiry.js';
import { raw } from './wasm/loader.js';
import { ReadPacer } from './read-pacer.js';
import { PointLookup } from './point-lookup.js';
import { PointBatch } from './point-batch.js';

/** Level-0 file counts at which writes slow down, then stop until compaction catches up (LevelDB's). */
const L0_SLOWDOWN = 8;
const L0_STOP = 12;
/** Writes within this many milliseconds count as writes arriving: more than one background compaction may run. */
const WRITING_WINDOW_MS = 250;

export interface WriteOptions {
  /** Resolve only after the WAL is fdatasync'ed (survives power loss). Default false: handed to the OS (survives a process crash). */
  sync?: boolean;
}

/** A put's options: at most one of ttl and expiresAt. */
export interface PutOptions extends WriteOptions {
  /** The value lapses this many milliseconds from now (a positive integer). */
  ttl?: number;
  /** The value lapses at this time, in milliseconds since the epoch (an integer). */
  expiresAt?: number;
}

/** A value with its expiry, as db.getEntry() returns it. */
export interface ValueEntry {
  value: Uint8Array;
  /** Milliseconds since the epoch; undefined for a value written without ttl or expiresAt. */
  expiresAt: number | undefined;
}

export type BatchOp =
  | { type: 'put'; key: Uint8Array | string; value: Uint8Array | string; ttl?: number; expiresAt?: number }
  | { type: 'del'; key: Uint8Array | string }
  /** Deletes every key in [start, end); see Database.deleteRange. */
  | { type: 'deleteRange'; start: Uint8Array | string; end: Uint8Array | string };

/** The range clear() deletes: the iterator's bound options; an absent side is unbounded. */
export interface ClearRange {
  gt?: Uint8Array | string;
  gte?: Uint8Array | string;
  lt?: Uint8Array | string;
  lte?: Uint8Array | string;
}

export type { IteratorOptions };

/** Where the engine's memory is, in bytes (db.memoryUsage()). */
export interface MemoryUsage {
  /** Linear memory of this thread's WebAssembly instance (memtables, block cache, open tables live here). */
  wasmMain: number;
  /** Linear memory of the table workers' instances (flushes and compactions), as of their last jobs. */
  wasmTableWorkers: number;
  /** The active and frozen memtables. */
  memtables: number;
  /** Decoded blocks in the block cache. */
  blockCache: number;
  /** Compaction inputs and outputs held on this thread or in transit to and from the worker. */
  compactionInFlight: number;
}

export interface ReadOptions {
  /** Read the database as of this snapshot (from db.snapshot()). */
  snapshot?: Snapshot;
}

function syncOption(options: WriteOptions | undefined): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('write options must be an object');
  if (options.sync !== undefined && typeof options.sync !== 'boolean') throw new InvalidArgumentError('option sync must be a boolean');
  return options.sync === true;
}

/**
 * The write op deleting [start, end) (end undefined: unbounded), or none
 * when the range is empty. start > end is an InvalidArgumentError.
 */
function rangeOp(start: Uint8Array, end: Uint8Array | undefined): WriteOp[] {
  if (end !== undefined && compareBytes(start, end) > 0) throw new InvalidArgumentError('deleteRange: start sorts after end');
  if (isEmptyRange(start, end)) return [];
  return [{ kind: Kind.RangeDeletion, key: start, value: encodeEnd(end), expiresAt: undefined }];
}

/** [start, end) of a clear() range: gt k starts at k + 0x00, lte k ends at k + 0x00; the tighter bound wins when both are given. */
function clearBounds(range: ClearRange): { start: Uint8Array; end: Uint8Array | undefined } {
  if (typeof range !== 'object' || range === null) throw new InvalidArgumentError('clear takes an object of bounds');
  const lows = [range.gte === undefined ? undefined : keyBytes(range.gte), range.gt === undefined ? undefined : successor(keyBytes(range.gt))];
  const highs = [range.lt === undefined ? undefined : keyBytes(range.lt), range.lte === undefined ? undefined : successor(keyBytes(range.lte))];
  let start: Uint8Array = new Uint8Array(0);
  for (const k of lows) if (k !== undefined && compareBytes(k, start) > 0) start = k;
  let end: Uint8Array | undefined;
  for (const k of highs) if (k !== undefined && (end === undefined || compareBytes(k, end) < 0)) end = k;
  return { start, end };
}

/** A put, with expiry when `ttl` or `expiresAt` asks for one. */
function putOp(key: unknown, value: unknown, ttl: unknown, expiresAt: unknown, clock: Clock): WriteOp {
  const expiry = expiryOf(ttl, expiresAt, clock);
  // Every WriteOp literal has the same four fields, so commits see one object shape.
  return { kind: expiry === undefined ? Kind.Value : Kind.ValueWithExpiry, key: keyBytes(key), value: valueBytes(value), expiresAt: expiry };
}

/** The write operations of a batch, in order (an empty range deletion has none). */
function toOps(ops: BatchOp[], clock: Clock): WriteOp[] {
  if (!Array.isArray(ops)) throw new InvalidArgumentError('batch takes an array of operations');
  const out: WriteOp[] = [];
  for (const op of ops) {
    if (typeof op !== 'object' || op === null) throw new InvalidArgumentError('a batch operation must be an object');
    if (op.type === 'put') out.push(putOp(op.key, op.value, op.ttl, op.expiresAt, clock));
    else if (op.type === 'del') out.push(deleteOp(op.key));
    else if (op.type === 'deleteRange') out.push(...rangeOp(keyBytes(op.start), keyBytes(op.end)));
    else throw new InvalidArgumentError(`unknown batch operation type ${String((op as { type?: unknown }).type)}`);
  }
  return out;
}

function deleteOp(key: unknown): WriteOp {
  return { kind: Kind.Deletion, key: keyBytes(key), value: undefined, expiresAt: undefined };
}

/** Internal state handed from open() (recovery) to the Database. */
export interface DatabaseParts {
  dir: string;
  options: ResolvedOptions;
  lock: FileLock;
  versions: VersionSet;
  manifest: ManifestWriter;
  manifestNumber: number;
  workers: TableWorkers;
  tables: TableCache;
  wal: { number: number; file: FileHandle; writer: LogWriter };
  lastSequence: number;
}

export class Database {
  readonly location: string;
  readonly #options: ResolvedOptions;
  readonly #fs: FileSystem;
  readonly #lock: FileLock;
  readonly #versions: VersionSet;
  readonly #manifest: ManifestWriter;
  readonly #manifestNumber: number;
  readonly #workers: TableWorkers;
  readonly #tables: TableCache;
  /** #get's key, staged once for every memtable and table it consults. */
  readonly #lookup = new PointLookup();
  /** #getMany's keys, staged once for every memtable and table it consults. */
  readonly #batch = new PointBatch();
  readonly #commit: GroupCommit;
  readonly #iterators = new Set<ValueIterator>();
  #wal: { number: number; file: FileHandle; writer: LogWriter };
  #mem: Memtable;
  /** Frozen memtables waiting for their flush, oldest first. */
  #imm: Memtable[] = [];
  #lastSequence: number;
  #flushing: Promise<void> | undefined;
  /** Settles when the current flush ends; replaced by a fresh one each time. */
  #flushEnded = deferred();
  /** Set by a failed WAL/MANIFEST write or sync, or a failed flush: writes are refused from then on. */
  #writeError: Error | undefined;
  #closed = false;
  /** Times writers were slowed or stopped (counted per group commit), and the milliseconds they waited. */
  readonly #stalls = { slowdowns: 0, stops: 0, stallMs: 0 };
  readonly #walStats = { syncs: 0, bytes: 0, records: 0 };
  /** Flushes that wrote a table, and the bytes of those tables. */
  readonly #flushStats = { flushes: 0, bytesWritten: 0 };
  /** Set by a checkpoint: the next turn of the commit queue freezes the memtable. */
  #freezeRequested = false;
  #closing: Promise<void> | undefined;
  /** Tables being written that no version names yet: never deleted as obsolete. */
  readonly #pendingTables = new Set<number>();
  readonly #pacer = new ReadPacer();
  readonly #compactions: CompactionScheduler;
  readonly #errorListeners = new Set<(err: Error) => void>();
  /** When a batch last reached the memtable (performance.now()). */
  #lastWriteAt = -Infinity;
  /** Charges a table a get looked past (made once: every get may pass it). */
  readonly #chargeRead = (file: FileMetadata): void => this.#compactions.chargeRead(file);
  readonly #snapshots = new SnapshotList();

  constructor(parts: DatabaseParts) {
    this.location = parts.dir;
    this.#options = parts.options;
    this.#fs = parts.options.fs;
    this.#lock = parts.lock;
    this.#versions = parts.versions;
    this.#manifest = parts.manifest;
    this.#manifestNumber = parts.manifestNumber;
    this.#workers = parts.workers;
    this.#tables = parts.tables;
    this.#wal = parts.wal;
    this.#lastSequence = parts.lastSequence;
    this.#mem = this.#newMemtable(parts.wal.number);
    this.#commit = new GroupCommit({
      lastSequence: () => this.#lastSequence,
      appendToLog: (ptr, len) => this.#appendToLog(ptr, len),
      syncLog: () => this.#syncLog(),
      apply: (ptr, len, last) => this.#apply(ptr, len, last),
      makeRoom: () => this.#makeRoom(),
      hasRoom: () => this.#hasRoom(),
      checkWritable: () => this.#checkWritable(),
    }, Math.min(1024 * 1024, this.#options.memtableSize / 4));
    this.#compactions = new CompactionScheduler({
      fs: this.#fs,
      dir: this.location,
      options: this.#options,
      versions: this.#versions,
      tables: this.#tables,
      manifestNumber: this.#manifestNumber,
      pendingTables: this.#pendingTables,
      workers: this.#workers,
      // Open iterators read the tables they pinned, which stay readable after
      // a compaction deletes them; live snapshots need their versions kept.
      smallestSnapshot: () => this.#snapshots.oldest(this.#lastSequence),
      onError: (err) => this.#poison(err),
      writing: () => performance.now() - this.#lastWriteAt < WRITING_WINDOW_MS,
    });
    void this.#compactions.maybeSchedule().catch(() => {});
  }

  // ---- Writes ----

  /** Writes `value` under `key`; with `ttl` or `expiresAt` it lapses then, invisible to every read from that moment. */
  put(key: Uint8Array | string, value: Uint8Array | string, options?: PutOptions): Promise<void> {
    return this.#write(() => [putOp(key, value, options?.ttl, options?.expiresAt, this.#options.clock)], options);
  }

  del(key: Uint8Array | string, options?: WriteOptions): Promise<void> {
    return this.#write(() => [deleteOp(key)], options);
  }

  /**
   * Deletes every key in [start, end) with one range tombstone (no scan).
   * start equal to end deletes nothing and writes nothing; start after end
   * is an InvalidArgumentError.
   */
  deleteRange(start: Uint8Array | string, end: Uint8Array | string, options?: WriteOptions): Promise<void> {
    return this.#write(() => rangeOp(keyBytes(start), keyBytes(end)), options);
  }

  /**
   * Deletes every key within the bounds (all keys with none) with one range
   * tombstone: no lower bound starts at the empty key, no upper bound is a
   * tombstone without end. An empty range writes nothing.
   */
  clear(range: ClearRange = {}, options?: WriteOptions): Promise<void> {
    return this.#write(() => {
      const { start, end } = clearBounds(range);
      return isEmptyRange(start, end) ? [] : rangeOp(start, end);
    }, options);
  }

  /** Applies every operation atomically: after a crash all or none of them are there. */
  batch(ops: BatchOp[], options?: WriteOptions): Promise<void> {
    return this.#write(() => toOps(ops, this.#options.clock), options);
  }

  /**
   * Applies every operation atomically on this call stack, when that needs
   * no wait: true once they are in the WAL (handed to the OS, not synced)
   * and visible; false, having written nothing, when the write would wait
   * (a commit in flight, a full memtable, a stall), where batch() is the
   * way. Throws rather than rejects. For a caller that gathers the writes
   * of one turn of its event loop; it never lets the loop turn itself.
   */
  batchNow(ops: BatchOp[]): boolean {
    this.#checkOpen();
    return this.#commit.writeNow(toOps(ops, this.#options.clock));
  }

  #write(makeOps: () => WriteOp[], options: WriteOptions | undefined): Promise<void> {
    try {
      this.#checkOpen();
      const sync = syncOption(options);
      return this.#commit.write(makeOps(), sync);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#writeError) {
      throw new ReadOnlyError(`writes are refused after an earlier failure: ${this.#writeError.message}`, { cause: this.#writeError });
    }
  }

  #poison(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.#writeError === undefined) {
      this.#writeError = error;
      // Each listener on its own microtask: one that throws is the application's error, not the engine's.
      for (const listener of this.#errorListeners) queueMicrotask(() => listener(error));
    }
    return error;
  }

  /**
   * Calls `listener` once with the failure that stops writes (a WAL or
   * MANIFEST write or sync, a flush or a compaction that failed): background
   * failures have no caller to reject, so this, with stats().background.error,
   * is how they are seen. Without listeners nothing is thrown.
   */
  on(event: 'error', listener: (err: Error) => void): this {
    if (event !== 'error') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    this.#errorListeners.add(listener);
    return this;
  }

  off(event: 'error', listener: (err: Error) => void): this {
    if (event !== 'error') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    this.#errorListeners.delete(listener);
    return this;
  }

  #appendToLog(ptr: number, len: number): void {
    try {
      const before = this.#wal.writer.offset;
      this.#wal.writer.addRecord(ptr, len);
      this.#wal.writer.flushSync();
      this.#walStats.bytes += this.#wal.writer.offset - before;
      this.#walStats.records++;
    } catch (err) {
      throw this.#poison(err);
    }
  }

  async #syncLog(): Promise<void> {
    try {
      this.#walStats.syncs++;
      await this.#wal.writer.sync();
    } catch (err) {
      throw this.#poison(err);
    }
  }

  #apply(ptr: number, len: number, lastSequence: number): void {
    try {
      this.#mem.insertBatchAt(ptr, len);
    } catch (err) {
      // The WAL holds a batch the memtable does not: reads and the WAL would disagree.
      throw this.#poison(err);
    }
    this.#lastSequence = lastSequence;
    this.#lastWriteAt = performance.now();
  }

  /**
   * Before a commit: when the memtable is full, freeze it, start a new WAL
   * and schedule its flush; when too many frozen memtables wait, stall
   * (the writers wait; they do not fail) until a flush finishes.
   */
  #makeRoom(): Promise<void> | undefined {
    // After a failure no WAL switch or flush is retried: writes fail with the cause at once.
    this.#checkWritable();
    if (this.#freezeRequested) return this.#freezeAtTurn();
    if (this.#hasRoom()) return undefined;
    return this.#rotateAndWait();
  }

  /** Whether a commit may go ahead at once: no freeze asked for, room in the memtable, no flush backlog, no level-0 slowdown. */
  #hasRoom(): boolean {
    if (this.#freezeRequested || this.#memtableFull() || this.#imm.length > this.#options.maxImmutableMemtables) return false;
    return this.#versions.current.levelFileCount(0) < L0_SLOWDOWN;
  }

  #memtableFull(): boolean {
    return this.#mem.count > 0 && this.#mem.entryBytes >= this.#options.memtableSize;
  }

  /** Arena chunks of 1/16 of the memtable size keep its byte count from overshooting by much. */
  #newMemtable(logNumber: number): Memtable {
    return new Memtable(logNumber, chunkSizeFor(this.#options.memtableSize), memtableIndexSlots(this.#options.memtableSize));
  }

  async #rotateAndWait(): Promise<void> {
    // Level 0 growing faster than compaction drains it: first slow writers
    // down, then make them wait (LevelDB's 8 and 12 files).
    if (this.#versions.current.levelFileCount(0) >= L0_SLOWDOWN) {
      this.#stalls.slowdowns++;
      await this.#stalled(new Promise((resolve) => setTimeout(resolve, 1)));
    }
    while (this.#versions.current.levelFileCount(0) >= L0_STOP) {
      this.#checkWritable();
      this.#stalls.stops++;
      await this.#stalled(this.#compactions.nextCompactionEnd());
    }
    if (this.#memtableFull()) await this.#rotate();
    while (this.#imm.length > this.#options.maxImmutableMemtables) {
      this.#checkWritable();
      this.#stalls.stops++;
      await this.#stalled(this.#nextFlushEnd());
    }
  }

  /** Waits for `wait`, adding the time to the stall total. */
  async #stalled(wait: Promise<unknown>): Promise<void> {
    const start = performance.now();
    try {
      await wait;
    } finally {
      this.#stalls.stallMs += performance.now() - start;
    }
  }

  /** Freezes the memtable at a turn of the commit queue, where no commit is half done. */
  async #freezeAtTurn(): Promise<void> {
    this.#freezeRequested = false;
    if (this.#mem.count > 0) await this.#rotate();
  }

  /**
   * Flushes every write acknowledged so far: an empty write takes a turn of
   * the commit queue, where makeRoom freezes the memtable (so the WAL switch
   * never races a commit, however busy the writers), then the flushes of
   * the memtables frozen by then run. Later ones are not waited for: a writer
   * that never stops would keep the flush queue from ever draining.
   */
  async #flushMemtables(): Promise<void> {
    this.#freezeRequested = true;
    await this.#commit.write([], false);
    // Flushes go oldest first: once the newest memtable frozen by now is gone, all of them are.
    const newest = this.#imm.at(-1);
    while (newest !== undefined && this.#imm.includes(newest)) {
      this.#checkWritable();
      await this.#nextFlushEnd();
    }
  }

  /** Freezes the memtable and switches to a new WAL. The old WAL is synced first so only the newest WAL can have a torn tail. */
  async #rotate(): Promise<void> {
    try {
      this.#walStats.syncs++;
      await this.#wal.writer.sync();
      this.#wal.writer.close();
      const number = this.#versions.newFileNumber();
      const file = this.#fs.open(join(this.location, walFileName(number)), 'write');
      await this.#fs.syncDir(this.location);
      this.#wal = { number, file, writer: new LogWriter(file) };
    } catch (err) {
      throw this.#poison(err);
    }
    const frozen = this.#mem;
    this.#imm.push(frozen);
    this.#mem = this.#newMemtable(this.#wal.number);
    // Exporting now overlaps the flush of the memtable before it.
    void frozen.exportRunOnce();
    void this.#scheduleFlush().catch(() => {});
  }

  // ---- Flush ----

  /** Resolves when the flush in progress (or the next) ends: a stalled writer re-checks after each flush, not after all. */
  #nextFlushEnd(): Promise<void> {
    const all = this.#scheduleFlush();
    return Promise.race([this.#flushEnded.promise, all]);
  }

  /** Runs flushes until no frozen memtable waits; concurrent callers share the run. */
  #scheduleFlush(): Promise<void> {
    this.#flushing ??= this.#flushAll().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushAll(): Promise<void> {
    while (this.#imm.length > 0 && !this.#writeError) {
      try {
        await this.#flushOldest();
      } catch (err) {
        this.#poison(err);
        throw err;
      } finally {
        const ended = this.#flushEnded;
        this.#flushEnded = deferred();
        ended.resolve();
      }
    }
  }

  async #flushOldest(): Promise<void> {
    const mem = this.#imm[0]!;
    const newFiles = [];
    let warm: WarmBlocksMessage | undefined;
    const number = this.#versions.newFileNumber();
    this.#pendingTables.add(number);
    try {
      if (mem.count > 0) {
        const run = await mem.exportRunOnce();
        const warmBudget = this.#options.prepopulateBlockCache ? Math.floor(this.#tables.blockCacheCapacity / 2) : 0;
        const built = await this.#workers.run((worker) => writeTable(this.#fs, this.location, number, run, mem.rangeTombstones, worker, this.#options, warmBudget));
        this.#tables.open(built.meta);
        newFiles.push({ level: 0, meta: built.meta });
        warm = built.warm;
      }
      // The WALs of this memtable and older are now in the table.
      const logNumber = this.#imm[1]?.logNumber ?? this.#mem.logNumber;
      this.#versions.lastSequence = this.#lastSequence;
      await this.#versions.logAndApply({ logNumber, newFiles, deletedFiles: [] });
      if (warm !== undefined) this.#tables.warm([number], warm);
      for (const { meta } of newFiles) {
        this.#flushStats.flushes++;
        this.#flushStats.bytesWritten += meta.size;
      }
    } catch (err) {
      // A table no version names must not stay open in the cache.
      this.#tables.evict(number);
      throw err;
    } finally {
      this.#pendingTables.delete(number);
    }
    this.#imm.shift();
    mem.unref();
    await deleteObsoleteFiles(this.#fs, this.location, {
      logNumber: this.#versions.logNumber,
      manifestNumber: this.#manifestNumber,
      liveTables: this.#versions.liveFiles(),
      pendingTables: this.#pendingTables,
    });
    void this.#compactions.maybeSchedule().catch(() => {});
  }

  /**
   * Compacts the key range [start, end] (all keys when both are absent):
   * flushes the memtable, then merges every level holding the range down the
   * tree, dropping overwritten versions and deletions nothing needs.
   */
  async compactRange(start?: Uint8Array | string, end?: Uint8Array | string): Promise<void> {
    this.#checkWritable();
    const lo = start === undefined ? undefined : keyBytes(start);
    const hi = end === undefined ? undefined : keyBytes(end);
    await this.#flushMemtables();
    await this.#compactions.compactRange(lo, hi);
  }

  /** Resolves once no compaction runs and the tree needs none (flushes in flight are waited for first). */
  /**
   * Checks every checksum of the live files (src/verify.ts): each table's
   * blocks, the live WALs and the MANIFEST, read from the files, never the
   * caches. Damage is reported in the findings, not thrown.
   */
  async verify(options: { onProgress?: VerifyProgress } = {}): Promise<VerifyReport> {
    this.#checkOpen();
    const version = this.#versions.refCurrent();
    try {
      const wals = this.#fs.readdir(this.location).filter((name) => {
        const parsed = parseFileName(name);
        return parsed?.kind === 'wal' && parsed.number >= this.#versions.logNumber;
      });
      return await verifyFiles(this.#fs, this.location, this.#tables, version.levels.flat(), [...wals.sort(), manifestFileName(this.#manifestNumber)], options.onProgress);
    } finally {
      version.unref();
    }
  }

  async waitForCompactions(): Promise<void> {
    this.#checkOpen();
    await this.#flushing;
    await this.#compactions.maybeSchedule();
    await this.#compactions.idle();
  }

  /**
   * Writes a copy of the database to `dir` (which must not exist; its parent
   * must) that opens as a database. It holds every write acknowledged before
   * the call; writes made during the call may or may not be in it, as a
   * prefix of the write order. Tables are hard-linked where the filesystem
   * allows, copied otherwise.
   */
  async checkpoint(dir: string): Promise<void> {
    this.#checkWritable();
    checkCheckpointTarget(this.#fs, dir);
    await this.#flushMemtables();
    // A flush that failed earlier leaves frozen memtables unflushed without rejecting here.
    this.#checkWritable();
    await writeCheckpoint(this.#fs, this.location, dir, this.#versions);
  }

  // ---- Stats ----

  /** The live tables of the current version, level by level, each level in key order (what `varve inspect` draws). */
  liveFiles(): LiveFile[] {
    this.#checkOpen();
    return this.#versions.current.levels.flatMap((files, level) =>
      files.map((f) => ({
        level,
        number: f.number,
        size: f.size,
        smallestKey: userKeyOf(f.smallest).slice(),
        largestKey: userKeyOf(f.largest).slice(),
        smallestSeq: f.smallestSeq,
        largestSeq: f.largestSeq,
      })),
    );
  }

  /** Counters since open and gauges of now, as a plain JSON-serializable object (README, "Statistics"). */
  stats(): DatabaseStats {
    this.#checkOpen();
    const compaction = this.#compactions.stats;
    const tables = this.#tables.stats();
    let immutableBytes = 0;
    for (const m of this.#imm) immutableBytes += m.approximateBytes;
    return {
      levels: this.#levelStats(),
      write: writeStats({
        userBytesWritten: this.#commit.userBytesWritten,
        walBytesWritten: this.#walStats.bytes,
        flushBytesWritten: this.#flushStats.bytesWritten,
        compactionBytesRead: compaction.bytesRead,
        compactionBytesWritten: compaction.bytesWritten,
        flushes: this.#flushStats.flushes,
        compactions: compaction.compactions,
        trivialMoves: compaction.trivialMoves,
      }),
      filter: tables.filter,
      blockCache: tables.blockCache,
      tableCache: tables.tableCache,
      stalls: { ...this.#stalls },
      memtable: { activeBytes: this.#mem.approximateBytes, immutableCount: this.#imm.length, immutableBytes },
      wal: { ...this.#walStats },
      sequence: this.#lastSequence,
      snapshots: this.#snapshots.held,
      background: {
        flushing: this.#flushing !== undefined,
        compactions: compaction.running,
        peakCompactions: compaction.peakRunning,
        tableWorkers: this.#workers.threads,
        error: this.#writeError ? this.#writeError.message : null,
      },
    };
  }

  #levelStats(): LevelStats[] {
    const version = this.#versions.current;
    const options = this.#compactions.options;
    const levelScores = scores(version, options);
    return version.summary().map(({ level, files, bytes }) => ({
      level,
      files,
      bytes,
      targetBytes: level === 0 ? null : levelTargetBytes(options, level),
      score: levelScores[level] ?? null,
    }));
  }

  // ---- Reads ----

  /** The value of `key`, or undefined. Synchronous: memtables and cached blocks are answered on this thread. */
  getSync(key: Uint8Array | string, options?: ReadOptions): Uint8Array | undefined {
    return this.getEntrySync(key, options)?.value;
  }

  /** The value of `key` and its expiry, or undefined for a missing or expired key. Synchronous, as getSync. */
  getEntrySync(key: Uint8Array | string, options?: ReadOptions): ValueEntry | undefined {
    this.#checkOpen();
    return this.#get(keyBytes(key), readSequence(options, this.#lastSequence));
  }

  /** getEntrySync of each key, at one snapshot; many keys are read faster together than one by one. */
  getEntriesSync(keys: ReadonlyArray<Uint8Array | string>, options?: ReadOptions): Array<ValueEntry | undefined> {
    this.#checkOpen();
    if (!Array.isArray(keys)) throw new InvalidArgumentError('getEntriesSync takes an array of keys');
    return this.#getMany(keys.map(keyBytes), readSequence(options, this.#lastSequence), readClock(this.#options.clock));
  }

  getEntry(key: Uint8Array | string, options?: ReadOptions): Promise<ValueEntry | undefined> {
    try {
      return this.#pacer.settle(this.getEntrySync(key, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The value of `key`, or undefined; answered as getSync, settled after a turn of the event loop every few hundred reads (src/read-pacer.ts). */
  get(key: Uint8Array | string, options?: ReadOptions): Promise<Uint8Array | undefined> {
    try {
      return this.#pacer.settle(this.getSync(key, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  getMany(keys: Array<Uint8Array | string>, options?: ReadOptions): Promise<Array<Uint8Array | undefined>> {
    try {
      this.#checkOpen();
      if (!Array.isArray(keys)) throw new InvalidArgumentError('getMany takes an array of keys');
      const seq = readSequence(options, this.#lastSequence);
      const now = readClock(this.#options.clock);
      const values = this.#getMany(keys.map(keyBytes), seq, now).map((entry) => entry?.value);
      return this.#pacer.settle(values, values.length);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async has(key: Uint8Array | string, options?: ReadOptions): Promise<boolean> {
    return (await this.get(key, options)) !== undefined;
  }

  /**
   * The database as it is now, for reads that must not see later writes:
   * `get(key, { snapshot })`, `iterator({ snapshot })`. It survives flushes
   * and compactions; release() it when done so compaction can drop what
   * only it needed.
   */
  snapshot(): Snapshot {
    this.#checkOpen();
    return this.#snapshots.take(this.#lastSequence);
  }

  /**
   * Sources newest first; `covering` is the newest range deletion (<= seq)
   * covering the key in the sources met so far, the current one included:
   * the first entry found is the answer unless it is older than that. An
   * expired value (wall-clock `now`, read from the clock when not given and
   * a value with expiry is found) reads as a deletion.
   */
  #get(userKey: Uint8Array, seq: number, now?: number): ValueEntry | undefined {
    const key = this.#lookup.stage(userKey, seq);
    let covering = this.#mem.coveringTombstoneSeq(userKey, seq);
    let entry = this.#mem.getStaged(key);
    for (let i = this.#imm.length - 1; entry === undefined && i >= 0; i--) {
      const imm = this.#imm[i]!;
      covering = Math.max(covering, imm.coveringTombstoneSeq(userKey, seq));
      entry = imm.getStaged(key);
    }
    if (entry === undefined) entry = this.#tables.get(this.#versions.current, key, covering, this.#chargeRead);
    else if (entry.seq < covering) return undefined;
    return this.#valueEntry(entry, now);
  }

  /**
   * #get for many keys at one snapshot, each source read once for all the
   * keys it is asked about (src/point-batch.ts): the answers are #get's.
   */
  #getMany(userKeys: readonly Uint8Array[], seq: number, now: number): Array<ValueEntry | undefined> {
    const batch = this.#batch.stage(userKeys, seq);
    const count = userKeys.length;
    const found = new Array<MemtableEntry | undefined>(count).fill(undefined);
    const covering = new Array<number>(count).fill(-1);
    for (let m = this.#imm.length; m >= 0; m--) {
      const mem = m === this.#imm.length ? this.#mem : this.#imm[m]!;
      if (mem.rangeTombstones.length > 0) {
        for (let i = 0; i < count; i++) if (!batch.done(i)) covering[i] = Math.max(covering[i]!, mem.coveringTombstoneSeq(userKeys[i]!, seq));
      }
      mem.getBatch(batch, found);
    }
    // A memtable's entry older than a range deletion over it reads as deleted; the tables settle their own.
    for (let i = 0; i < count; i++) if (found[i] !== undefined && found[i]!.seq < covering[i]!) found[i] = undefined;
    this.#tables.getBatch(this.#versions.current, batch, found, covering, this.#chargeRead);
    return found.map((entry) => this.#valueEntry(entry, now));
  }

  /** A found entry (undefined: none) as a read answers it: a deletion or an expired value (at `now`, read when needed) is none. */
  #valueEntry(entry: MemtableEntry | undefined, now: number | undefined): ValueEntry | undefined {
    if (entry === undefined || entry.kind === Kind.Deletion) return undefined;
    if (entry.kind !== Kind.ValueWithExpiry) return { value: entry.value, expiresAt: undefined };
    const expiresAt = readExpiry(entry.value);
    if (isExpired(expiresAt, now ?? readClock(this.#options.clock))) return undefined;
    return { value: entry.value.subarray(EXPIRY_SIZE), expiresAt };
  }

  /**
   * Iterates [key, value] pairs in key order (or reverse), as the database
   * was when the iterator was created; values with expiry are judged by the
   * clock at that moment too.
   */
  iterator(options: IteratorOptions & ReadOptions = {}): ValueIterator {
    this.#checkOpen();
    const snapshot = readSequence(options, this.#lastSequence);
    const now = readClock(this.#options.clock);
    const bounds = ValueIterator.bounds(options);
    const tombstones = this.#rangeTombstones(snapshot, bounds.gt ?? bounds.gte, bounds.lt ?? bounds.lte);
    const sources: InternalIterator[] = [this.#mem.iterator(), ...this.#imm.map((m) => m.iterator())];
    // Deeper levels open their files as the iterator reaches them: the version keeps them on disk until it closes.
    const version = this.#versions.refCurrent();
    sources.push(...this.#tables.iterators(version));
    const inner = new DbIterator(new MergingIterator(sources), { snapshot, now, ...bounds, tombstones });
    const onClose = (): void => {
      this.#iterators.delete(it);
      version.unref();
    };
    const it = new ValueIterator(inner, this.#pacer, onClose, (target) => this.#compactions.chargeSeek(version, target));
    this.#iterators.add(it);
    return it;
  }

  /** The range deletions visible at `snapshot` from every source meeting user keys [lo, hi], fragmented; undefined when none. */
  #rangeTombstones(snapshot: number, lo?: Uint8Array, hi?: Uint8Array): TombstoneFragments | undefined {
    const all = [this.#mem, ...this.#imm].flatMap((m) => m.rangeTombstones);
    all.push(...this.#tables.rangeTombstones(this.#versions.current, lo, hi));
    return TombstoneFragments.build(all, visibleAt(snapshot));
  }

  /** Where the engine's memory is now; WebAssembly memories only grow, so theirs are high-water marks. */
  memoryUsage(): MemoryUsage {
    this.#checkOpen();
    return {
      wasmMain: raw.memory.buffer.byteLength,
      wasmTableWorkers: this.#workers.wasmMemoryBytes,
      memtables: [this.#mem, ...this.#imm].reduce((sum, m) => sum + m.approximateBytes, 0),
      blockCache: this.#tables.blockCacheBytes,
      compactionInFlight: this.#workers.sharedBytes,
    };
  }

  // ---- Lifecycle ----

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  /** Finishes queued writes, closes iterators and files, and releases the LOCK. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#commit.idle();
    this.#closed = true;
    this.#commit.release();
    for (const it of [...this.#iterators]) await it.close();
    try {
      await this.#flushing;
    } catch {
      // Already reported to the writers it stalled; the WAL still holds the data.
    }
    await this.#compactions.close();
    const errors: unknown[] = [];
    const attempt = async (fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    if (!this.#writeError) await attempt(() => this.#wal.writer.sync());
    await attempt(() => this.#wal.writer.close());
    await attempt(() => this.#manifest.close());
    await attempt(() => this.#tables.close());
    this.#lookup.release();
    this.#batch.release();
    await attempt(() => this.#workers.terminate());
    this.#mem.unref();
    for (const m of this.#imm) m.unref();
    this.#imm = [];
    await attempt(() => this.#lock.release());
    if (errors.length > 0) throw errors[0];
  }
}

/** Opens (creating if allowed) the database in `dir`, recovering it from its files. */
export async function open(dir: string, options?: Options): Promise<Database> {
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('open takes a directory path');
  const resolved = resolveOptions(options);
  return new Database(await recover(dir, resolved));
}
