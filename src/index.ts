// varve's public entry point.
export { open, Database } from './db.js';
export type { WriteOptions, PutOptions, ValueEntry, BatchOp, ClearRange, IteratorOptions, ReadOptions, MemoryUsage } from './db.js';
export type { Clock } from './clock.js';
export type { VerifyReport, VerifyFinding, VerifyProgress } from './verify.js';
export { Snapshot } from './snapshot.js';
export type { ValueIterator } from './iterator/value-iterator.js';
export type { Options } from './options.js';
export type {
  DatabaseStats,
  LevelStats,
  WriteStats,
  FilterStats,
  BlockCacheStats,
  TableCacheStats,
  StallStats,
  MemtableStats,
  WalStats,
  BackgroundStats,
  LiveFile,
} from './stats.js';
export { DEFAULTS, MAX_KEY_SIZE, MAX_VALUE_SIZE } from './options.js';
export type { FileSystem, FileHandle, FileLock, OpenMode } from './fs/filesystem.js';
export { nodeFileSystem } from './fs/node-fs.js';
export * from './errors.js';
export { WriteBatch, BATCH_HEADER_SIZE } from './batch.js';
export * as wasm from './wasm/index.js';
export * from './keys.js';
