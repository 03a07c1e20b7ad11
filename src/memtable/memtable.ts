// A memtable: the skip list (src/wasm/skiplist.ts) that receives every write
// batch after its WAL record, together with the number of that WAL. It lives
// in linear memory and is freed only when nothing uses it any more: the
// engine holds one reference from creation, every open iterator another.
import { copyOut } from '../copy-out.js';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import type { InternalIterator } from '../iterator/internal.js';
import { alloc, free, u8 } from '../wasm/heap.js';
import { DEFAULT_CHUNK_SIZE, INDEX_SLOT_SIZE, SkipList, node as skiplistNode, type Entry } from '../wasm/skiplist.js';
import { MemtableIterator } from './iterator.js';
import { Kind } from '../keys.js';
import { readVarint } from '../varint.js';
import { PointLookup, type StagedKey } from '../point-lookup.js';
import type { PointBatch } from '../point-batch.js';
import { TombstoneFragments } from '../rangedel/fragments.js';
import { type RangeTombstone, decodeEnd } from '../rangedel/tombstone.js';

/** get()'s staging area (reads through the engine stage their own, once for every source). */
const lookup = new PointLookup();

export type MemtableEntry = Entry;

/** The node's entry, its value copied out of linear memory. */
function nodeEntry(n: number): MemtableEntry {
  const valuePtr = skiplistNode.valuePtr(n);
  return { kind: skiplistNode.kind(n), seq: skiplistNode.seq(n), value: copyOut(u8(), valuePtr, valuePtr + skiplistNode.valueLength(n)) };
}

/**
 * Starting slots of the user-key index for a memtable of `memtableSize`
 * bytes: a power of two taking about 1/64 of it (enough for a quarter of
 * the keys of 100-byte values); the index doubles as keys arrive.
 */
export function memtableIndexSlots(memtableSize: number): number {
  return 2 ** Math.max(6, Math.floor(Math.log2(memtableSize / 64 / INDEX_SLOT_SIZE)));
}

export class Memtable {
  /** The WAL whose records this memtable holds; the WAL is obsolete once the memtable is flushed. */
  readonly logNumber: number;
  #list: SkipList | undefined;
  #refs = 1;
  /** Range deletions, kept out of the skip list so point reads never meet them; in arrival order. */
  readonly #tombstones: RangeTombstone[] = [];
  #tombstoneBytes = 0;
  /** The run exportRunOnce started, once it has. */
  #export: Promise<MemtableRun> | undefined;
  /** Fragments of #tombstones, built on the first read after a change. */
  #fragments: TombstoneFragments | undefined;

  /** `indexSlots`: see SkipList; memtables that take reads get memtableIndexSlots(), replayed ones being flushed none. */
  constructor(logNumber: number, chunkSize = DEFAULT_CHUNK_SIZE, indexSlots = 0) {
    if (!Number.isSafeInteger(logNumber) || logNumber < 0) {
      throw new InvalidArgumentError(`log number must be an integer in 0..2^53-1, got ${logNumber}`);
    }
    this.logNumber = logNumber;
    this.#list = new SkipList(chunkSize, indexSlots);
  }

  #live(): SkipList {
    if (this.#list === undefined) throw new ClosedError('memtable used after its last reference was dropped');
    return this.#list;
  }

  /**
   * Inserts an encoded write batch already in linear memory (the bytes the
   * WAL record carries). Returns the record count. A malformed batch throws
   * CorruptionError and inserts nothing.
   */
  insertBatchAt(ptr: number, len: number): number {
    const { count, rangeDeletions } = this.#live().insertPointsAt(ptr, len);
    if (rangeDeletions > 0) this.#addRangeDeletions(ptr, len);
    return count;
  }

  /** Collects the range deletions of a batch the kernel has validated (rare: parsed here, in JavaScript). */
  #addRangeDeletions(ptr: number, len: number): void {
    const mem = u8();
    const dv = new DataView(mem.buffer, ptr, len);
    const first = dv.getUint32(0, true) + dv.getUint32(4, true) * 0x1_0000_0000;
    const count = dv.getUint32(8, true);
    const end = ptr + len;
    let pos = ptr + 12;
    for (let i = 0; i < count; i++) {
      const kind = mem[pos]!;
      const key = readVarint(mem, pos + 1, end)!;
      const keyStart = key.next;
      pos = keyStart + key.value;
      if (kind === Kind.Deletion) continue;
      const value = readVarint(mem, pos, end)!;
      pos = value.next + value.value;
      if (kind !== Kind.RangeDeletion) continue;
      const start = mem.slice(keyStart, keyStart + key.value);
      const stop = decodeEnd(mem.slice(value.next, pos));
      this.#tombstones.push({ start, end: stop, seq: first + i });
      this.#tombstoneBytes += start.length + (stop?.length ?? 0) + 32;
    }
    this.#fragments = undefined;
  }

  /** The largest sequence <= snapshotSeq of a range deletion covering `userKey`, or -1. */
  coveringTombstoneSeq(userKey: Uint8Array, snapshotSeq: number): number {
    if (this.#tombstones.length === 0) return -1;
    this.#fragments ??= TombstoneFragments.build(this.#tombstones);
    return this.#fragments!.coveringSeq(userKey, snapshotSeq);
  }

  /** The range deletions received so far (do not modify). */
  get rangeTombstones(): readonly RangeTombstone[] {
    return this.#tombstones;
  }

  /** The newest entry of `userKey` with sequence <= snapshotSeq, a deletion included (the caller stops there). */
  get(userKey: Uint8Array, snapshotSeq: number): MemtableEntry | undefined {
    return this.getStaged(lookup.stage(userKey, snapshotSeq));
  }

  /** get() for a key a read staged once for all its sources (src/db.ts #get): no copy of the key, no second hash. */
  getStaged(key: StagedKey): MemtableEntry | undefined {
    const n = this.#live().findHashedAt(key.target, key.userKey.length, key.seq, key.h1);
    return n === 0 ? undefined : nodeEntry(n);
  }

  /**
   * getStaged for every key of the batch not yet answered, in one call:
   * found[i] is set to key i's entry, and the key marked answered, when
   * this memtable holds one.
   */
  getBatch(batch: PointBatch, found: Array<MemtableEntry | undefined>): void {
    this.#live().findBatch(batch.records, batch.count);
    for (let i = 0; i < batch.count; i++) {
      const n = batch.done(i) ? 0 : batch.node(i);
      if (n === 0) continue;
      found[i] = nodeEntry(n);
      batch.markDone(i);
    }
  }

  /** Heap bytes the memtable holds, its user-key index included. */
  get approximateBytes(): number {
    return this.#live().bytes + this.#tombstoneBytes;
  }

  /**
   * Heap bytes of its entries (as stored, with their nodes) and range
   * deletions: what the engine compares with memtableSize, "bytes of writes".
   * The user-key index is left out, so it never makes a memtable hold fewer writes.
   */
  get entryBytes(): number {
    const list = this.#live();
    return list.bytes - list.indexBytes + this.#tombstoneBytes;
  }

  /** Entries held, range deletions included. */
  get count(): number {
    return this.#live().count + this.#tombstones.length;
  }

  get destroyed(): boolean {
    return this.#list === undefined;
  }

  /** An iterator over the internal entries; it holds a reference until closed. */
  iterator(): InternalIterator {
    const list = this.#live();
    this.ref();
    return new MemtableIterator(list, this);
  }

  ref(): void {
    this.#live();
    this.#refs++;
  }

  /** Drops a reference; the last one frees the memtable's memory. */
  unref(): void {
    const list = this.#live();
    this.#refs--;
    if (this.#refs > 0) return;
    list.destroy();
    this.#list = undefined;
  }

  /**
   * Every entry as one run (docs/FORMAT.md, "Memtable runs"), written by the
   * kernel into linear memory slice by slice and copied out, ready to be
   * transferred to the worker that builds the table. A memtable only written
   * to (every node still pending) comes out in insertion order, unsorted:
   * the worker sorts it (withSortedRun), so this thread pays a copy, not a sort.
   */
  exportRun(): MemtableRun {
    const slices = this.#exportSlices();
    for (;;) {
      const step = slices.next();
      if (step.done) return step.value;
    }
  }

  /**
   * As exportRun, yielding to the event loop between slices of EXPORT_SLICE
   * bytes, so exporting a large frozen memtable never blocks for long.
   * Precondition: no inserts while it runs (the memtable is frozen).
   */
  async exportRunYielding(): Promise<MemtableRun> {
    const slices = this.#exportSlices();
    for (;;) {
      const step = slices.next();
      if (step.done) return step.value;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * exportRunYielding, started on the first call and shared by later ones:
   * the engine starts it when it freezes the memtable, so the export runs
   * while the flush before it is still building. Precondition: frozen.
   */
  exportRunOnce(): Promise<MemtableRun> {
    if (this.#export === undefined) {
      this.#export = this.exportRunYielding();
      // The flush that awaits it reports a failure; this copy only keeps it from going unhandled.
      this.#export.catch(() => {});
    }
    return this.#export;
  }

  *#exportSlices(): Generator<void, MemtableRun> {
    // Unsorted while every node is pending; a read that needs the list in order (an iterator) may settle it between slices.
    if (this.#live().count > 1) {
      const unsorted = yield* this.#copySlices((list, from, ptr, cap) => list.exportPendingSlice(from, ptr, cap));
      if (unsorted !== undefined) return { bytes: unsorted, sorted: false };
    }
    while (this.#live().settleStep(SETTLE_SLICE)) yield;
    const sorted = yield* this.#copySlices((list, from, ptr, cap) => list.exportSlice(from, ptr, cap));
    return { bytes: sorted!, sorted: true };
  }

  /**
   * Copies the run `slice` writes out of linear memory, a slice at a time;
   * undefined if `slice` gives up (written -2).
   */
  *#copySlices(slice: (list: SkipList, from: number, ptr: number, cap: number) => { written: number; next: number }): Generator<void, Uint8Array | undefined> {
    const size = this.#live().exportSize;
    const out = new Uint8Array(size);
    let cap = Math.min(size, EXPORT_SLICE);
    let ptr = cap > 0 ? alloc(cap) : 0;
    try {
      let pos = 0;
      let from = 0;
      while (pos < size) {
        const { written, next } = slice(this.#live(), from, ptr, cap);
        if (written === -2) return undefined;
        if (written === -1) {
          // An entry larger than the slice: a larger slice (the whole run holds it).
          free(ptr);
          ptr = 0;
          cap = Math.min(size, cap * 2);
          ptr = alloc(cap);
          continue;
        }
        out.set(u8().subarray(ptr, ptr + written), pos);
        pos += written;
        from = next;
        if (pos < size) yield;
      }
      return out;
    } finally {
      if (ptr !== 0) free(ptr);
    }
  }
}

/** A memtable's entries as a run: in sorted order, or as inserted (sort with withSortedRun before building a table). */
export interface MemtableRun {
  bytes: Uint8Array;
  sorted: boolean;
}

/** Bytes of the exported run a memtable export writes at a time. */
const EXPORT_SLICE = 1024 * 1024;
/** Pending nodes a step of the settle before an export handles (a few milliseconds: each may miss the cache). */
const SETTLE_SLICE = 16384;
