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
import { blockCursorAttach, blockCursorCreate, blockCursorSeek, cursorKey, cursorKeyLength, cursorValue, cursorValueLength, lowerBound } from './block';
import { blockMapFind, blockMapSlotBlock, blockMapSlotLength, blockMapTouch } from './block-map';
import { bloomMayContain, bloomTouch } from './bloom';
import { PB_H1, PB_H2, PB_OUT, PB_RC, PB_RECORD, PB_TABLE, PB_TARGET, PB_TARGET_LEN, touch } from './point-batch';
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
  return getFrom(t, indexSearch(t, target, targetLength), target, targetLength, out);
}

/** The data block where the first entry >= target is, or would be (the block count when past every block). */
@inline
function indexSearch(t: usize, target: usize, targetLength: u32): u32 {
  return lowerBound(<usize>load<u32>(t, 8), <usize>load<u32>(t, 12), <usize>load<u32>(t, 16), load<u32>(t, 20), load<u32>(t, 24), target, targetLength);
}

/** The block cache key of data block i. Precondition: i is below the block count. */
@inline
function blockKey(t: usize, i: u32): f64 {
  return load<f64>(t, 40) + <f64>load<u32>(<usize>load<u32>(t, 28) + (<usize>i << 2));
}

/** The map's slot of data block i (0: not resident); marks it used. Precondition: i is below the block count. */
@inline
function residentBlock(t: usize, i: u32): usize {
  return blockMapFind(<usize>load<u32>(t, 32), blockKey(t, i));
}

/** tableGet's reading of data blocks, from block `first` on. */
function getFrom(t: usize, first: u32, target: usize, targetLength: u32, out: usize): i32 {
  const blocks = load<u32>(t, 24);
  if (cursor == 0) cursor = blockCursorCreate();
  const userLength = targetLength - TRAILER_SIZE;
  // The first entry >= target is in block i, or when the target falls past its last key, first in a later one.
  for (let i = first; i < blocks; i++) {
    store<u32>(out, i);
    const slot = residentBlock(t, i);
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

/** A record's place between the stages of tableGetBatch: past the filter and the index search, its block in the result. */
const SEARCHED: i32 = -1000;

/**
 * tableGet for each record of a point batch (point-batch.ts) with a table
 * to read, its result code and struct written into the record. Stage by
 * stage across the records, so their misses overlap: the filter lines;
 * then the filter test and the index search, loading the block map slot;
 * then the block's first, middle and last lines; then the block seeks.
 */
export function tableGetBatch(records: usize, count: u32): void {
  const end = records + <usize>count * PB_RECORD;
  for (let r = records; r < end; r += PB_RECORD) {
    const t = <usize>load<u32>(r, PB_TABLE);
    if (t == 0) continue;
    bloomTouch(<usize>load<u32>(t), load<u32>(t, 4), load<u32>(r, PB_H2));
  }
  for (let r = records; r < end; r += PB_RECORD) {
    const t = <usize>load<u32>(r, PB_TABLE);
    if (t == 0) continue;
    const out = r + PB_OUT;
    store<u32>(out, 0, 20);
    const targetLength = load<u32>(r, PB_TARGET_LEN);
    let rc = SEARCHED;
    if (bloomMayContain(<usize>load<u32>(t), load<u32>(t, 4), load<u32>(r, PB_H1), load<u32>(r, PB_H2)) == 0) rc = GET_FILTERED;
    else if (targetLength < TRAILER_SIZE) rc = E_KEY_TOO_SHORT;
    else {
      const i = indexSearch(t, <usize>load<u32>(r, PB_TARGET), targetLength);
      store<u32>(out, i);
      if (i < load<u32>(t, 24)) blockMapTouch(<usize>load<u32>(t, 32), blockKey(t, i));
    }
    store<i32>(r, rc, PB_RC);
  }
  for (let r = records; r < end; r += PB_RECORD) {
    const t = <usize>load<u32>(r, PB_TABLE);
    if (t == 0 || load<i32>(r, PB_RC) != SEARCHED) continue;
    const i = load<u32>(r, PB_OUT);
    if (i >= load<u32>(t, 24)) continue;
    const slot = residentBlock(t, i);
    if (slot == 0) continue;
    const block = blockMapSlotBlock(slot);
    const length = <usize>blockMapSlotLength(slot);
    if (length == 0) continue;
    touch(block);
    touch(block + (length >>> 1));
    touch(block + length - 1);
  }
  for (let r = records; r < end; r += PB_RECORD) {
    const t = <usize>load<u32>(r, PB_TABLE);
    if (t == 0 || load<i32>(r, PB_RC) != SEARCHED) continue;
    const out = r + PB_OUT;
    store<i32>(r, getFrom(t, load<u32>(out), <usize>load<u32>(r, PB_TARGET), load<u32>(r, PB_TARGET_LEN), out), PB_RC);
  }
}
