// A version: the table files that make up the database at one moment, by
// level. Versions are immutable; a new one is built from an old one plus
// edits (VersionBuilder). Reads and iterators ref the version they started on
// so its files stay on disk until they finish.
//
// Invariants (checked when a version is constructed):
// - No file number appears twice.
// - Level 0 is ordered newest first: largest sequence descending, ties by file
//   number descending. Its files may overlap.
// - Levels >= 1 are ordered by key and their user-key ranges are disjoint:
//   a file's largest user key is below the next file's smallest user key (or
//   equal to it when the largest is an exclusive range-deletion bound,
//   src/version/bounds.ts), so one user key lies in at most one file per level.
import { InvalidArgumentError } from '../errors.js';
import { TRAILER_SIZE, compareInternalKeys } from '../keys.js';
import { type FileMetadata, NUM_LEVELS, type VersionEdit, checkEdit } from './edit.js';
import { compareLargestToSmallest, compareLargestToUserKey } from './bounds.js';
import { LevelIndex } from './level-index.js';

export interface LevelSummary {
  readonly level: number;
  readonly files: number;
  readonly bytes: number;
}

/** Each level array's lookup index (level arrays are frozen and shared by the versions that do not change them). */
const LEVEL_INDEXES = new WeakMap<readonly FileMetadata[], LevelIndex>();

export class Version {
  readonly levels: readonly (readonly FileMetadata[])[];
  /** The file numbers of each level. */
  readonly #numbers: ReadonlySet<number>[] = [];
  /** Each level's lookup index, taken on first use (a WeakMap lookup per level per get costs more than the search). */
  readonly #indexes: Array<LevelIndex | undefined> = [];
  /** The levels below 0 that hold files, in order: the ones a get searches. */
  readonly #deeperLevels: number[] = [];
  #refs = 0;
  #released = false;

  /**
   * Takes ownership of `levels` (and freezes them); throws InvalidArgumentError
   * if they break an invariant. A level that is the very array of `base`'s
   * same level was checked when `base` was built and is not checked again, so
   * an edit costs work in proportion to the levels it changes.
   */
  constructor(levels: readonly (readonly FileMetadata[])[], base?: Version) {
    if (levels.length !== NUM_LEVELS) throw new InvalidArgumentError(`a version has ${NUM_LEVELS} levels, got ${levels.length}`);
    const changed: number[] = [];
    for (let level = 0; level < NUM_LEVELS; level++) {
      const files = levels[level]!;
      if (base !== undefined && files === base.levels[level]) {
        this.#numbers.push(base.#numbers[level]!);
        continue;
      }
      const numbers = new Set<number>();
      for (let i = 0; i < files.length; i++) {
        if (i > 0) checkOrder(level, files[i - 1]!, files[i]!);
        numbers.add(files[i]!.number);
      }
      if (numbers.size !== files.length) throw new InvalidArgumentError(`level ${level} holds a file number twice`);
      this.#numbers.push(numbers);
      changed.push(level);
      Object.freeze(files);
    }
    // A changed level must not share a number with any other level.
    for (const level of changed) {
      for (let other = 0; other < NUM_LEVELS; other++) {
        if (other === level) continue;
        for (const f of levels[level]!) {
          if (this.#numbers[other]!.has(f.number)) throw new InvalidArgumentError(`file ${f.number} is in both level ${level} and level ${other}`);
        }
      }
    }
    this.levels = Object.freeze(levels);
    for (let level = 1; level < NUM_LEVELS; level++) if (levels[level]!.length > 0) this.#deeperLevels.push(level);
  }

  static empty(): Version {
    return new Version(Array.from({ length: NUM_LEVELS }, () => []));
  }

  // ---- Lifetime ----

  get refs(): number {
    return this.#refs;
  }

  /** Keeps this version's files alive until the matching unref. A version whose refs fell to 0 stays dead. */
  ref(): this {
    if (this.#released) throw new InvalidArgumentError('version referenced after its last reference was released');
    this.#refs++;
    return this;
  }

  unref(): void {
    if (this.#refs === 0) throw new InvalidArgumentError('version released more times than referenced');
    this.#refs--;
    if (this.#refs === 0) this.#released = true;
  }

  /** Whether it is referenced now (released versions never are again). */
  get live(): boolean {
    return this.#refs > 0;
  }

  // ---- Queries ----

  /** The level holding file `number`, or -1. */
  levelOf(number: number): number {
    for (let level = 0; level < NUM_LEVELS; level++) if (this.#numbers[level]!.has(number)) return level;
    return -1;
  }

  get fileCount(): number {
    let count = 0;
    for (const numbers of this.#numbers) count += numbers.size;
    return count;
  }

  levelFileCount(level: number): number {
    return this.#level(level).length;
  }

  levelBytes(level: number): number {
    let bytes = 0;
    for (const f of this.#level(level)) bytes += f.size;
    return bytes;
  }

  summary(): LevelSummary[] {
    return this.levels.map((files, level) => ({ level, files: files.length, bytes: this.levelBytes(level) }));
  }

  /** Every file number in this version. */
  *fileNumbers(): IterableIterator<number> {
    for (const numbers of this.#numbers) yield* numbers;
  }

  /**
   * Files whose key range contains `userKey`, in the order a read must
   * consult them: matching level-0 files newest first, then at most one file
   * per deeper level.
   */
  filesForKey(userKey: Uint8Array): FileMetadata[] {
    const out: FileMetadata[] = [];
    out.length = this.collectFilesForKey(userKey, out);
    return out;
  }

  /**
   * filesForKey into `out[at..at + n)`, returning n; what `out` holds
   * elsewhere is left as it was. The read path reuses one array this way:
   * truncating it would drop its storage, and each get would allocate it
   * again. `staged`: the address of a copy of the key in linear memory, if
   * the caller has one (LevelIndex.collectContaining).
   */
  collectFilesForKey(userKey: Uint8Array, out: FileMetadata[], staged?: number, at = 0): number {
    const levels = this.levels;
    let n = at + (levels[0]!.length > 0 ? this.levelIndex(0).collectContaining(userKey, levels[0]!, out, staged, at) : 0);
    for (const level of this.#deeperLevels) {
      const i = this.levelIndex(level).find(userKey, staged);
      if (i >= 0) out[n++] = levels[level]![i]!;
    }
    return n - at;
  }

  /** The lookup index of a level's bounds, made on first use; versions that share the level share it. */
  levelIndex(level: number): LevelIndex {
    const known = this.#indexes[level];
    if (known !== undefined) return known;
    const files = this.#level(level);
    let index = LEVEL_INDEXES.get(files);
    if (index === undefined) LEVEL_INDEXES.set(files, (index = new LevelIndex(files)));
    this.#indexes[level] = index;
    return index;
  }

  /**
   * Files of `level` whose user-key range meets [lo, hi] (inclusive; an
   * undefined bound is unbounded), in the level's order.
   */
  overlappingFiles(level: number, lo?: Uint8Array, hi?: Uint8Array): FileMetadata[] {
    const files = this.#level(level);
    const meets = (f: FileMetadata): boolean =>
      (lo === undefined || compareLargestToUserKey(f.largest, lo) >= 0) && (hi === undefined || compareUserKey(f.smallest, hi) <= 0);
    if (level === 0) return files.filter(meets);
    const out: FileMetadata[] = [];
    for (let i = lo === undefined ? 0 : firstEndingAtOrAfter(files, lo); i < files.length && meets(files[i]!); i++) {
      out.push(files[i]!);
    }
    return out;
  }

  #level(level: number): readonly FileMetadata[] {
    const files = this.levels[level];
    if (files === undefined) throw new InvalidArgumentError(`level ${level} is not in 0..${NUM_LEVELS - 1}`);
    return files;
  }
}

/** Applies edits to a base version. After apply throws, discard the builder. */
export class VersionBuilder {
  readonly #base: Version;
  readonly #deleted: Set<number>[] = Array.from({ length: NUM_LEVELS }, () => new Set<number>());
  readonly #added: Map<number, FileMetadata>[] = Array.from({ length: NUM_LEVELS }, () => new Map<number, FileMetadata>());

  constructor(base: Version) {
    this.#base = base;
  }

  /** Deletions first, then additions. Throws InvalidArgumentError for a missing or duplicate file. */
  apply(edit: VersionEdit): void {
    checkEdit(edit);
    for (const { level, number } of edit.deletedFiles) {
      if (this.#added[level]!.delete(number)) continue;
      if (this.#base.levelOf(number) !== level || this.#deleted[level]!.has(number)) {
        throw new InvalidArgumentError(`cannot delete file ${number} from level ${level}: it is not there`);
      }
      this.#deleted[level]!.add(number);
    }
    for (const { level, meta } of edit.newFiles) {
      const present = this.#levelOf(meta.number);
      if (present >= 0) throw new InvalidArgumentError(`cannot add file ${meta.number} to level ${level}: it is in level ${present}`);
      this.#added[level]!.set(meta.number, meta);
    }
  }

  /** The resulting version; throws InvalidArgumentError if files of a level >= 1 overlap. */
  build(): Version {
    const levels: (readonly FileMetadata[])[] = [];
    for (let level = 0; level < NUM_LEVELS; level++) {
      const base = this.#base.levels[level]!;
      const deleted = this.#deleted[level]!;
      const added = this.#added[level]!;
      if (deleted.size === 0 && added.size === 0) {
        levels.push(base); // unchanged: share the frozen array
        continue;
      }
      const kept = base.filter((f) => !deleted.has(f.number));
      const order = level === 0 ? newestFirst : bySmallestKey;
      levels.push(mergeSorted(kept, [...added.values()].sort(order), order));
    }
    return new Version(levels, this.#base);
  }

  #levelOf(number: number): number {
    for (let level = 0; level < NUM_LEVELS; level++) if (this.#added[level]!.has(number)) return level;
    const level = this.#base.levelOf(number);
    return level >= 0 && !this.#deleted[level]!.has(number) ? level : -1;
  }
}

// ---- Orders and comparisons ----

function newestFirst(a: FileMetadata, b: FileMetadata): number {
  return b.largestSeq - a.largestSeq || b.number - a.number;
}

function bySmallestKey(a: FileMetadata, b: FileMetadata): number {
  return compareInternalKeys(a.smallest, b.smallest);
}

function checkOrder(level: number, prev: FileMetadata, next: FileMetadata): void {
  if (level === 0) {
    if (newestFirst(prev, next) >= 0) {
      throw new InvalidArgumentError(`level 0: file ${prev.number} must come after file ${next.number} (newest first)`);
    }
  } else if (compareLargestToSmallest(prev.largest, next.smallest) >= 0) {
    throw new InvalidArgumentError(`level ${level}: files ${prev.number} and ${next.number} overlap or are out of order`);
  }
}

function mergeSorted<T>(a: readonly T[], b: readonly T[], order: (x: T, y: T) => number): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(order(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Index of the first file of a sorted level, at or after `from`, whose range reaches userKey (files.length if none). */
export function firstEndingAtOrAfter(files: ReadonlyArray<{ readonly largest: Uint8Array }>, userKey: Uint8Array, from = 0): number {
  let lo = from;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareLargestToUserKey(files[mid]!.largest, userKey) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bytewise order of the user-key part of internal key `ikey` against user key `userKey`. */
export function compareUserKey(ikey: Uint8Array, userKey: Uint8Array): number {
  return compareBytePrefixes(ikey, ikey.length - TRAILER_SIZE, userKey, userKey.length);
}

/** Bytewise order of a[0..aLen) and b[0..bLen). */
function compareBytePrefixes(a: Uint8Array, aLen: number, b: Uint8Array, bLen: number): number {
  const n = Math.min(aLen, bLen);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return aLen - bLen;
}
