// Running compactions: pick (src/compaction/picker.ts), merge the inputs in
// the compaction worker (its own thread and WebAssembly instance), which
// reads them and writes its outputs piece by piece through this thread
// (src/compaction/compaction-files.ts), make the outputs durable, install them with one
// MANIFEST edit, and only then forget and delete the inputs. One compaction
// runs at a time; a trivial move is one edit and no I/O.
import type { FileSystem } from '../fs/filesystem.js';
import type { ResolvedOptions } from '../options.js';
import type { TableCache } from '../table/table-cache.js';
import type { VersionSet } from '../version/set.js';
import type { Version } from '../version/version.js';
import type { FileMetadata } from '../version/edit.js';
import { NUM_LEVELS } from '../version/edit.js';
import { deleteObsoleteFiles } from '../version/obsolete.js';
import { type StreamedCompaction, TableWorker } from '../flush/table-worker.js';
import { CompactionFiles } from './compaction-files.js';
import { CompactPointers, DEFAULT_COMPACTION_OPTIONS, compactionsForRange, pickCompaction, pickRangeCompaction, type Compaction } from './picker.js';

export interface CompactionHost {
  fs: FileSystem;
  dir: string;
  options: ResolvedOptions;
  versions: VersionSet;
  tables: TableCache;
  manifestNumber: number;
  /** Tables being written that no version names yet; shared with flushes. */
  pendingTables: Set<number>;
  /** The oldest sequence a reader may still read at. */
  smallestSnapshot(): number;
  /** Called with a failed compaction's error: the engine stops writing. */
  onError(err: unknown): void;
}

export interface CompactionStats {
  compactions: number;
  trivialMoves: number;
  bytesRead: number;
  bytesWritten: number;
}

/** The deepest level with a table overlapping [lo, hi], or -1. */
function deepestLevelHolding(version: Version, lo?: Uint8Array, hi?: Uint8Array): number {
  for (let level = NUM_LEVELS - 1; level >= 0; level--) if (version.overlappingFiles(level, lo, hi).length > 0) return level;
  return -1;
}

export class CompactionScheduler {
  readonly #host: CompactionHost;
  readonly #worker = new TableWorker();
  readonly #pointers = new CompactPointers();
  readonly #inProgress = new Set<number>();
  #running: Promise<void> | undefined;
  /** Tail of the queue that runs compactions one at a time, background and manual alike. */
  #serial: Promise<void> = Promise.resolve();
  #failed = false;
  #closed = false;
  readonly stats: CompactionStats = { compactions: 0, trivialMoves: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(host: CompactionHost) {
    this.#host = host;
  }

  /** The compaction worker's linear memory and the bytes of compaction inputs and outputs in flight. */
  get memory(): { workerWasmBytes: number; bytesInFlight: number } {
    return { workerWasmBytes: this.#worker.wasmMemoryBytes, bytesInFlight: this.#worker.sharedBytes };
  }

  /** Starts compacting if the tree needs it and nothing runs; returns the run (shared). */
  maybeSchedule(): Promise<void> {
    if (this.#closed || this.#failed) return Promise.resolve();
    this.#running ??= this.#runWhileNeeded().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Resolves when the running compactions (if any) are done. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => {});
    await this.#serial;
  }

  /** Compacts every level overlapping [lo, hi] (user keys; unbounded when absent) down the tree. */
  async compactRange(lo?: Uint8Array, hi?: Uint8Array): Promise<void> {
    for (const level of compactionsForRange(this.#host.versions.current, lo, hi)) await this.#compactLevelRange(level, lo, hi);
    // The range now sits in one level; rewriting it there (into the next)
    // drops what no reader needs any more, e.g. after a snapshot's release.
    const deepest = deepestLevelHolding(this.#host.versions.current, lo, hi);
    if (deepest >= 0 && deepest < NUM_LEVELS - 1) await this.#compactLevelRange(deepest, lo, hi);
    await this.maybeSchedule();
  }

  async #compactLevelRange(level: number, lo?: Uint8Array, hi?: Uint8Array): Promise<void> {
    await this.#oneAtATime(async () => {
      const c = pickRangeCompaction(this.#host.versions.current, level, lo, hi);
      if (c) await this.#guarded(() => this.#run(c));
    });
  }

  /** Runs `step` after every compaction queued before it; picks inside it see the current version. */
  #oneAtATime<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(step);
    this.#serial = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
    await this.#worker.terminate();
  }

  async #runWhileNeeded(): Promise<void> {
    for (;;) {
      if (this.#closed || this.#failed) return;
      const ran = await this.#oneAtATime(async () => {
        const c = pickCompaction(this.#host.versions.current, DEFAULT_COMPACTION_OPTIONS, this.#inProgress, this.#pointers);
        if (c) await this.#guarded(() => this.#run(c));
        return c !== undefined;
      });
      if (!ran) return;
    }
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

  async #run(c: Compaction): Promise<void> {
    const host = this.#host;
    const numbers = c.fileNumbers();
    for (const n of numbers) this.#inProgress.add(n);
    const outputs: number[] = [];
    try {
      if (c.trivialMove) {
        await host.versions.logAndApply(c.edit());
        this.stats.trivialMoves++;
        return;
      }
      const files = [...c.inputs, ...c.outputLevelInputs];
      const io = new CompactionFiles({ fs: host.fs, dir: host.dir, newFileNumber: () => host.versions.newFileNumber(), pendingTables: host.pendingTables }, files);
      let metas: FileMetadata[];
      try {
        const stats = await this.#worker.compact(this.#request(c, files), io);
        io.closeInputs();
        metas = await io.syncOutputs();
        this.stats.bytesRead += stats.bytesRead;
        this.stats.bytesWritten += stats.bytesWritten;
      } catch (err) {
        await io.discardOutputs();
        throw err;
      } finally {
        io.closeInputs();
        outputs.push(...io.outputNumbers);
      }
      await host.versions.logAndApply({ ...c.edit(metas) });
      this.stats.compactions++;
      for (const n of numbers) host.tables.evict(n);
      await deleteObsoleteFiles(host.fs, host.dir, {
        logNumber: host.versions.logNumber,
        manifestNumber: host.manifestNumber,
        liveTables: host.versions.liveFiles(),
        pendingTables: host.pendingTables,
      });
    } finally {
      for (const n of numbers) this.#inProgress.delete(n);
      for (const n of outputs) host.pendingTables.delete(n);
    }
  }

  #request(c: Compaction, inputs: FileMetadata[]): StreamedCompaction {
    const version = this.#host.versions.current;
    const deeperLevels = [];
    for (let level = c.outputLevel + 1; level < NUM_LEVELS; level++) {
      deeperLevels.push(version.levels[level]!.map((f) => ({ smallest: f.smallest, largest: f.largest })));
    }
    const o = this.#host.options;
    return {
      inputs: inputs.map((f) => ({ number: f.number, size: f.size })),
      smallestSnapshot: this.#host.smallestSnapshot(),
      deeperLevels,
      grandparents: c.grandparents.map((f) => ({ smallest: f.smallest, largest: f.largest, size: f.size })),
      targetFileSize: DEFAULT_COMPACTION_OPTIONS.targetFileSize,
      maxGrandparentOverlapBytes: DEFAULT_COMPACTION_OPTIONS.maxGrandparentOverlapBytes,
      table: { blockSize: o.blockSize, restartInterval: o.blockRestartInterval, bitsPerKey: o.bloomBitsPerKey, compression: o.compression },
    };
  }
}
