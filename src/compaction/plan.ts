// What the scheduler needs of a compaction, whichever strategy picked it
// (src/compaction/picker.ts for leveled, src/compaction/tiered-picker.ts for
// tiered), and the rule that decides which compactions may run at once.
import type { FileMetadata, VersionEdit } from '../version/edit.js';
import { TRAILER_SIZE, compareBytes } from '../keys.js';
import { upperUserKey } from '../version/bounds.js';

export interface CompactionPlan {
  /** The shallowest level an input comes from. */
  readonly level: number;
  /** Where the outputs go; every level in [level, outputLevel] may change. */
  readonly outputLevel: number;
  /** One file changes level with one edit and no I/O. */
  readonly trivialMove: boolean;
  /** Every input file, any order. */
  readonly inputFiles: readonly FileMetadata[];
  /** Files of outputLevel + 1 the outputs are cut against (empty: cut by size only). */
  readonly grandparents: readonly FileMetadata[];
  /** Smallest and largest user keys over all inputs (inclusive; largest undefined: unbounded). */
  readonly smallestUserKey: Uint8Array;
  readonly largestUserKey: Uint8Array | undefined;
  /** Numbers of all input files. */
  fileNumbers(): number[];
  /** The one MANIFEST edit that installs it: inputs deleted, `outputs` added at outputLevel. */
  edit(outputs?: readonly FileMetadata[]): VersionEdit;
}

/**
 * Whether two compactions must not run at once: they share a file, or the
 * levels each may change ([level, outputLevel]) meet and their user-key
 * ranges overlap. The second clause keeps outputs of a level disjoint and
 * keeps a compaction's view of the levels below its output (which decides
 * which tombstones it drops) true while it runs: data only moves down, and
 * only compactions disjoint from it in keys or levels move any.
 */
export function compactionsConflict(a: CompactionPlan, b: CompactionPlan): boolean {
  const numbers = new Set(a.fileNumbers());
  if (b.fileNumbers().some((n) => numbers.has(n))) return true;
  const levelsMeet = a.level <= b.outputLevel && b.level <= a.outputLevel;
  const keysMeet = atOrBelow(a.smallestUserKey, b.largestUserKey) && atOrBelow(b.smallestUserKey, a.largestUserKey);
  return levelsMeet && keysMeet;
}

/** Whether `key` <= `upper`, an inclusive upper bound (undefined: unbounded). */
function atOrBelow(key: Uint8Array, upper: Uint8Array | undefined): boolean {
  return upper === undefined || compareBytes(key, upper) <= 0;
}

/** Whether `plan` conflicts with any of `running`. */
export function conflictsWithAny(plan: CompactionPlan, running: Iterable<CompactionPlan>): boolean {
  for (const other of running) if (compactionsConflict(plan, other)) return true;
  return false;
}

/**
 * Smallest and largest user keys over non-empty `files`, as inclusive
 * bounds: an exclusive range-deletion bound counts as its user key (one key
 * too far, which only ever adds a file), an unbounded one as undefined.
 */
export function userKeyRange(files: readonly FileMetadata[]): [Uint8Array, Uint8Array | undefined] {
  let lo = userKeyOfInternal(files[0]!.smallest);
  let hi = upperUserKey(files[0]!.largest);
  for (let i = 1; i < files.length; i++) {
    const s = userKeyOfInternal(files[i]!.smallest);
    const l = upperUserKey(files[i]!.largest);
    if (compareBytes(s, lo) < 0) lo = s;
    if (hi !== undefined && (l === undefined || compareBytes(l, hi) > 0)) hi = l;
  }
  return [lo, hi];
}

export function userKeyOfInternal(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TRAILER_SIZE);
}

export function totalBytes(files: readonly FileMetadata[]): number {
  let bytes = 0;
  for (const f of files) bytes += f.size;
  return bytes;
}
