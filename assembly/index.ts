// The one WebAssembly module: every kernel's exports, re-exported here.
export { alloc, free, realloc } from './memory';
export { compareInternalKeys } from './keys';
export { crc32c, crc32cExtend, crc32cMask, crc32cPrefixMatching, crc32cUnmask } from './crc32c';
export { lz4CompressBound, lz4Compress, lz4Decompress } from './lz4';
export { keyHash, keyHashBatch } from './hash';
export { bloomFilterSize, bloomProbesFor, bloomBuild, bloomCheck, bloomMayContain, bloomMayContainBatch } from './bloom';
export {
  blockBuilderCreate,
  blockBuilderAdd,
  blockBuilderAddBatch,
  blockBuilderEstimatedSize,
  blockBuilderFinish,
  blockBuilderReset,
  blockBuilderDestroy,
  blockCursorCreate,
  blockCursorInit,
  blockCursorAttach,
  blockCheckRestarts,
  blockCursorSeek,
  blockCursorSeekFirst,
  blockCursorSeekLast,
  blockCursorNext,
  blockCursorPrev,
  blockCursorDestroy,
  blockDecodedSize,
  blockDecodeAll,
  blockDecodedPrefixes,
  blockDecodedSeek,
  blockDecodedSeekBatch,
} from './block';
export { blockMapCreate, blockMapDestroy, blockMapCount, blockMapFind, blockMapPut, blockMapRemove, blockMapTakeReferenced } from './block-map';
export { tableGet, tableGetBatch } from './table-get';
export { pointBatchHash, pointBatchTouched } from './point-batch';
export { tableRunScan } from './table-run';
export { mergeCreate, mergeSetCursor, mergeStart, mergeRun, mergeClearRun, mergeAcceptUserKey, mergeSkipTop, mergeReload, mergeDestroy } from './merge';
export { arenaCreate, arenaAlloc, arenaBytes, arenaReset, arenaDestroy } from './arena';
export {
  skiplistCreate, skiplistInsert, skiplistInsertBatch, skiplistSeek, skiplistSeekUser, skiplistGet, skiplistGetHashed, skiplistGetBatch, skiplistIndexBytes,
  skiplistFirst, skiplistLast, skiplistNext, skiplistPrev, skiplistCount, skiplistBytes, skiplistReset,
  skiplistDestroy, skiplistExportSize, skiplistExport,
  skiplistExportNext, skiplistSkippedRangeDeletions, skiplistSettleStep, skiplistExportPending, skiplistInsertRun,
} from './skiplist';
