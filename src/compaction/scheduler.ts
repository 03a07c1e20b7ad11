// Running compactions: pick (src/compaction/picker.ts, or
// src/compaction/tiered-picker.ts), merge the inputs in a table worker
// (src/flush/table-workers.ts: a thread with its own WebAssembly instance,
// shared with flushes), which reads them and writes its
// outputs itself when the FileSystem is node:fs (src/compaction/local-io.ts),
// else piece by piece through this thread (src/compaction/compaction-files.ts),
// make the outputs durable, install them with one MANIFEST edit, and only
// then forget and delete the inputs. A trivial move is one edit and no I/O.
//
// Up to maxBackgroundCompactions run at once, each in its own worker, when
// they do not conflict (src/compaction/plan.ts): their input files are
// marked busy, and pickers skip busy files and conflicting compactions.
// More than one runs only while writes arrive (RocksDB's old
// base_background_compactions): the extra workers are there to keep up with
// writers; with none, the debt is paid on one core and the other stays with
// the application's reads.
// Installs go through the version set's queue, so edits apply in order. A
// manual compaction (compactRange) waits for the compactions it conflicts
// with, and no new background compaction starts while it waits, so it is
// never starved; it then runs alongside those it does not conflict with.
import { ClosedError, VarveError } from '../errors.js';
import type { FileSystem } from '../fs/filesystem.js';
import { nodeFileSystem } from '../fs/node-fs.js';
import type { ResolvedOptions } from '../options.js';
import type { TableCache } from '../table/table-cache.js';
import type { VersionSet } from '../version/set.js';
import type { Version } from '../version/version.js';
import type { FileMetadata } from '../version/edit.js';
import { NUM_LEVELS } from '../version/edit.js';
import { deleteObsoleteFiles } from '../version/obsolete.js';
import type { StreamedCompaction } from '../flush/table-worker.js';
import type { TableWorkers } from '../flush/table-workers.js';
import { CompactionFiles } from './compaction-files.js';
import { type Deferred, deferred } from '../deferred.js';
import {
  allowedSeeks,
  CompactPointers,
  type CompactionOptions,
  compactionsForRange,
  pickCompaction,
  pickRangeCompaction,
  pickSeekCompaction,
  resolveCompactionOptions,
} from './picker.js';
import { type CompactionPlan, conflictsWithAny, totalBytes } from './plan.js';
import { DEFAULT_TIERED_OPTIONS, pickTieredCompaction, pickTieredRangeCompaction } from './tiered-picker.js';
import { readClock } from '../expiry.js';
import type { WarmBlocksMessage } from '../table/warm-blocks.js';

export interface CompactionHost {
  fs: FileSystem;
  dir: string;
  options: ResolvedOptions;
  versions: VersionSet;
  tables: TableCache;
  manifestNumber: number;
  /** Tables being written that no version names yet; shared with flushes. */
  pendingTables: Set<number>;
  /** The threads compactions run on; shared with flushes, and terminated by the host after close(). */
  workers: TableWorkers;
  /** The oldest sequence a reader may still read at. */
  smallestSnapshot(): number;
  /** Called with a failed compaction's error: the engine stops writing. */
  onError(err: unknown): void;
  /** Whether writes arrived lately (the engine's judgement): only then may more than one background compaction run. */
  writing(): boolean;
}

export interface CompactionStats {
  compactions: number;
  trivialMoves: number;
  bytesRead: number;
  bytesWritten: number;
  /** Compactions running now, and the most that ever ran at once. */
  running: number;
  peakRunning: number;
}

/** The deepest level with a table overlapping [lo, hi], or -1. */
function deepestLevelHolding(version: Version, lo?: Uint8Array, hi?: Uint8Array): number {
  for (let level = NUM_LEVELS - 1; level >= 0; level--) if (version.overlappingFiles(level, lo, hi).length > 0) return level;
  return -1;
}

export class CompactionScheduler {
  readonly #host: CompactionHost;
  readonly options: CompactionOptions;
  readonly #pointers = new CompactPointers();
  readonly #inProgress = new Set<number>();
  /** Each running compaction, and its run (never rejects). */
  readonly #running = new Map<CompactionPlan, Promise<void>>();
  #background = 0;
  /** A manual compaction waits for running ones: no background one starts meanwhile. */
  #manualWaiting = false;
  /** Tail of the queue that runs manual compactions one at a time. */
  #manual: Promise<void> = Promise.resolve();
  /** Resolves when no background compaction runs and none is needed. */
  #drained: Deferred | undefined;
  #failed = false;
  #closed = false;
  /** Seeks left before each file that seeks looked past is compacted; a file is charged only while it has no entry elsewhere. */
  readonly #seeksLeft = new Map<number, number>();
  /** The file whose seek allowance ran out, compacted when no score calls for work (one at a time). */
  #seekCandidate: number | undefined;
  readonly stats: CompactionStats = { compactions: 0, trivialMoves: 0, bytesRead: 0, bytesWritten: 0, running: 0, peakRunning: 0 };

  constructor(host: CompactionHost) {
    this.#host = host;
    this.options = resolveCompactionOptions(host.options.compaction);
  }

  /**
   * Starts background compactions while the tree needs them and slots are
   * free; resolves when none runs and none is needed (shared by callers).
   */
  maybeSchedule(): Promise<void> {
    this.#fill();
    // Nothing of its own to wait for: wait for a manual compaction, if one runs, to change the tree.
    if (this.#background === 0) return this.#running.size > 0 ? Promise.race(this.#running.values()) : Promise.resolve();
    this.#drained ??= deferred();
    return this.#drained.promise;
  }

  /**
   * Starts what the tree needs, then resolves when the first running
   * compaction ends (a stalled writer re-checks level 0 after each one, not
   * after all); with none running, after a millisecond.
   */
  nextCompactionEnd(): Promise<void> {
    this.#fill();
    if (this.#running.size > 0) return Promise.race(this.#running.values());
    return new Promise((resolve) => setTimeout(resolve, 1));
  }

  /**
   * An iterator seek to `userKey` in `version`: when it had to position more
   * than one table, the first of them (the newest) is charged one seek.
   */
  chargeSeek(version: Version, userKey: Uint8Array): void {
    if (this.#seekCandidate !== undefined || this.#host.options.compactionStyle === 'tiered') return;
    const files = version.filesForKey(userKey);
    if (files.length > 1) this.chargeRead(files[0]!);
  }

  /**
   * A read looked past `file` (a get searched on after it, or a seek had to
   * position another table too), as LevelDB charges reads; at the end of
   * its allowance the file is compacted into the next level. Bloom filters
   * make each such table cheap to look past, but not free: with three
   * level-0 tables left below the trigger, gets of missing keys ran at half
   * the speed they reach once those tables are merged down.
   */
  chargeRead(file: FileMetadata): void {
    if (this.#seekCandidate !== undefined || this.#host.options.compactionStyle === 'tiered') return;
    const left = (this.#seeksLeft.get(file.number) ?? allowedSeeks(file)) - 1;
    if (left > 0) {
      this.#seeksLeft.set(file.number, left);
      return;
    }
    this.#seeksLeft.delete(file.number);
    this.#seekCandidate = file.number;
    this.#fill();
  }

  /** Resolves when no compaction runs or waits to (background and manual). */
  async idle(): Promise<void> {
    await this.#manual;
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  /** Compacts every level overlapping [lo, hi] (user keys; unbounded when absent) down the tree. */
  async compactRange(lo?: Uint8Array, hi?: Uint8Array): Promise<void> {
    if (this.#host.options.compactionStyle === 'tiered') {
      await this.#manually(() => pickTieredRangeCompaction(this.#host.versions.current, lo, hi));
    } else {
      for (const level of compactionsForRange(this.#host.versions.current, lo, hi)) {
        await this.#manually(() => pickRangeCompaction(this.#host.versions.current, level, lo, hi));
      }
      // The range now sits in one level; rewriting it there (into the next)
      // drops what no reader needs any more, e.g. after a snapshot's release.
      const deepest = deepestLevelHolding(this.#host.versions.current, lo, hi);
      if (deepest >= 0 && deepest < NUM_LEVELS - 1) await this.#manually(() => pickRangeCompaction(this.#host.versions.current, deepest, lo, hi));
    }
    await this.maybeSchedule();
  }

  /**
   * Queues a manual compaction: at its turn, picks with `pick` on the current
   * version and waits until it conflicts with nothing running, then runs it.
   */
  #manually(pick: () => CompactionPlan | undefined): Promise<void> {
    const step = async (): Promise<void> => {
      for (;;) {
        // close() waits only for the manual compactions queued before it: a later one would start once the host terminated the workers.
        if (this.#closed) throw new ClosedError();
        if (this.#failed) throw new VarveError('ERR_COMPACTION', 'an earlier compaction failed');
        const plan = pick();
        if (plan === undefined) return;
        if (!this.#conflicts(plan)) {
          this.#manualWaiting = false;
          await this.#start(plan, false);
          return;
        }
        this.#manualWaiting = true;
        await Promise.race(this.#running.values());
      }
    };
    const run = this.#manual.then(step).finally(() => {
      this.#manualWaiting = false;
      this.#fill();
    });
    this.#manual = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Starts nothing more and waits for what runs; the host terminates the workers after. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  #conflicts(plan: CompactionPlan): boolean {
    return plan.fileNumbers().some((n) => this.#inProgress.has(n)) || conflictsWithAny(plan, this.#running.keys());
  }

  /** Starts background compactions until the slots are full or nothing more is called for. */
  #fill(): void {
    while (!this.#closed && !this.#failed && !this.#manualWaiting && this.#background < this.#backgroundSlots()) {
      const plan = this.#pick();
      if (plan === undefined) break;
      void this.#start(plan, true).catch(() => {});
    }
    if (this.#background === 0 && this.#drained !== undefined) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained.resolve();
    }
  }

  #backgroundSlots(): number {
    return this.#host.writing() ? this.#host.options.maxBackgroundCompactions : Math.min(1, this.#host.options.maxBackgroundCompactions);
  }

  #pick(): CompactionPlan | undefined {
    const version = this.#host.versions.current;
    const running = [...this.#running.keys()];
    if (this.#host.options.compactionStyle === 'tiered') return pickTieredCompaction(version, DEFAULT_TIERED_OPTIONS, this.#inProgress, running);
    // While writes arrive, size debt comes first (it stalls writers); without them, the reads' charges do.
    if (this.#host.writing()) return pickCompaction(version, this.options, this.#inProgress, this.#pointers, running) ?? this.#pickSeek(version, running);
    return this.#pickSeek(version, running) ?? pickCompaction(version, this.options, this.#inProgress, this.#pointers, running);
  }

  /** The compaction of the file whose read allowance ran out, if any can start now. */
  #pickSeek(version: Version, running: CompactionPlan[]): CompactionPlan | undefined {
    if (this.#seekCandidate === undefined) return undefined;
    const seek = pickSeekCompaction(version, this.options, this.#seekCandidate, this.#inProgress, running);
    // Dropped once picked or gone; kept while it only waits for busy files.
    if (seek !== undefined || version.levelOf(this.#seekCandidate) < 0) this.#seekCandidate = undefined;
    return seek;
  }

  /** Marks the plan's files busy, runs it, and when it ends schedules more. */
  #start(plan: CompactionPlan, background: boolean): Promise<void> {
    const numbers = plan.fileNumbers();
    for (const n of numbers) this.#inProgress.add(n);
    if (background) this.#background++;
    this.stats.running++;
    this.stats.peakRunning = Math.max(this.stats.peakRunning, this.stats.running);
    const run = this.#guarded(() => this.#run(plan)).finally(() => {
      for (const n of numbers) this.#inProgress.delete(n);
      this.#running.delete(plan);
      if (background) this.#background--;
      this.stats.running--;
      this.#fill();
    });
    this.#running.set(
      plan,
      run.then(
        () => undefined,
        () => undefined,
      ),
    );
    return run;
  }

  async #guarded(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.#failed = true;
      this.#host.onError(err);
      throw err;
    }
  }

  /**
   * Bytes of decoded output blocks the worker keeps for the block cache: as
   * many as the inputs have cached (they leave the cache's use once the
   * outputs replace them), at most the cache's capacity.
   */
  #warmBudget(inputs: readonly FileMetadata[]): number {
    const tables = this.#host.tables;
    if (!this.#host.options.prepopulateBlockCache) return 0;
    const capacity = tables.blockCacheCapacity;
    let cached = 0;
    // Each table costs a cache probe per data block: stop once the answer is the capacity.
    for (let i = 0; i < inputs.length && cached < capacity; i++) cached += tables.cachedDataBytes(inputs[i]!.number);
    return Math.min(cached, capacity);
  }

  async #run(c: CompactionPlan): Promise<void> {
    const host = this.#host;
    const outputs: number[] = [];
    try {
      if (c.trivialMove) {
        await host.versions.logAndApply(c.edit());
        this.stats.trivialMoves++;
        return;
      }
      const files = c.inputFiles;
      const io = new CompactionFiles({ fs: host.fs, dir: host.dir, newFileNumber: () => host.versions.newFileNumber(), pendingTables: host.pendingTables }, files);
      let metas: FileMetadata[];
      let warm: WarmBlocksMessage | undefined;
      try {
        // node:fs works on every thread: the worker then does its own I/O and never waits for this one.
        const request = this.#request(c, files);
        const local = host.fs === nodeFileSystem ? { dir: host.dir, numbers: io.reserveNumbers(totalBytes(files), this.options.targetFileSize) } : undefined;
        const result = await host.workers.run((worker) => worker.compact(request, io, local, this.#warmBudget(files)));
        const { stats, outputs } = result;
        warm = result.warm;
        if (outputs !== undefined) io.adopt(outputs);
        io.closeInputs();
        metas = await io.syncOutputs();
        for (const meta of metas) host.tables.open(meta);
        this.stats.bytesRead += stats.bytesRead;
        this.stats.bytesWritten += stats.bytesWritten;
      } catch (err) {
        for (const n of io.outputNumbers) host.tables.evict(n);
        await io.discardOutputs();
        throw err;
      } finally {
        io.closeInputs();
        outputs.push(...io.outputNumbers);
      }
      await host.versions.logAndApply(c.edit(metas));
      if (warm !== undefined) host.tables.warm(metas.map((m) => m.number), warm);
      this.stats.compactions++;
      for (const n of c.fileNumbers()) {
        host.tables.evict(n);
        this.#seeksLeft.delete(n);
      }
      await deleteObsoleteFiles(host.fs, host.dir, {
        logNumber: host.versions.logNumber,
        manifestNumber: host.manifestNumber,
        liveTables: host.versions.liveFiles(),
        pendingTables: host.pendingTables,
      });
    } finally {
      for (const n of outputs) host.pendingTables.delete(n);
    }
  }

  #request(c: CompactionPlan, inputs: readonly FileMetadata[]): StreamedCompaction {
    const version = this.#host.versions.current;
    const deeperLevels = [];
    for (let level = c.outputLevel + 1; level < NUM_LEVELS; level++) {
      deeperLevels.push(version.levels[level]!.map((f) => ({ smallest: f.smallest, largest: f.largest })));
    }
    const o = this.#host.options;
    return {
      inputs: inputs.map((f) => ({ number: f.number, size: f.size })),
      smallestSnapshot: this.#host.smallestSnapshot(),
      now: readClock(o.clock),
      deeperLevels,
      grandparents: c.grandparents.map((f) => ({ smallest: f.smallest, largest: f.largest, size: f.size })),
      targetFileSize: this.options.targetFileSize,
      maxGrandparentOverlapBytes: this.options.maxGrandparentOverlapBytes,
      table: { blockSize: o.blockSize, restartInterval: o.blockRestartInterval, bitsPerKey: o.bloomBitsPerKey, compression: o.compression },
    };
  }
}
