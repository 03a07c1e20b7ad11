// The size-tiered picker (compactionStyle 'tiered'), after RocksDB's
// universal compaction: the tree is a list of sorted runs, and runs of
// similar size are merged when enough accumulate. Pure decisions over a
// Version, like the leveled picker; the scheduler runs what it returns.
//
// Layout (docs/ARCHITECTURE.md, "Tiered compaction"): each level-0 file is a
// run (newest first), then each non-empty level >= 1 is one run, shallower
// levels newer. So the read path's order (level 0 newest first, then levels
// by key, shallow to deep) is age order, and every level >= 1 is one merge's
// output: sorted and disjoint.
//
// A merge takes runs that are contiguous in age and writes one run to the
// deepest level it read, or, when it read only level-0 files, to the empty
// level just above the newest level run (level 6 when there is none). The
// output then sits below every newer run and above every older one. Because
// level 0 holds only flushes, a merge that starts in level 0 runs through
// its oldest file; one that would need level 0 as its output takes level 1's
// run as well.
import { InvalidArgumentError } from '../errors.js';
import { type FileMetadata, NUM_LEVELS, type VersionEdit } from '../version/edit.js';
import type { Version } from '../version/version.js';
import { type CompactionPlan, conflictsWithAny, totalBytes, userKeyRange } from './plan.js';

export interface TieredOptions {
  /** Sorted runs at which merging starts. Default 4 (the leveled level-0 trigger). */
  readonly runTrigger: number;
  /** Fewest runs a size-ratio merge takes. Default 2. */
  readonly minMergeWidth: number;
  /**
   * Percent by which the next older run may exceed the runs gathered so far
   * and still join them. Default 1 (RocksDB's): runs of about equal size merge.
   */
  readonly sizeRatioPercent: number;
  /** When all runs but the oldest exceed this percent of the oldest, everything merges. Default 200. */
  readonly maxSpaceAmplificationPercent: number;
}

export const DEFAULT_TIERED_OPTIONS: TieredOptions = Object.freeze({
  runTrigger: 4,
  minMergeWidth: 2,
  sizeRatioPercent: 1,
  maxSpaceAmplificationPercent: 200,
});

/** Fills in defaults and validates. */
export function resolveTieredOptions(options: Partial<TieredOptions> = {}): TieredOptions {
  const resolved = { ...DEFAULT_TIERED_OPTIONS, ...options };
  integerIn('runTrigger', resolved.runTrigger, 2, 1000);
  integerIn('minMergeWidth', resolved.minMergeWidth, 2, 1000);
  integerIn('sizeRatioPercent', resolved.sizeRatioPercent, 0, 10_000);
  integerIn('maxSpaceAmplificationPercent', resolved.maxSpaceAmplificationPercent, 1, 1_000_000);
  return Object.freeze(resolved);
}

function integerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`tiered option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

/** One sorted run: a level-0 file, or a whole level >= 1. */
export interface SortedRun {
  readonly level: number;
  readonly files: readonly FileMetadata[];
  readonly bytes: number;
}

/** The version's sorted runs, newest first. */
export function sortedRuns(version: Version): SortedRun[] {
  const runs: SortedRun[] = version.levels[0]!.map((f) => ({ level: 0, files: [f], bytes: f.size }));
  for (let level = 1; level < NUM_LEVELS; level++) {
    const files = version.levels[level]!;
    if (files.length > 0) runs.push({ level, files, bytes: totalBytes(files) });
  }
  return runs;
}

/** A merge of runs contiguous in age into one run at outputLevel. */
export class RunMerge implements CompactionPlan {
  readonly level: number;
  readonly outputLevel: number;
  readonly trivialMove = false;
  readonly grandparents: readonly FileMetadata[] = [];
  /** The merged runs, newest first. */
  readonly runs: readonly SortedRun[];
  readonly smallestUserKey: Uint8Array;
  readonly largestUserKey: Uint8Array | undefined;
  /** Whether the oldest run of the tree is merged: the output has nothing below it. */
  readonly includesOldestRun: boolean;

  constructor(runs: readonly SortedRun[], outputLevel: number, includesOldestRun: boolean) {
    this.runs = runs;
    this.level = runs[0]!.level;
    this.outputLevel = outputLevel;
    this.includesOldestRun = includesOldestRun;
    [this.smallestUserKey, this.largestUserKey] = userKeyRange(this.inputFiles);
  }

  get inputFiles(): readonly FileMetadata[] {
    return this.runs.flatMap((r) => r.files);
  }

  fileNumbers(): number[] {
    return this.inputFiles.map((f) => f.number);
  }

  edit(outputs: readonly FileMetadata[] = []): VersionEdit {
    return {
      deletedFiles: this.runs.flatMap((r) => r.files.map((f) => ({ level: r.level, number: f.number }))),
      newFiles: outputs.map((meta) => ({ level: this.outputLevel, meta })),
    };
  }
}

/**
 * The runs [first, last] (indexes into `runs`, newest first) made placeable,
 * as a merge, or undefined if they cannot be (never for a valid version).
 */
function mergeOf(runs: readonly SortedRun[], first: number, last: number): RunMerge | undefined {
  // A merge starting in level 0 must reach its oldest file: nothing may be left below the output in level 0.
  while (runs[last]!.level === 0 && last + 1 < runs.length && runs[last + 1]!.level === 0) last++;
  let outputLevel = runs[last]!.level;
  if (outputLevel === 0) {
    const olderLevel = last + 1 < runs.length ? runs[last + 1]!.level : NUM_LEVELS;
    outputLevel = olderLevel - 1;
    if (outputLevel === 0) {
      last++;
      outputLevel = 1;
    }
  }
  if (outputLevel < 1) return undefined;
  return new RunMerge(runs.slice(first, last + 1), outputLevel, last === runs.length - 1);
}

/**
 * The merges the rules call for, in the order to try them:
 * 1. Space amplification: when the runs newer than the oldest hold more than
 *    maxSpaceAmplificationPercent of its bytes, all runs.
 * 2. Size ratio: from each run (newest first), the longest stretch of older
 *    runs where each is at most (100 + sizeRatioPercent)% of the bytes
 *    gathered before it; taken when it has minMergeWidth runs or more.
 * 3. Run count: the newest (count - runTrigger + 1) runs, at least
 *    minMergeWidth, so the count falls below the trigger.
 * None when there are fewer than runTrigger runs.
 */
function candidates(runs: readonly SortedRun[], o: TieredOptions): Array<[number, number]> {
  const n = runs.length;
  if (n < o.runTrigger) return [];
  const out: Array<[number, number]> = [];
  const oldest = runs[n - 1]!.bytes;
  const newer = runs.reduce((sum, r) => sum + r.bytes, 0) - oldest;
  if (newer * 100 > o.maxSpaceAmplificationPercent * oldest) out.push([0, n - 1]);
  for (let first = 0; first < n - 1; first++) {
    let gathered = runs[first]!.bytes;
    let last = first;
    while (last + 1 < n && runs[last + 1]!.bytes * 100 <= gathered * (100 + o.sizeRatioPercent)) {
      last++;
      gathered += runs[last]!.bytes;
    }
    if (last - first + 1 >= o.minMergeWidth) out.push([first, last]);
  }
  out.push([0, Math.min(n, Math.max(o.minMergeWidth, n - o.runTrigger + 1)) - 1]);
  return out;
}

/**
 * The merge to run next, or undefined when none is called for or every one
 * called for touches a file in `inProgress` or conflicts with `running`.
 */
export function pickTieredCompaction(
  version: Version,
  options: TieredOptions = DEFAULT_TIERED_OPTIONS,
  inProgress: ReadonlySet<number> = new Set(),
  running: readonly CompactionPlan[] = [],
): RunMerge | undefined {
  const runs = sortedRuns(version);
  for (const [first, last] of candidates(runs, options)) {
    const merge = mergeOf(runs, first, last);
    if (merge === undefined) continue;
    if (merge.fileNumbers().some((n) => inProgress.has(n)) || conflictsWithAny(merge, running)) continue;
    return merge;
  }
  return undefined;
}

/**
 * For compactRange under 'tiered': every run merged into one at the deepest
 * level, when some file overlaps user keys [lo, hi] (unbounded when absent).
 * Runs span the whole key space, so a range cannot be compacted alone; a
 * full merge also drops every tombstone and version no reader needs.
 */
export function pickTieredRangeCompaction(version: Version, lo?: Uint8Array, hi?: Uint8Array): RunMerge | undefined {
  let touched = false;
  for (let level = 0; level < NUM_LEVELS && !touched; level++) touched = version.overlappingFiles(level, lo, hi).length > 0;
  if (!touched) return undefined;
  const runs = sortedRuns(version);
  return mergeOf(runs, 0, runs.length - 1);
}
