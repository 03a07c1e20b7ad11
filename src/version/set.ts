// The version set: the current version, the versions still referenced by
// reads in flight, and the counters the MANIFEST records (next file number,
// last sequence, log number). Every change goes through logAndApply, which
// makes its edit durable in the MANIFEST before installing the new version,
// one edit at a time, in call order.
//
// After a MANIFEST write fails the set is poisoned: what reached the disk is
// unknown, so every later change is refused with ReadOnlyError.
import { CorruptionError, InvalidArgumentError, ReadOnlyError } from '../errors.js';
import { MAX_SEQUENCE } from '../keys.js';
import { COMPARATOR_NAME, type FileMetadata, type VersionEdit, decodeVersionEdit, encodeVersionEdit } from './edit.js';
import { Version, VersionBuilder } from './version.js';

/** Where encoded edits go: the open MANIFEST (src/version/manifest.ts). */
export interface ManifestSink {
  /** Appends one record; resolves once it is durable, rejects if it may not be. */
  append(payload: Uint8Array): Promise<void>;
}

/**
 * Starts a fresh MANIFEST whose first record is `snapshot` (a whole-state
 * edit), makes CURRENT name it, and returns its sink. Allocate the new
 * MANIFEST's file number with newFileNumber() before asking for the snapshot.
 */
export type ManifestOpener = (snapshot: Uint8Array) => Promise<ManifestSink>;

export class VersionSet {
  #current: Version;
  /** Every installed version that may still be referenced; pruned lazily. */
  readonly #live = new Set<Version>();
  #nextFileNumber = 1;
  #lastSequence = 0;
  #logNumber = 0;
  #sink: ManifestSink | undefined;
  /** Tail of the queue of manifest changes; never rejects. */
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown = undefined;
  #failed = false;
  #changed = false;

  constructor() {
    this.#current = Version.empty();
    this.#install(this.#current);
  }

  get current(): Version {
    return this.#current;
  }

  /** The current version, referenced for the caller, who must unref it. */
  refCurrent(): Version {
    return this.#current.ref();
  }

  // ---- Counters ----

  get nextFileNumber(): number {
    return this.#nextFileNumber;
  }

  /** Allocates a file number (tables, WALs, MANIFESTs share one sequence). */
  newFileNumber(): number {
    if (this.#nextFileNumber >= MAX_SEQUENCE) throw new InvalidArgumentError('file numbers exhausted');
    return this.#nextFileNumber++;
  }

  /** Ensures `number` is never allocated again (a WAL or MANIFEST found on disk during recovery). */
  markFileNumberUsed(number: number): void {
    if (!Number.isSafeInteger(number) || number < 0) throw new InvalidArgumentError(`file number ${number} is not an integer in [0, 2^53)`);
    if (number >= this.#nextFileNumber) this.#nextFileNumber = number + 1;
  }

  get lastSequence(): number {
    return this.#lastSequence;
  }

  /** The sequence of the newest write applied to the memtable; it never goes back. */
  set lastSequence(seq: number) {
    if (!Number.isSafeInteger(seq) || seq < this.#lastSequence) {
      throw new InvalidArgumentError(`last sequence must be an integer in [${this.#lastSequence}, 2^53), got ${seq}`);
    }
    this.#lastSequence = seq;
  }

  /** WALs numbered below this are obsolete. */
  get logNumber(): number {
    return this.#logNumber;
  }

  /** The error that poisoned the set, if a MANIFEST write failed. */
  get failure(): unknown {
    return this.#failure;
  }

  get failed(): boolean {
    return this.#failed;
  }

  // ---- Recovery ----

  /**
   * Rebuilds the state from a MANIFEST's edits, in order, starting from an
   * empty version. Runs once, before any other change. Any malformed or
   * inconsistent edit is a CorruptionError naming `fileName` and the record.
   */
  recover(payloads: readonly Uint8Array[], fileName: string): void {
    if (this.#changed) throw new InvalidArgumentError('recover runs once, on a fresh version set');
    if (payloads.length === 0) throw new CorruptionError(`${fileName}: the MANIFEST holds no version edits`);
    const builder = new VersionBuilder(this.#current);
    let logNumber: number | undefined;
    let nextFileNumber: number | undefined;
    let lastSequence: number | undefined;
    payloads.forEach((payload, record) => {
      const edit = decodeVersionEdit(payload, fileName, record);
      const corrupt = (problem: string, cause?: unknown): CorruptionError =>
        new CorruptionError(`${fileName}: version edit record ${record}: ${problem}`, { cause });
      if (edit.comparator !== undefined && edit.comparator !== COMPARATOR_NAME) {
        throw corrupt(`written with comparator '${edit.comparator}', varve knows only '${COMPARATOR_NAME}'`);
      }
      logNumber = monotonic('log number', logNumber, edit.logNumber, corrupt);
      nextFileNumber = monotonic('next file number', nextFileNumber, edit.nextFileNumber, corrupt);
      lastSequence = monotonic('last sequence', lastSequence, edit.lastSequence, corrupt);
      try {
        builder.apply(edit);
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw corrupt(err.message, err);
        throw err;
      }
    });
    if (logNumber === undefined || nextFileNumber === undefined || lastSequence === undefined) {
      throw new CorruptionError(`${fileName}: no log number, next file number or last sequence in any version edit`);
    }
    let version: Version;
    try {
      version = builder.build();
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new CorruptionError(`${fileName}: ${err.message}`, { cause: err });
      throw err;
    }
    const problem =
      logNumberProblem(logNumber, nextFileNumber) ?? filesProblem(version.levels.flat(), nextFileNumber, lastSequence);
    if (problem !== null) throw new CorruptionError(`${fileName}: ${problem}`);
    this.#logNumber = logNumber;
    // Numbers handed out before recovery (none, normally) stay taken.
    this.#nextFileNumber = Math.max(this.#nextFileNumber, nextFileNumber);
    this.#lastSequence = lastSequence;
    this.#changed = true;
    this.#install(version);
  }

  // ---- Changes ----

  /**
   * Queues `edit`; at its turn fills in nextFileNumber and lastSequence,
   * builds the new version, appends the edit to the MANIFEST and, once that
   * is durable, installs the version and returns it (unreferenced: ref it to
   * keep it). An edit inconsistent with the current version is refused with
   * InvalidArgumentError before anything is written; a failed append rejects
   * and poisons the set. `edit` is read at its turn: do not change it after
   * the call.
   */
  logAndApply(edit: VersionEdit): Promise<Version> {
    this.#changed = true;
    return this.#enqueue(() => this.#logAndApply(edit));
  }

  /**
   * Queues a switch to a fresh MANIFEST: at its turn, passes the encoded
   * snapshotEdit() to `open` and sends later edits to the sink it returns.
   * Used once after recovery (or on a new database) and whenever the
   * MANIFEST has grown large. A failure poisons the set.
   */
  useManifest(open: ManifestOpener): Promise<void> {
    this.#changed = true;
    return this.#enqueue(async () => {
      const snapshot = encodeVersionEdit(this.snapshotEdit());
      this.#sink = await this.#durably(() => open(snapshot));
    });
  }

  /** An edit that rebuilds the whole current state from nothing. */
  snapshotEdit(): VersionEdit {
    const newFiles = this.#current.levels.flatMap((files, level) => files.map((meta) => ({ level, meta })));
    return {
      comparator: COMPARATOR_NAME,
      logNumber: this.#logNumber,
      nextFileNumber: this.#nextFileNumber,
      lastSequence: this.#lastSequence,
      deletedFiles: [],
      newFiles,
    };
  }

  // ---- Files ----

  /** Numbers of every table in any version still referenced (the current one included). */
  liveFiles(): Set<number> {
    this.#prune();
    const numbers = new Set<number>();
    for (const version of this.#live) for (const n of version.fileNumbers()) numbers.add(n);
    return numbers;
  }

  // ---- Internals ----

  #enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#failed) throw new ReadOnlyError('the MANIFEST could not be written; no further changes are accepted', { cause: this.#failure });
      return step();
    });
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #logAndApply(edit: VersionEdit): Promise<Version> {
    const sink = this.#sink;
    if (sink === undefined) throw new InvalidArgumentError('no MANIFEST is open: call useManifest first');
    if (edit.comparator !== undefined || edit.nextFileNumber !== undefined || edit.lastSequence !== undefined) {
      throw new InvalidArgumentError('logAndApply fills in comparator, nextFileNumber and lastSequence itself');
    }
    const full: VersionEdit = { ...edit, nextFileNumber: this.#nextFileNumber, lastSequence: this.#lastSequence };
    const builder = new VersionBuilder(this.#current);
    builder.apply(full);
    const version = builder.build();
    const logNumber = full.logNumber ?? this.#logNumber;
    if (logNumber < this.#logNumber) throw new InvalidArgumentError(`log number ${logNumber} is below the current ${this.#logNumber}`);
    // Files already in the version passed these checks when added, and the counters only grow.
    const added = full.newFiles.map((f) => f.meta);
    const problem = logNumberProblem(logNumber, this.#nextFileNumber) ?? filesProblem(added, this.#nextFileNumber, this.#lastSequence);
    if (problem !== null) throw new InvalidArgumentError(problem);
    const payload = encodeVersionEdit(full);
    await this.#durably(() => sink.append(payload));
    this.#logNumber = logNumber;
    this.#install(version);
    return version;
  }

  /** Runs a MANIFEST write; if it fails, poisons the set and rethrows. */
  async #durably<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      this.#failed = true;
      this.#failure = err;
      throw err;
    }
  }

  #install(version: Version): void {
    version.ref();
    const old = this.#current;
    this.#current = version;
    if (old !== version) old.unref();
    this.#live.add(version);
    this.#prune();
  }

  #prune(): void {
    for (const version of this.#live) if (!version.live) this.#live.delete(version);
  }
}

/** A counter that later edits may raise but never lower. */
function monotonic(
  name: string,
  prev: number | undefined,
  next: number | undefined,
  corrupt: (problem: string) => CorruptionError,
): number | undefined {
  if (next === undefined) return prev;
  if (prev !== undefined && next < prev) throw corrupt(`${name} went back from ${prev} to ${next}`);
  return next;
}

/** Why the log number cannot stand with the next file number, or null. */
function logNumberProblem(logNumber: number, nextFileNumber: number): string | null {
  return logNumber >= nextFileNumber && logNumber !== 0 ? `log number ${logNumber} was never allocated (next file number ${nextFileNumber})` : null;
}

/** Why these files cannot stand with the counters, or null. */
function filesProblem(files: Iterable<FileMetadata>, nextFileNumber: number, lastSequence: number): string | null {
  for (const f of files) {
    if (f.number >= nextFileNumber) return `file ${f.number} was never allocated (next file number ${nextFileNumber})`;
    if (f.largestSeq > lastSequence) return `file ${f.number} holds sequence ${f.largestSeq}, beyond the last sequence ${lastSequence}`;
  }
  return null;
}
