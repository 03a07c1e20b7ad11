// A point read of one table in a single call, for tables whose data blocks
// the block cache holds (block-map.ts): the bloom filter, the index
// search, then the data block's seek, each the code the single steps run
// (bloom.ts, block.ts). A block not resident ends the call with its index;
// the host goes on from that block by the single steps, which read it into
// the cache and the map (src/table/reader.ts lookup).
//
// Table struct (TABLE_SIZE bytes, written by the host): 0 u32 filter,
// 4 filter length, 8 index table, 12 index keys, 16 index prefixes,
// 20 index shared length, 24 index rows (= data blocks), 28 u32 data block
// offsets (one per block), 32 block map, 40 f64 cache key of offset 0.
//
// Result struct (GET_OUT_SIZE bytes): 0 u32 block index (NEED_BLOCK, or an
// error's block), 4 value address, 8 value length, 12 u64 trailer (FOUND),
// 20 u32 blocks read from the map.
import { bloomMayContain } from './bloom';
import { blockCursorAttach, blockCursorCreate, blockCursorSeek, cursorKey, cursorKeyLength, cursorValue, cursorValueLength, lowerBound } from './block';
import { blockMapFind, blockMapSlotBlock, blockMapSlotLength } from './block-map';
import { TRAILER_SIZE, compareBytes } from './keys';

/** The filter rules the key out. */
const GET_FILTERED: i32 = 0;
/** The filter let the key through, but the table does not hold it. */
const GET_ABSENT: i32 = 1;
/** The newest entry of the key at or below the target's sequence: see the result struct. */
const GET_FOUND: i32 = 2;
/** Data block `index` (in the result) is not resident. */
const GET_NEED_BLOCK: i32 = 3;
/** A target under 8 bytes. */
const E_KEY_TOO_SHORT: i32 = -2;

/** The seek cursor, made on first use. */
let cursor: usize = 0;

/**
 * Reads the table at `t` for the internal key `target` (user key, then a
 * trailer of the snapshot sequence with the seek kind) whose key hash
 * halves are h1, h2. Returns a GET_ code, or a block's error code with the
 * block in the result.
 */
export function tableGet(t: usize, target: usize, targetLength: u32, h1: u32, h2: u32, out: usize): i32 {
  store<u32>(out, 0, 20);
  if (bloomMayContain(<usize>load<u32>(t), load<u32>(t, 4), h1, h2) == 0) return GET_FILTERED;
  if (targetLength < TRAILER_SIZE) return E_KEY_TOO_SHORT;
  const blocks = load<u32>(t, 24);
  const offsets = <usize>load<u32>(t, 28);
  const map = <usize>load<u32>(t, 32);
  const base = load<f64>(t, 40);
  let i = lowerBound(<usize>load<u32>(t, 8), <usize>load<u32>(t, 12), <usize>load<u32>(t, 16), load<u32>(t, 20), blocks, target, targetLength);
  if (cursor == 0) cursor = blockCursorCreate();
  const userLength = targetLength - TRAILER_SIZE;
  // The first entry >= target is in block i, or when the target falls past its last key, first in a later one.
  for (; i < blocks; i++) {
    store<u32>(out, i);
    const slot = blockMapFind(map, base + <f64>load<u32>(offsets + (<usize>i << 2)));
    if (slot == 0) return GET_NEED_BLOCK;
    store<u32>(out, load<u32>(out, 20) + 1, 20);
    blockCursorAttach(cursor, blockMapSlotBlock(slot), blockMapSlotLength(slot));
    const rc = blockCursorSeek(cursor, target, targetLength);
    if (rc < 0) return rc;
    if (rc == 0) continue;
    const key = cursorKey(cursor);
    const keyLength = cursorKeyLength(cursor);
    if (keyLength != targetLength || compareBytes(key, userLength, target, userLength) != 0) return GET_ABSENT;
    store<u32>(out, <u32>cursorValue(cursor), 4);
    store<u32>(out, cursorValueLength(cursor), 8);
    store<u64>(out, load<u64>(key + <usize>userLength), 12);
    return GET_FOUND;
  }
  return GET_ABSENT;
}
