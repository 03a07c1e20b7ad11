// Options of open(), their defaults, and their validation. Defaults suit a
// JavaScript process on a small machine (see docs/ARCHITECTURE.md, "Defaults").
import { InvalidArgumentError } from './errors.js';
import type { FileSystem } from './fs/filesystem.js';
import { systemClock, type Clock } from './clock.js';
import { nodeFileSystem } from './fs/node-fs.js';
import { type CompactionOptions, resolveCompactionOptions } from './compaction/picker.js';

export interface Options {
  /** Create the directory and an empty database when none exists. Default true. */
  createIfMissing?: boolean;
  /** Fail if a database already exists in the directory. Default false. */
  errorIfExists?: boolean;
  /** Bytes of writes a memtable holds before it is frozen and flushed to a table. Default 4 MiB. */
  memtableSize?: number;
  /** Frozen memtables that may wait for their flush before writes stall. Default 2. */
  maxImmutableMemtables?: number;
  /** Target size of a table's data blocks, before compression. Default 4096. */
  blockSize?: number;
  /** Entries between restart points in a data block. Default 16. */
  blockRestartInterval?: number;
  /** Bloom filter bits per key, 1 to 64. Default 10 (about 1% false positives). */
  bloomBitsPerKey?: number;
  /** 'lz4' compresses blocks where that saves space; 'none' never does. Default 'lz4'. */
  compression?: 'lz4' | 'none';
  /** Bytes of uncompressed blocks the block cache keeps. Default 8 MiB. */
  blockCacheSize?: number;
  /** Table files kept open at once. Default 256. */
  maxOpenFiles?: number;
  /**
   * Whether flushes and compactions put the data blocks they write in the
   * block cache, so reads of what they rewrote do not read each block back
   * from its file: a flush up to half the cache; a compaction as many bytes
   * as its inputs had cached (none when they were cold). Default true.
   */
  prepopulateBlockCache?: boolean;
  /**
   * Bytes the engine's buffers aim to stay within; sizes what is not given
   * explicitly: memtableSize = 1/8 of it, blockCacheSize = 1/4, and
   * maxImmutableMemtables 2 (so memtables take at most 3/8, and their key
   * indexes about a tenth of that again; the rest is for flush and
   * compaction work). Default 32 MiB (the defaults above).
   */
  memoryBudget?: number;
  /** The filesystem; tests substitute one that injects faults. Default node:fs. */
  fs?: FileSystem;
  /**
   * 'leveled' (default): each level >= 1 one sorted run, ten times the one
   * above; least space and fewest tables per read. 'tiered': runs of similar
   * size are merged when four accumulate; less write amplification, more
   * space. docs/ARCHITECTURE.md compares them.
   */
  compactionStyle?: 'leveled' | 'tiered';
  /** Compactions that may run at once, each in its own worker thread. Default 2. */
  maxBackgroundCompactions?: number;
  /** Leveled compaction's shape: level targets, table size (src/compaction/picker.ts). Default {} (its defaults). */
  compaction?: Partial<CompactionOptions>;
  /** The wall clock that decides when values written with a ttl or expiresAt lapse. Default Date.now. */
  clock?: Clock;
}

export type ResolvedOptions = Required<Options>;

export const DEFAULTS: ResolvedOptions = {
  createIfMissing: true,
  errorIfExists: false,
  memtableSize: 4 * 1024 * 1024,
  maxImmutableMemtables: 2,
  blockSize: 4096,
  blockRestartInterval: 16,
  bloomBitsPerKey: 10,
  compression: 'lz4',
  blockCacheSize: 8 * 1024 * 1024,
  maxOpenFiles: 256,
  prepopulateBlockCache: true,
  memoryBudget: 32 * 1024 * 1024,
  fs: nodeFileSystem,
  compactionStyle: 'leveled',
  maxBackgroundCompactions: 2,
  compaction: {},
  clock: systemClock,
};

/** The smallest and largest memoryBudget accepted. */
export const MIN_MEMORY_BUDGET = 1024 * 1024;
export const MAX_MEMORY_BUDGET = 8 * 1024 * 1024 * 1024;

/** The sizes a memory budget gives the options it governs (docs/ARCHITECTURE.md, "Defaults"). */
export function sizesForBudget(budget: number): Pick<ResolvedOptions, 'memtableSize' | 'maxImmutableMemtables' | 'blockCacheSize'> {
  return {
    memtableSize: Math.min(1024 * 1024 * 1024, Math.floor(budget / 8)),
    maxImmutableMemtables: 2,
    blockCacheSize: Math.min(1024 * 1024 * 1024, Math.floor(budget / 4)),
  };
}

/** The largest key varve accepts, in bytes. */
export const MAX_KEY_SIZE = 1024 * 1024;
/** The largest value varve accepts, in bytes. */
export const MAX_VALUE_SIZE = 256 * 1024 * 1024;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`option ${name} must be a boolean, got ${String(value)}`);
  return value;
}

/** Fills in defaults and rejects unknown or out-of-range options. */
export function resolveOptions(options: Options | undefined): ResolvedOptions {
  if (options === undefined) return { ...DEFAULTS };
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  for (const name of Object.keys(options)) {
    if (!(name in DEFAULTS)) throw new InvalidArgumentError(`unknown option ${name}`);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const budget = integerIn('memoryBudget', 'memoryBudget' in given ? given.memoryBudget : DEFAULTS.memoryBudget, MIN_MEMORY_BUDGET, MAX_MEMORY_BUDGET);
  // Explicit sizes override the budget's.
  const o = { ...DEFAULTS, ...sizesForBudget(budget), ...given };
  boolean('createIfMissing', o.createIfMissing);
  boolean('errorIfExists', o.errorIfExists);
  integerIn('memtableSize', o.memtableSize, 64 * 1024, 1024 * 1024 * 1024);
  integerIn('maxImmutableMemtables', o.maxImmutableMemtables, 1, 64);
  integerIn('blockSize', o.blockSize, 256, 4 * 1024 * 1024);
  integerIn('blockRestartInterval', o.blockRestartInterval, 1, 1024);
  integerIn('bloomBitsPerKey', o.bloomBitsPerKey, 1, 64);
  if (o.compression !== 'lz4' && o.compression !== 'none') {
    throw new InvalidArgumentError(`option compression must be 'lz4' or 'none', got ${String(o.compression)}`);
  }
  integerIn('blockCacheSize', o.blockCacheSize, 0, 1024 * 1024 * 1024);
  integerIn('maxOpenFiles', o.maxOpenFiles, 8, 1_000_000);
  boolean('prepopulateBlockCache', o.prepopulateBlockCache);
  if (o.compactionStyle !== 'leveled' && o.compactionStyle !== 'tiered') {
    throw new InvalidArgumentError(`option compactionStyle must be 'leveled' or 'tiered', got ${String(o.compactionStyle)}`);
  }
  integerIn('maxBackgroundCompactions', o.maxBackgroundCompactions, 1, 16);
  if (typeof o.compaction !== 'object' || o.compaction === null) throw new InvalidArgumentError('option compaction must be an object');
  resolveCompactionOptions(o.compaction);
  if (typeof o.fs !== 'object' || o.fs === null || typeof o.fs.open !== 'function') {
    throw new InvalidArgumentError('option fs must implement the FileSystem interface');
  }
  if (typeof o.clock !== 'object' || o.clock === null || typeof o.clock.now !== 'function') {
    throw new InvalidArgumentError('option clock must be an object with a now() method');
  }
  return o as ResolvedOptions;
}
