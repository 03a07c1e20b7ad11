// The byte work of one compaction: input tables in, output tables out, no
// engine state and no file I/O, so it runs as well in the table worker as on
// the calling thread. The inputs are merged in internal-key order; for each
// user key the newest entry is kept, and each older one only while some
// snapshot can still read it; deletions, and values whose expiry has
// passed, are dropped once nothing below the output level can hold their key. Outputs are cut at user-key boundaries,
// LevelDB-style: at the target file size, or when an output would overlap
// too many grandparent bytes (which would make its own next compaction big).
import { LruCache } from '../cache/lru.js';
import type { FileHandle } from '../fs/filesystem.js';
import { MemoryFile } from '../fs/memory-file.js';
import type { TableIterator } from '../table/iterator.js';
import { Kind, MAX_SEQUENCE, TRAILER_SIZE, compareBytes } from '../keys.js';
import { InvalidArgumentError } from '../errors.js';
import { trailerAt } from '../table/format.js';
import { isExpired, readExpiry } from '../expiry.js';
import { type CachedBlock, freeCachedBlock } from '../table/block-source.js';
import { TableBuilder, type TableBuilderOptions } from '../table/builder.js';
import type { TableProperties } from '../table/format.js';
import { TableReader } from '../table/reader.js';
import { tableFileName } from '../version/filenames.js';
import { copyOut, u8, view } from '../wasm/heap.js';
import { MergeKernel, MergeStop } from '../wasm/merge.js';
import { type Fragment, type SeqFilter, TombstoneFragments } from '../rangedel/fragments.js';
import { type RangeTombstone, beforeEnd } from '../rangedel/tombstone.js';
import { compareLargestToUserKey, upperUserKey } from '../version/bounds.js';
import { firstEndingAtOrAfter } from '../version/version.js';

/** A table's key range: its smallest and largest internal keys (as in FileMetadata). */
export interface KeyRange {
  smallest: Uint8Array;
  largest: Uint8Array;
}

/** An input table: its whole file in memory, or an open file read block by block. */
export type CompactionInput =
  | {
      /** The table's file number; names it in errors. */
      number: number;
      /** The whole table file. Read in place; must not change during the compaction. */
      bytes: Uint8Array;
    }
  | {
      number: number;
      /** The open table file; the compaction closes it. */
      file: FileHandle;
      size: number;
    };

/**
 * Receives each output as soon as it is cut, in key order: the table file
 * (`len` bytes at `ptr` in linear memory, valid only during the call; the
 * sink must not allocate in this thread's instance) and its properties.
 */
export type OutputSink = (ptr: number, len: number, properties: TableProperties) => void;

export interface CompactionRequest {
  /** Any order: internal keys order the versions. */
  inputs: CompactionInput[];
  /** The oldest sequence a live reader may read at: min(live snapshots, last sequence). */
  smallestSnapshot: number;
  /** Wall-clock ms (the engine's clock): values with expiry <= now count as deletions. Absent: none does. */
  now?: number;
  /** The tables of each level deeper than the output level; each level sorted and non-overlapping. */
  deeperLevels: KeyRange[][];
  /** The tables of the level below the output level, sorted and non-overlapping, with their sizes in bytes. */
  grandparents: Array<KeyRange & { size: number }>;
  /** Cut an output once it reaches this many bytes. Default 2 MiB. */
  targetFileSize?: number;
  /** Cut an output before it overlaps more grandparent bytes than this. Default 10 x targetFileSize. */
  maxGrandparentOverlapBytes?: number;
  table?: TableBuilderOptions;
}

export interface CompactionOutput {
  /** The whole table file. */
  bytes: Uint8Array;
  properties: TableProperties;
}

export interface CompactionStats {
  entriesIn: number;
  entriesOut: number;
  /** Entries hidden from every reader by a newer entry of their user key. */
  droppedShadowed: number;
  /** Deletions, expired values among them, that no reader needs: nothing older is visible and no deeper level holds their key. */
  droppedTombstones: number;
  /** Sum of the input file sizes. */
  bytesRead: number;
  /** Sum of the output file sizes. */
  bytesWritten: number;
}

export interface CompactionResult {
  /** In key order, non-overlapping by user key; empty when every entry was dropped, or when a sink took them. */
  outputs: CompactionOutput[];
  stats: CompactionStats;
}

export const DEFAULT_TARGET_FILE_SIZE = 2 * 1024 * 1024;
/** LevelDB's ratio: an output may overlap at most ten target-sized grandparents. */
const GRANDPARENT_OVERLAP_FACTOR = 10;

/** What happens to one entry. */
const Verdict = { Keep: 0, DropShadowed: 1, DropTombstone: 2 } as const;
type Verdict = (typeof Verdict)[keyof typeof Verdict];

/**
 * Runs the compaction described by `request` on this thread. Outputs go to
 * `sink` as they are cut when one is given (and the result lists none),
 * else they are copied out and returned.
 */
export function compact(request: CompactionRequest, sink?: OutputSink): CompactionResult {
  const smallestSnapshot = checkSequence(request.smallestSnapshot);
  const now = checkNow(request.now);
  const targetFileSize = checkSize('targetFileSize', request.targetFileSize ?? DEFAULT_TARGET_FILE_SIZE);
  const maxOverlap = checkSize('maxGrandparentOverlapBytes', request.maxGrandparentOverlapBytes ?? GRANDPARENT_OVERLAP_FACTOR * targetFileSize);
  const deeper = new DeeperLevels(request.deeperLevels);
  const stats: CompactionStats = { entriesIn: 0, entriesOut: 0, droppedShadowed: 0, droppedTombstones: 0, bytesRead: 0, bytesWritten: 0 };
  const collected: CompactionOutput[] = [];
  const collect: OutputSink = (ptr, len, properties) => collected.push({ bytes: copyOut(ptr, len), properties });
  const outputs = new OutputSplitter(request.table ?? {}, targetFileSize, maxOverlap, request.grandparents, sink ?? collect, stats);
  const tombstones: RangeTombstone[] = [];
  let iterators: TableIterator[];
  try {
    iterators = openInputs(request.inputs, stats, tombstones);
  } catch (err) {
    for (const input of request.inputs) if ('file' in input) input.file.closeSync();
    throw err;
  }
  let merge: MergeKernel | undefined;
  try {
    merge = new MergeKernel(
      iterators.map((it) => it.cursor),
      RUN_BYTES,
      smallestSnapshot,
      request.deeperLevels.every((files) => files.length === 0),
    );
    const fragments = TombstoneFragments.build(tombstones, keepForSnapshot(smallestSnapshot));
    if (fragments !== undefined) outputs.setRangeDeletions(keptFragments(fragments, smallestSnapshot, deeper));
    for (const it of iterators) it.seekToFirst();
    merge.start();
    mergeInputs(merge, iterators, outputs, { smallestSnapshot, now, deeper, fragments }, stats);
    outputs.finish();
    const counts = merge.counts;
    stats.entriesIn += counts.entriesIn;
    stats.entriesOut += counts.entriesOut;
    stats.droppedShadowed += counts.shadowed;
    stats.droppedTombstones += counts.tombstones;
    return { outputs: collected, stats };
  } finally {
    outputs.abandon();
    merge?.destroy();
    for (const it of iterators) it.close();
  }
}

/** Bytes of kept entries the merge kernel gathers before the builder takes them. */
const RUN_BYTES = 64 * 1024;

interface MergeContext {
  smallestSnapshot: number;
  now: number;
  deeper: DeeperLevels;
  fragments: TombstoneFragments | undefined;
}

/**
 * Drives the merge kernel to the end of the inputs. The kernel decides plain
 * values and deletions and gathers the kept ones into a run; it stops for
 * what it cannot do: an input's next block, an entry that needs the deeper
 * levels or the clock (decided here), and a user key where an output might
 * be cut. It stops at a new user key once the run has charged the room
 * left in the output (a bound on what the entries add to its size), or at
 * the next grandparent's end, so every cut lands where checking each user
 * key would put it. It also stops at each bound of the range-deletion
 * fragments, where the sequence of the deletion covering a key may change.
 */
function mergeInputs(merge: MergeKernel, iterators: TableIterator[], outputs: OutputSplitter, context: MergeContext, stats: CompactionStats): void {
  const { fragments } = context;
  let budget = outputs.room();
  let boundary: Uint8Array | undefined;
  for (;;) {
    const stop = merge.run(budget, boundary);
    if (stop === MergeStop.Child) {
      // Next block, end of input, or the input's corruption error.
      iterators[merge.top]!.next();
      merge.reload();
      continue;
    }
    // Before anything else reaches the builder, or an output is cut.
    if (merge.runLen > 0) outputs.addRun(merge.runPtr, merge.runLen);
    merge.clearRun();
    if (stop === MergeStop.Done) return;
    if (stop === MergeStop.UserKey) {
      const it = iterators[merge.top]!;
      const userKey = copyOut(it.keyPtr, it.keyLen - TRAILER_SIZE);
      merge.acceptUserKey(fragments === undefined ? -1 : fragments.coveringSeq(userKey, context.smallestSnapshot));
      outputs.startUserKey(userKey);
      boundary = earlier(outputs.boundary, fragments?.nextBound(userKey));
    } else if (stop === MergeStop.Host) {
      decideOnHost(merge, iterators[merge.top]!, outputs, context, stats);
      if (!merge.skipTop()) {
        iterators[merge.top]!.next();
        merge.reload();
      }
    }
    budget = outputs.room();
  }
}

/** The lower of two user-key bounds, undefined meaning none. */
function earlier(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (a === undefined) return b;
  return b === undefined || compareBytes(a, b) <= 0 ? a : b;
}

/** Decides the entry the kernel stopped at (its user key already current) and adds it if kept. */
function decideOnHost(merge: MergeKernel, it: TableIterator, outputs: OutputSplitter, context: MergeContext, stats: CompactionStats): void {
  const keyPtr = it.keyPtr;
  const keyLen = it.keyLen;
  const valuePtr = it.valuePtr;
  const valueLen = it.valueLen;
  const { seq, kind } = trailerAt(view(), keyPtr, keyLen);
  const userKey = copyOut(merge.userKeyPtr, merge.userKeyLen);
  const expired = kind === Kind.ValueWithExpiry && isExpired(readExpiry(u8().subarray(valuePtr, valuePtr + valueLen)), context.now);
  const verdict = decide(kind, seq, expired, merge.newerSeq, merge.coveringSeq, context.smallestSnapshot, context.deeper, userKey);
  if (kind !== Kind.RangeDeletion) merge.newerSeq = seq;
  stats.entriesIn++;
  if (verdict === Verdict.DropShadowed) stats.droppedShadowed++;
  else if (verdict === Verdict.DropTombstone) stats.droppedTombstones++;
  else {
    outputs.add(keyPtr, keyLen, valuePtr, valueLen);
    stats.entriesOut++;
  }
}

/**
 * The one place that decides an entry's fate (LevelDB's DoCompactionWork
 * rule). `newerSeq` is the sequence of the next newer entry of the same
 * user key (Infinity for the newest); `coveringSeq` that of the newest
 * range deletion at or below the smallest snapshot covering the key (-1: none).
 * - Shadowed: a newer entry at or below the smallest snapshot is what every
 *   reader sees instead of this one; so is a newer range deletion at or
 *   below it (every reader sees the key deleted).
 * - A deletion at or below the smallest snapshot, with nothing older left
 *   visible here, still hides older versions in deeper levels: it goes only
 *   when no deeper level may hold its key.
 * - An `expired` value (its expiry <= the request's now) reads as a
 *   deletion at its sequence to every reader, at every snapshot (expiry is
 *   wall-clock time), so it follows the deletion rule: kept while a snapshot
 *   below its sequence exists or a deeper level may hold its key.
 * - A point entry below the newest range deletion covering it at or below
 *   the smallest snapshot (`coveringSeq`) is hidden from every reader.
 * Kind-3 entries met among the points (only old-style data blocks hold any)
 * are kept as they are: range deletions travel in range-deletion blocks
 * (keptFragments).
 */
function decide(
  kind: number,
  seq: number,
  expired: boolean,
  newerSeq: number,
  coveringSeq: number,
  smallestSnapshot: number,
  deeper: DeeperLevels,
  userKey: Uint8Array,
): Verdict {
  if (kind === Kind.RangeDeletion) return Verdict.Keep;
  if (newerSeq <= smallestSnapshot || seq < coveringSeq) return Verdict.DropShadowed;
  const deletes = kind === Kind.Deletion || expired;
  if (deletes && seq <= smallestSnapshot && !deeper.mayContain(userKey)) return Verdict.DropTombstone;
  return Verdict.Keep;
}

/**
 * An iterator over each input. Each input is read once, front to back, so
 * the readers share a cache of capacity 0: a block lives while an iterator
 * pins it and is freed when it moves on.
 */
function openInputs(inputs: CompactionInput[], stats: CompactionStats, tombstones: RangeTombstone[]): TableIterator[] {
  const cache = new LruCache<CachedBlock>(0, freeCachedBlock);
  const iterators: TableIterator[] = [];
  try {
    for (const input of inputs) {
      const { file, size } = 'file' in input ? input : { file: new MemoryFile(tableFileName(input.number), input.bytes), size: input.bytes.length };
      const reader = TableReader.open(file, input.number, size, cache);
      // The iterator keeps the reader's memory alive; closing it frees both (and closes the file).
      iterators.push(reader.iterator());
      tombstones.push(...reader.rangeTombstones);
      reader.close();
      stats.bytesRead += size;
    }
  } catch (err) {
    for (const it of iterators) it.close();
    throw err;
  }
  return iterators;
}

/**
 * Of a fragment's sequences, those a reader may still need: every one above
 * the smallest snapshot, and the newest at or below it (it hides from every
 * reader all that the older ones would).
 */
function keepForSnapshot(smallestSnapshot: number): SeqFilter {
  return (seqs) => {
    const i = seqs.findIndex((s) => s <= smallestSnapshot);
    return i < 0 ? seqs : seqs.slice(0, i + 1);
  };
}

/**
 * The fragments the outputs carry: a sequence at or below the smallest
 * snapshot is dropped once no deeper level may hold a key in the fragment
 * (what it covered here is dropped by decide()).
 */
function keptFragments(fragments: TombstoneFragments, smallestSnapshot: number, deeper: DeeperLevels): Fragment[] {
  const out: Fragment[] = [];
  for (const f of fragments.fragments) {
    const seqs = deeper.mayOverlap(f.start, f.end) ? f.seqs : f.seqs.filter((s) => s > smallestSnapshot);
    if (seqs.length > 0) out.push({ start: f.start, end: f.end, seqs });
  }
  return out;
}

/**
 * Builds the outputs, cutting between user keys. The grandparent overlap is
 * tracked as in LevelDB: grandparent files wholly passed since the last cut
 * (their largest user key is below the current one) are charged to the
 * output in progress.
 */
class OutputSplitter {
  readonly #options: TableBuilderOptions;
  readonly #targetFileSize: number;
  readonly #maxOverlap: number;
  readonly #grandparents: ReadonlyArray<KeyRange & { size: number }>;
  #grandparent = 0;
  #boundary: Uint8Array | undefined;
  #overlap = 0;
  #started = false;
  #builder: TableBuilder | undefined;
  /** Range-deletion fragments not yet written, sorted; an output takes those before its cut, clipped there. */
  #fragments: Fragment[] = [];
  readonly #sink: OutputSink;
  readonly #stats: CompactionStats;
  /** estimatedFileSize of an output with nothing in it. */
  readonly #emptySize: number;

  constructor(
    options: TableBuilderOptions,
    targetFileSize: number,
    maxOverlap: number,
    grandparents: Array<KeyRange & { size: number }>,
    sink: OutputSink,
    stats: CompactionStats,
  ) {
    // Validates the options before any work (the builder checks them).
    const empty = new TableBuilder(options);
    this.#emptySize = empty.estimatedFileSize;
    empty.abandon();
    checkRanges('grandparent', grandparents);
    this.#options = options;
    this.#targetFileSize = targetFileSize;
    this.#maxOverlap = maxOverlap;
    this.#grandparents = grandparents;
    this.#sink = sink;
    this.#stats = stats;
    this.#boundary = this.#boundaryAt(0);
  }

  /** The sorted, non-overlapping fragments to spread over the outputs. */
  setRangeDeletions(fragments: Fragment[]): void {
    this.#fragments = fragments;
  }

  /** Called before the first entry of each user key, kept or not: the only place an output is cut. */
  startUserKey(userKey: Uint8Array): void {
    const grandparents = this.#grandparents;
    while (this.#grandparent < grandparents.length && compareLargestToUserKey(grandparents[this.#grandparent]!.largest, userKey) < 0) {
      if (this.#started) this.#overlap += grandparents[this.#grandparent]!.size;
      this.#grandparent++;
      this.#boundary = this.#boundaryAt(this.#grandparent);
    }
    this.#started = true;
    const overlapFull = this.#overlap > this.#maxOverlap;
    const cut = this.#builder !== undefined && (overlapFull || this.#builder.estimatedFileSize >= this.#targetFileSize);
    if (cut) this.#finishOutput(userKey);
    // The count restarts with each output, and once it is over the limit even with no output open.
    if (cut || overlapFull) this.#overlap = 0;
  }

  /** Adds an entry where it lies in linear memory (starting an output allocates, but memory grows in place). */
  add(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): void {
    this.#builder ??= new TableBuilder(this.#options);
    this.#builder.add(keyPtr, keyLen, valuePtr, valueLen);
  }

  /** Adds a run of entries (TableBuilder.addRunAt) where it lies in linear memory. */
  addRun(ptr: number, len: number): void {
    this.#builder ??= new TableBuilder(this.#options);
    this.#builder.addRunAt(ptr, len);
  }

  /**
   * How many bytes the output may grow by before it reaches its target size
   * (<= 0: none), counting the index entry its last block still owes.
   */
  room(): number {
    const builder = this.#builder;
    return this.#targetFileSize - (builder === undefined ? this.#emptySize : builder.estimatedFileSize + builder.pendingIndexEntrySize);
  }

  /** The user key at or past which startUserKey may pass a grandparent: the next one's largest; undefined when none can be passed. */
  get boundary(): Uint8Array | undefined {
    return this.#boundary;
  }

  finish(): void {
    if (this.#builder !== undefined || this.#fragments.length > 0) this.#finishOutput(undefined);
  }

  #boundaryAt(i: number): Uint8Array | undefined {
    return i < this.#grandparents.length ? upperUserKey(this.#grandparents[i]!.largest) : undefined;
  }

  /** Frees an unfinished output. Idempotent. */
  abandon(): void {
    this.#builder?.abandon();
    this.#builder = undefined;
  }

  /** Finishes the output, adding the fragments below `cut` (all at the last output), clipped to end at it. */
  #finishOutput(cut: Uint8Array | undefined): void {
    const builder = (this.#builder ??= new TableBuilder(this.#options));
    this.#builder = undefined;
    const rest: Fragment[] = [];
    for (const f of this.#fragments) {
      if (cut !== undefined && compareBytes(f.start, cut) >= 0) rest.push(f);
      else {
        const clipped = cut !== undefined && beforeEnd(cut, f.end);
        for (const seq of f.seqs) builder.addRangeDeletion(f.start, clipped ? cut : f.end, seq);
        if (clipped) rest.push({ start: cut!, end: f.end, seqs: f.seqs });
      }
    }
    this.#fragments = rest;
    builder.finishIn((ptr, len, properties) => {
      this.#stats.bytesWritten += len;
      this.#sink(ptr, len, properties);
    });
  }
}

/** The file ranges below the output level, for "may this user key exist below?". */
class DeeperLevels {
  readonly #levels: KeyRange[][];

  constructor(levels: KeyRange[][]) {
    for (const files of levels) checkRanges('deeper-level', files);
    this.#levels = levels;
  }

  /** Whether some file of a deeper level has `userKey` within its range: a binary search per level. */
  mayContain(userKey: Uint8Array): boolean {
    for (const files of this.#levels) {
      const i = firstEndingAtOrAfter(files, userKey);
      if (i < files.length && compareToUserKeyOf(userKey, files[i]!.smallest) >= 0) return true;
    }
    return false;
  }

  /** Whether some file of a deeper level meets user keys [start, end) (end undefined: unbounded). */
  mayOverlap(start: Uint8Array, end: Uint8Array | undefined): boolean {
    for (const files of this.#levels) {
      const i = firstEndingAtOrAfter(files, start);
      if (i < files.length && (end === undefined || compareToUserKeyOf(end, files[i]!.smallest) > 0)) return true;
    }
    return false;
  }
}


/** Throws unless every bound is an internal key (at least a trailer long). */
function checkRanges(what: string, ranges: KeyRange[]): void {
  for (const r of ranges) {
    if (!(r.smallest instanceof Uint8Array) || !(r.largest instanceof Uint8Array) || r.smallest.length < TRAILER_SIZE || r.largest.length < TRAILER_SIZE) {
      throw new InvalidArgumentError(`a ${what} range bound is not an internal key`);
    }
  }
}

/** Compares a user key with the user key of an internal key (checked by checkRanges), bytewise. */
function compareToUserKeyOf(userKey: Uint8Array, internalKey: Uint8Array): number {
  const otherLen = internalKey.length - TRAILER_SIZE;
  const n = Math.min(userKey.length, otherLen);
  for (let i = 0; i < n; i++) {
    if (userKey[i] !== internalKey[i]) return userKey[i]! - internalKey[i]!;
  }
  return userKey.length - otherLen;
}

/** Whether the `userLen` bytes at `ptr` in linear memory `mem` are exactly `userKey`. */
function checkSequence(seq: number): number {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQUENCE) throw new InvalidArgumentError(`smallestSnapshot ${seq} is not a sequence number`);
  return seq;
}

function checkNow(now: number | undefined): number {
  if (now === undefined) return Number.NEGATIVE_INFINITY;
  if (typeof now !== 'number' || Number.isNaN(now)) throw new InvalidArgumentError(`now ${String(now)} is not a time`);
  return now;
}

function checkSize(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} ${n} is not a positive integer`);
  return n;
}
