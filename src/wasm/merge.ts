// The compaction merge kernel (assembly/merge.ts): a forward merge of block
// cursors that decides plain values and deletions itself and copies the kept ones into a
// run for TableBuilder.addRunAt, stopping for the host at what needs it.
import { CorruptionError } from '../errors.js';
import { Region, view } from './heap.js';
import { raw } from './loader.js';

interface MergeExports {
  mergeCreate(count: number, runCap: number, snapshot: number, noDeeper: number): number;
  mergeSetCursor(m: number, i: number, cursor: number): void;
  mergeStart(m: number): void;
  mergeRun(m: number, budget: number, boundary: number, boundaryLen: number): number;
  mergeClearRun(m: number): void;
  mergeAcceptUserKey(m: number, coveringSeq: number): void;
  mergeSkipTop(m: number): number;
  mergeReload(m: number): void;
  mergeDestroy(m: number): void;
}

const ex = raw as unknown as MergeExports;

/** Why mergeRun stopped (assembly/merge.ts). */
export const MergeStop = {
  /** Every input is exhausted. */
  Done: 0,
  /** The top input's cursor left its block or failed: move that input on, then reload(). */
  Child: 1,
  /** The top entry starts a user key the host must see: acceptUserKey() before going on. */
  UserKey: 2,
  /** The top entry is the host's to decide: then skipTop(). */
  Host: 3,
  /** The run cannot take the top entry: take the run, clearRun(). */
  RunFull: 4,
} as const;

const E_BAD_SEQUENCE = -30;

// State fields (see assembly/merge.ts).
const M_USER_KEY = 16;
const M_USER_KEY_LEN = 24;
const M_RUN = 32;
const M_RUN_LEN = 40;
const M_TOP = 44;
const M_NEWER_SEQ = 48;
const M_COVERING_SEQ = 56;
const M_ENTRIES_IN = 80;
const M_ENTRIES_OUT = 88;
const M_SHADOWED = 96;
const M_TOMBSTONES = 112;

export class MergeKernel {
  #handle: number;
  readonly #boundary = new Region(64);
  #boundaryKey: Uint8Array | undefined;

  /**
   * Over the given block cursors (owned by the caller), with a run of
   * `runCap` bytes; `noDeeper`: no level below the output holds a file, so
   * the kernel may drop the deletions every reader sees.
   */
  constructor(cursors: readonly number[], runCap: number, smallestSnapshot: number, noDeeper: boolean) {
    this.#handle = ex.mergeCreate(cursors.length, runCap, smallestSnapshot, noDeeper ? 1 : 0);
    cursors.forEach((cursor, i) => ex.mergeSetCursor(this.#handle, i, cursor));
  }

  /** Takes in every positioned cursor. */
  start(): void {
    ex.mergeStart(this.#handle);
  }

  /**
   * Merges until a stop. A new user key stops it before the first accepted
   * one, once the run has charged `budget` bytes, or at or past `boundary`
   * (a user key; undefined: none); one that does not stop it takes the
   * covering sequence of the last.
   */
  run(budget: number, boundary: Uint8Array | undefined): number {
    if (boundary !== undefined && boundary !== this.#boundaryKey) this.#boundary.load(boundary);
    this.#boundaryKey = boundary;
    const ptr = boundary === undefined ? 0 : this.#boundary.ptr;
    const rc = ex.mergeRun(this.#handle, budget, ptr, boundary === undefined ? -1 : boundary.length);
    if (rc === E_BAD_SEQUENCE) throw new CorruptionError('an input key has a sequence above 2^53 - 1');
    return rc;
  }

  acceptUserKey(coveringSeq: number): void {
    ex.mergeAcceptUserKey(this.#handle, coveringSeq);
  }

  /** Steps the top input past the host's entry: false when its cursor left the block (then as MergeStop.Child). */
  skipTop(): boolean {
    return ex.mergeSkipTop(this.#handle) === 1;
  }

  reload(): void {
    ex.mergeReload(this.#handle);
  }

  clearRun(): void {
    ex.mergeClearRun(this.#handle);
  }

  /** The input at the top when run() stopped. */
  get top(): number {
    return view().getUint32(this.#handle + M_TOP, true);
  }

  get runPtr(): number {
    return view().getUint32(this.#handle + M_RUN, true);
  }

  get runLen(): number {
    return view().getUint32(this.#handle + M_RUN_LEN, true);
  }

  /** The current user key, in the kernel's own copy. */
  get userKeyPtr(): number {
    return view().getUint32(this.#handle + M_USER_KEY, true);
  }

  get userKeyLen(): number {
    return view().getUint32(this.#handle + M_USER_KEY_LEN, true);
  }

  /** Sequence of the last entry seen of the current user key; Infinity for none. The host sets it after an entry it decided. */
  get newerSeq(): number {
    return view().getFloat64(this.#handle + M_NEWER_SEQ, true);
  }

  set newerSeq(seq: number) {
    view().setFloat64(this.#handle + M_NEWER_SEQ, seq, true);
  }

  get coveringSeq(): number {
    return view().getFloat64(this.#handle + M_COVERING_SEQ, true);
  }

  /** Entries the kernel decided, kept, dropped as shadowed, and dropped as deletions nothing needs. */
  get counts(): { entriesIn: number; entriesOut: number; shadowed: number; tombstones: number } {
    const v = view();
    const h = this.#handle;
    return {
      entriesIn: v.getFloat64(h + M_ENTRIES_IN, true),
      entriesOut: v.getFloat64(h + M_ENTRIES_OUT, true),
      shadowed: v.getFloat64(h + M_SHADOWED, true),
      tombstones: v.getFloat64(h + M_TOMBSTONES, true),
    };
  }

  destroy(): void {
    if (this.#handle !== 0) ex.mergeDestroy(this.#handle);
    this.#handle = 0;
    this.#boundary.release();
  }
}
