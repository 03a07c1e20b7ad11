// The one WebAssembly module: every kernel's exports, re-exported here.
export { alloc, free, realloc } from './memory';
export { compareInternalKeys } from './keys';
export { crc32c, crc32cExtend, crc32cMask, crc32cUnmask } from './crc32c';
export { arenaCreate, arenaAlloc, arenaBytes, arenaReset, arenaDestroy } from './arena';
export {
  skiplistCreate, skiplistInsert, skiplistInsertBatch, skiplistSeek, skiplistSeekUser, skiplistGet,
  skiplistFirst, skiplistLast, skiplistNext, skiplistPrev, skiplistCount, skiplistBytes, skiplistReset,
  skiplistDestroy,
} from './skiplist';
