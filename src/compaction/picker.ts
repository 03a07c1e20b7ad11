// The leveled compaction picker: pure decisions over a Version about which
// files to merge next. It reads no file and writes none; the engine runs the
// Compaction it returns and installs `compaction.edit(outputs)`.
//
// Scores: level 0 counts files against l0CompactionTrigger (every L0 file may
// cost a read a lookup); a level L >= 1 compares its bytes with its target
// maxBytesForLevelBase * levelMultiplier^(L-1). The last level has no score:
// there is nowhere to compact it to. The level with the highest score >= 1
// compacts first.
//
// Inputs: at level 0, a seed file (oldest first) and every L0 file that
// overlaps it, transitively, so no newer version of a key stays above an
// older one moved down. At L >= 1, one file chosen round-robin after the
// level's compact pointer. Then the files of L+1 overlapping the inputs'
// user-key range, then more files of L if they fit inside that range without
// touching another L+1 file (LevelDB's expansion), bounded by maxExpandedBytes.
import { InvalidArgumentError } from '../errors.js';
import { type FileMetadata, NUM_LEVELS, type VersionEdit } from '../version/edit.js';
import { compareUserKey, firstEndingAtOrAfter, type Version } from '../version/version.js';
import { compareBytes } from '../keys.js';
import { type CompactionPlan, conflictsWithAny, totalBytes, userKeyOfInternal, userKeyRange } from './plan.js';
import { compareLargestToUserKey, upperUserKey } from '../version/bounds.js';

export interface CompactionOptions {
  /** Level-0 file count at which level 0 scores 1. Default 4 (LevelDB's). */
  readonly l0CompactionTrigger: number;
  /**
   * Target bytes of level 1. Default 8 MiB: two 4 MiB memtables' worth, so a
   * small process keeps a shallow tree and compactions that take well under a
   * second on a small machine.
   */
  readonly maxBytesForLevelBase: number;
  /** Each level's target is this many times the one above. Default 10. */
  readonly levelMultiplier: number;
  /** Size at which the engine cuts compaction outputs. Default 2 MiB. */
  readonly targetFileSize: number;
  /**
   * A trivial move is refused, and the engine cuts an output, when the file
   * would overlap more than this many bytes of level L+2: the later compaction
   * of that file would be that big. Default 10 x targetFileSize.
   */
  readonly maxGrandparentOverlapBytes: number;
  /** Expanding the level-L inputs stops at this many input bytes in all. Default 25 x targetFileSize. */
  readonly maxExpandedBytes: number;
}

const MiB = 1024 * 1024;
const NOTHING_IN_PROGRESS: ReadonlySet<number> = new Set();

export const DEFAULT_COMPACTION_OPTIONS: CompactionOptions = Object.freeze({
  l0CompactionTrigger: 4,
  maxBytesForLevelBase: 8 * MiB,
  levelMultiplier: 10,
  targetFileSize: 2 * MiB,
  maxGrandparentOverlapBytes: 20 * MiB,
  maxExpandedBytes: 50 * MiB,
});

/**
 * Fills in defaults and validates. The two overlap limits default to 10x and
 * 25x the given targetFileSize when not given themselves.
 */
export function resolveCompactionOptions(options: Partial<CompactionOptions> = {}): CompactionOptions {
  const targetFileSize = options.targetFileSize ?? DEFAULT_COMPACTION_OPTIONS.targetFileSize;
  const resolved: CompactionOptions = {
    l0CompactionTrigger: options.l0CompactionTrigger ?? DEFAULT_COMPACTION_OPTIONS.l0CompactionTrigger,
    maxBytesForLevelBase: options.maxBytesForLevelBase ?? DEFAULT_COMPACTION_OPTIONS.maxBytesForLevelBase,
    levelMultiplier: options.levelMultiplier ?? DEFAULT_COMPACTION_OPTIONS.levelMultiplier,
    targetFileSize,
    maxGrandparentOverlapBytes: options.maxGrandparentOverlapBytes ?? 10 * targetFileSize,
    maxExpandedBytes: options.maxExpandedBytes ?? 25 * targetFileSize,
  };
  integerIn('l0CompactionTrigger', resolved.l0CompactionTrigger, 1, 1000);
  integerIn('maxBytesForLevelBase', resolved.maxBytesForLevelBase, 1, Number.MAX_SAFE_INTEGER);
  integerIn('levelMultiplier', resolved.levelMultiplier, 2, 100);
  integerIn('targetFileSize', resolved.targetFileSize, 1, Number.MAX_SAFE_INTEGER);
  integerIn('maxGrandparentOverlapBytes', resolved.maxGrandparentOverlapBytes, 0, Number.MAX_SAFE_INTEGER);
  integerIn('maxExpandedBytes', resolved.maxExpandedBytes, 0, Number.MAX_SAFE_INTEGER);
  return Object.freeze(resolved);
}

function integerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`compaction option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

/** Target bytes of `level` (1..NUM_LEVELS-1); level 0 is governed by its file count instead. */
export function levelTargetBytes(options: CompactionOptions, level: number): number {
  if (!Number.isInteger(level) || level < 1 || level >= NUM_LEVELS) {
    throw new InvalidArgumentError(`level ${level} has no byte target (levels 1..${NUM_LEVELS - 1} do)`);
  }
  return options.maxBytesForLevelBase * options.levelMultiplier ** (level - 1);
}

/**
 * The score of each level 0..NUM_LEVELS-2 (index = level); the last level has
 * none. Files in `inProgress` are not counted: work already running does not
 * call for more (RocksDB's rule too).
 */
export function scores(version: Version, options: CompactionOptions, inProgress: ReadonlySet<number> = NOTHING_IN_PROGRESS): number[] {
  const idle = (level: number): FileMetadata[] => version.levels[level]!.filter((f) => !inProgress.has(f.number));
  const out = [idle(0).length / options.l0CompactionTrigger];
  for (let level = 1; level < NUM_LEVELS - 1; level++) out.push(totalBytes(idle(level)) / levelTargetBytes(options, level));
  return out;
}

/**
 * Per level, the largest user key of the last compaction picked there, so
 * successive compactions of a level walk its key space round-robin. The
 * engine keeps one across picks; it lives in memory only (after a restart,
 * each level starts again from its first file).
 */
export class CompactPointers {
  readonly #keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(NUM_LEVELS).fill(undefined);

  get(level: number): Uint8Array | undefined {
    return this.#keys[checkLevel(level)];
  }

  set(level: number, userKey: Uint8Array): void {
    this.#keys[checkLevel(level)] = userKey.slice();
  }
}

function checkLevel(level: number): number {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS) throw new InvalidArgumentError(`level ${level} is not in 0..${NUM_LEVELS - 1}`);
  return level;
}

/** One merge of files at `level` with the overlapping files at `outputLevel` = level + 1. */
export class Compaction implements CompactionPlan {
  readonly level: number;
  readonly outputLevel: number;
  /** Inputs at `level` in the level's order (level 0: newest first). */
  readonly inputs: readonly FileMetadata[];
  /** Inputs at `outputLevel`, ordered by key. */
  readonly outputLevelInputs: readonly FileMetadata[];
  /** Files of outputLevel + 1 overlapping the whole input range, by key: the engine cuts outputs so none overlaps too much of them. */
  readonly grandparents: readonly FileMetadata[];
  /** One file moves to outputLevel unchanged: `edit()` with no outputs; no table is written. */
  readonly trivialMove: boolean;
  /** Smallest and largest user keys over all inputs (largest undefined: unbounded, from a range deletion). */
  readonly smallestUserKey: Uint8Array;
  readonly largestUserKey: Uint8Array | undefined;
  /** The levels below outputLevel, for keyMayExistBelow. */
  readonly #deeper: readonly (readonly FileMetadata[])[];
  /** Per deeper level, the file index the last keyMayExistBelow call stopped at. */
  readonly #cursors: number[];

  constructor(
    version: Version,
    level: number,
    inputs: readonly FileMetadata[],
    outputLevelInputs: readonly FileMetadata[],
    grandparents: readonly FileMetadata[],
    trivialMove: boolean,
  ) {
    this.level = level;
    this.outputLevel = level + 1;
    this.inputs = inputs;
    this.outputLevelInputs = outputLevelInputs;
    this.grandparents = grandparents;
    this.trivialMove = trivialMove;
    const [lo, hi] = userKeyRange([...inputs, ...outputLevelInputs]);
    this.smallestUserKey = lo;
    this.largestUserKey = hi;
    this.#deeper = version.levels.slice(level + 2);
    this.#cursors = this.#deeper.map(() => 0);
  }

  /** Inputs of both levels. */
  get inputFiles(): readonly FileMetadata[] {
    return [...this.inputs, ...this.outputLevelInputs];
  }

  /** Bytes of all input files. */
  get inputBytes(): number {
    return totalBytes(this.inputs) + totalBytes(this.outputLevelInputs);
  }

  /** Numbers of all input files (for the engine's set of files being compacted). */
  fileNumbers(): number[] {
    return [...this.inputs, ...this.outputLevelInputs].map((f) => f.number);
  }

  /**
   * Whether a level deeper than outputLevel has a file whose range holds
   * `userKey`. When not, the output is the key's bottom-most home: a deletion
   * of it that no snapshot needs can be dropped. Any order of keys is
   * answered right; ascending keys, as a compaction asks them, mostly cost one
   * comparison per level (a per-level cursor), otherwise a binary search.
   */
  keyMayExistBelow(userKey: Uint8Array): boolean {
    let found = false;
    // Every level is sought, even after a hit, so each cursor stays current.
    for (let d = 0; d < this.#deeper.length; d++) {
      const files = this.#deeper[d]!;
      const i = this.#seekLevel(d, files, userKey);
      this.#cursors[d] = i;
      if (!found && i < files.length && compareUserKey(files[i]!.smallest, userKey) <= 0) found = true;
    }
    return found;
  }

  /** The first file of `files` whose largest user key is >= userKey, searched from the level's cursor when that is valid. */
  #seekLevel(d: number, files: readonly FileMetadata[], userKey: Uint8Array): number {
    const c = this.#cursors[d]!;
    const cursorValid = c === 0 || compareLargestToUserKey(files[c - 1]!.largest, userKey) < 0;
    if (!cursorValid) return firstEndingAtOrAfter(files, userKey, 0);
    if (c === files.length || compareLargestToUserKey(files[c]!.largest, userKey) >= 0) return c;
    return firstEndingAtOrAfter(files, userKey, c + 1);
  }

  /**
   * The edit that installs this compaction: every input deleted, `outputs`
   * added at outputLevel. Without outputs (trivial moves only) the one input
   * moves to outputLevel as it is.
   */
  edit(outputs?: readonly FileMetadata[]): VersionEdit {
    if (outputs === undefined && !this.trivialMove) {
      throw new InvalidArgumentError('only a trivial move installs without outputs');
    }
    const deletedFiles = [
      ...this.inputs.map((f) => ({ level: this.level, number: f.number })),
      ...this.outputLevelInputs.map((f) => ({ level: this.outputLevel, number: f.number })),
    ];
    const added = outputs ?? this.inputs;
    return { deletedFiles, newFiles: added.map((meta) => ({ level: this.outputLevel, meta })) };
  }
}

/**
 * The compaction to run next, or undefined when no level scores >= 1 or every
 * candidate would touch a file in `inProgress` (file numbers being compacted)
 * or conflict with one of `running` (src/compaction/plan.ts).
 * Levels are tried by score, highest first; within a level, seeds are tried in
 * turn until one gives a compaction free of in-progress files. Picking a level
 * >= 1 advances its pointer in `pointers` (omit it and every pick of a level
 * starts at its first file).
 */
export function pickCompaction(
  version: Version,
  options: CompactionOptions,
  inProgress: ReadonlySet<number> = NOTHING_IN_PROGRESS,
  pointers: CompactPointers = new CompactPointers(),
  running: readonly CompactionPlan[] = [],
): Compaction | undefined {
  const levelScores = scores(version, options, inProgress);
  const ranked = levelScores
    .map((score, level) => ({ score, level }))
    .filter((s) => s.score >= 1)
    .sort((a, b) => b.score - a.score || a.level - b.level);
  for (const { level } of ranked) {
    const compaction =
      level === 0 ? pickLevel0(version, options, inProgress, running) : pickLevel(version, options, level, inProgress, pointers, running);
    if (compaction !== undefined) return compaction;
  }
  return undefined;
}

/** Seeks a file must be looked past before it is compacted: one per 16 KiB, at least 100 (LevelDB's allowed_seeks). */
export function allowedSeeks(file: FileMetadata): number {
  return Math.max(100, Math.floor(file.size / 16384));
}

/**
 * LevelDB's seek compaction: seeks have looked past file `number` so often
 * (allowedSeeks) that merging it into the next level costs less than those
 * seeks go on costing. Level 0 takes the file's overlapping closure. Undefined
 * when the file is gone, at the last level, busy, or its compaction conflicts.
 */
export function pickSeekCompaction(
  version: Version,
  options: CompactionOptions,
  number: number,
  inProgress: ReadonlySet<number> = NOTHING_IN_PROGRESS,
  running: readonly CompactionPlan[] = [],
): Compaction | undefined {
  const level = version.levelOf(number);
  if (level < 0 || level === NUM_LEVELS - 1 || inProgress.has(number)) return undefined;
  const file = version.levels[level]!.find((f) => f.number === number)!;
  const inputs = level === 0 ? level0Closure(version, file.smallest, file.largest) : [file];
  const compaction = setUpCompaction(version, options, level, inputs, inProgress);
  return compaction === undefined || conflictsWithAny(compaction, running) ? undefined : compaction;
}

/** Seeds oldest first: the oldest L0 files hold the data most overdue to move down. */
function pickLevel0(
  version: Version,
  options: CompactionOptions,
  inProgress: ReadonlySet<number>,
  running: readonly CompactionPlan[],
): Compaction | undefined {
  const files = version.levels[0]!;
  for (let i = files.length - 1; i >= 0; i--) {
    const seed = files[i]!;
    if (inProgress.has(seed.number)) continue;
    const inputs = level0Closure(version, seed.smallest, seed.largest);
    const compaction = setUpCompaction(version, options, 0, inputs, inProgress);
    if (compaction !== undefined && !conflictsWithAny(compaction, running)) return compaction;
  }
  return undefined;
}

/** Seeds round-robin: the first file ending after the pointer, then on, wrapping. */
function pickLevel(
  version: Version,
  options: CompactionOptions,
  level: number,
  inProgress: ReadonlySet<number>,
  pointers: CompactPointers,
  running: readonly CompactionPlan[],
): Compaction | undefined {
  const files = version.levels[level]!;
  const pointer = pointers.get(level);
  const start = pointer === undefined ? 0 : firstEndingAfter(files, pointer) % Math.max(files.length, 1);
  for (let n = 0; n < files.length; n++) {
    const seed = files[(start + n) % files.length]!;
    if (inProgress.has(seed.number)) continue;
    const compaction = setUpCompaction(version, options, level, [seed], inProgress);
    if (compaction === undefined || conflictsWithAny(compaction, running)) continue;
    pointers.set(level, userKeyOfInternal(compaction.inputs[compaction.inputs.length - 1]!.largest));
    return compaction;
  }
  return undefined;
}

/**
 * Adds the output-level inputs, expands the level inputs where that adds no
 * output-level file, and decides on a trivial move. Undefined when a needed
 * file is in progress.
 */
function setUpCompaction(
  version: Version,
  options: CompactionOptions,
  level: number,
  seedInputs: readonly FileMetadata[],
  inProgress: ReadonlySet<number>,
): Compaction | undefined {
  let inputs = seedInputs;
  if (anyIn(inputs, inProgress)) return undefined;
  const [lo, hi] = userKeyRange(inputs);
  let outputLevelInputs = version.overlappingFiles(level + 1, lo, hi);
  if (anyIn(outputLevelInputs, inProgress)) return undefined;

  if (outputLevelInputs.length > 0) {
    const [allLo, allHi] = userKeyRange([...inputs, ...outputLevelInputs]);
    const expanded = overlappingInputs(version, level, allLo, allHi);
    if (
      expanded.length > inputs.length &&
      !anyIn(expanded, inProgress) &&
      totalBytes(expanded) + totalBytes(outputLevelInputs) < options.maxExpandedBytes
    ) {
      const [expLo, expHi] = userKeyRange(expanded);
      const expandedOutputLevel = version.overlappingFiles(level + 1, expLo, expHi);
      if (expandedOutputLevel.length === outputLevelInputs.length) {
        inputs = expanded;
        outputLevelInputs = expandedOutputLevel;
      }
    }
  }

  const grandparents = grandparentsOf(version, level, [...inputs, ...outputLevelInputs]);
  const trivialMove =
    inputs.length === 1 && outputLevelInputs.length === 0 && totalBytes(grandparents) <= options.maxGrandparentOverlapBytes;
  return new Compaction(version, level, inputs, outputLevelInputs, grandparents, trivialMove);
}

function grandparentsOf(version: Version, level: number, inputs: readonly FileMetadata[]): FileMetadata[] {
  if (level + 2 >= NUM_LEVELS) return [];
  const [lo, hi] = userKeyRange(inputs);
  return version.overlappingFiles(level + 2, lo, hi);
}

/**
 * For compactRange: the files of `level` overlapping user keys [lo, hi] (an
 * undefined bound is unbounded; at level 0 closed under overlap) and the files
 * of level + 1 overlapping them. Undefined when `level` has no such file. A
 * range compaction always rewrites (never a trivial move) and is not expanded.
 * The caller makes sure none of its files is being compacted.
 */
export function pickRangeCompaction(version: Version, level: number, lo?: Uint8Array, hi?: Uint8Array): Compaction | undefined {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS - 1) {
    throw new InvalidArgumentError(`a range compaction starts at a level in 0..${NUM_LEVELS - 2}, got ${level}`);
  }
  const inputs =
    level === 0 ? level0ClosureOfRange(version, lo, hi) : version.overlappingFiles(level, lo, hi);
  if (inputs.length === 0) return undefined;
  const [inLo, inHi] = userKeyRange(inputs);
  const outputLevelInputs = version.overlappingFiles(level + 1, inLo, inHi);
  const grandparents = grandparentsOf(version, level, [...inputs, ...outputLevelInputs]);
  return new Compaction(version, level, inputs, outputLevelInputs, grandparents, false);
}

/**
 * The levels a manual compaction of user keys [lo, hi] over the whole tree
 * compacts, top to bottom: from the first level with a file in the range down
 * to the level above the deepest such level (each compaction fills the next
 * level, so levels empty now are included). Level 0 data always moves to
 * level 1 at least; a range held by one level >= 1 alone is left in place.
 * The engine picks each with pickRangeCompaction on the then-current version.
 */
export function compactionsForRange(version: Version, lo?: Uint8Array, hi?: Uint8Array): number[] {
  let first = -1;
  let deepest = -1;
  for (let level = 0; level < NUM_LEVELS; level++) {
    if (version.overlappingFiles(level, lo, hi).length === 0) continue;
    if (first < 0) first = level;
    deepest = level;
  }
  if (first < 0) return [];
  const levels: number[] = [];
  for (let level = first; level < Math.max(deepest, 1); level++) levels.push(level);
  return levels;
}

// ---- Key ranges ----

/** The inputs of `level` overlapping [lo, hi]; at level 0 closed under overlap. */
function overlappingInputs(version: Version, level: number, lo: Uint8Array, hi: Uint8Array | undefined): readonly FileMetadata[] {
  return level === 0 ? level0ClosureOfRange(version, lo, hi) : version.overlappingFiles(level, lo, hi);
}

function level0Closure(version: Version, smallest: Uint8Array, largest: Uint8Array): FileMetadata[] {
  return level0ClosureOfRange(version, userKeyOfInternal(smallest), upperUserKey(largest));
}

/**
 * The level-0 files overlapping [lo, hi], widened until no other level-0 file
 * overlaps the range they span. Unbounded sides stay unbounded.
 */
function level0ClosureOfRange(version: Version, lo?: Uint8Array, hi?: Uint8Array): FileMetadata[] {
  let files = version.overlappingFiles(0, lo, hi);
  for (;;) {
    if (files.length === 0) return files;
    const [spanLo, spanHi] = userKeyRange(files);
    const wideLo = lo === undefined || compareBytes(spanLo, lo) >= 0 ? lo : spanLo;
    const wideHi = hi === undefined || (spanHi !== undefined && compareBytes(spanHi, hi) <= 0) ? hi : spanHi;
    if (wideLo === lo && wideHi === hi) return files;
    lo = wideLo;
    hi = wideHi;
    files = version.overlappingFiles(0, lo, hi);
  }
}

function anyIn(files: readonly FileMetadata[], numbers: ReadonlySet<number>): boolean {
  if (numbers.size === 0) return false;
  for (const f of files) if (numbers.has(f.number)) return true;
  return false;
}

/** Index of the first file of a sorted level whose largest user key is > userKey (files.length if none). */
function firstEndingAfter(files: readonly FileMetadata[], userKey: Uint8Array): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareLargestToUserKey(files[mid]!.largest, userKey) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

