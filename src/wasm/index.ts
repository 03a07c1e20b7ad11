// Typed wrappers over the WebAssembly kernels.
export { raw } from './loader.js';
export type { RawExports } from './loader.js';
export * as heap from './heap.js';
export { Region } from './heap.js';
export { crc32c, crc32cAt, maskCrc, unmaskCrc } from './crc32c.js';
export { BlockBuilder, BlockCursor, DecodedBlock, DEFAULT_RESTART_INTERVAL } from './block.js';
