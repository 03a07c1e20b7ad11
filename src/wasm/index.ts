// Typed wrappers over the WebAssembly kernels.
export { raw } from './loader.js';
export type { RawExports } from './loader.js';
export * as heap from './heap.js';
export { Region } from './heap.js';
export { crc32c, crc32cAt, maskCrc, unmaskCrc } from './crc32c.js';
export { Arena } from './arena.js';
export { SkipList, SkipListCursor, node as skiplistNode, DEFAULT_CHUNK_SIZE } from './skiplist.js';
export type { Entry, EntryRef } from './skiplist.js';
