// Typed wrappers over the WebAssembly kernels.
export { raw } from './loader.js';
export type { RawExports } from './loader.js';
export * as heap from './heap.js';
export { Region } from './heap.js';
export { crc32c, crc32cAt, maskCrc, unmaskCrc } from './crc32c.js';
export * as lz4 from './lz4.js';
export { HASH_BYTES, hashAt, hashBatch, hashBatchAt, hashKey, readHashes, writeHashes } from './hash.js';
export {
  BLOOM_TRAILER_BYTES,
  bloomBuild,
  bloomBuildAt,
  bloomCheck,
  bloomCheckAt,
  bloomMayContain,
  bloomMayContainAt,
  bloomMayContainBatch,
  bloomMayContainBatchAt,
  bloomProbesFor,
  bloomSize,
} from './bloom.js';
export { BlockBuilder, BlockCursor, DecodedBlock, DEFAULT_RESTART_INTERVAL, checkRestarts } from './block.js';
export { Arena } from './arena.js';
export { SkipList, SkipListCursor, node as skiplistNode, DEFAULT_CHUNK_SIZE, RUN_ENTRY_HEADER_SIZE } from './skiplist.js';
export type { Entry } from './skiplist.js';
