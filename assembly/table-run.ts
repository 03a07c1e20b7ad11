// The table builder's pass over a run (the memtable export format:
// repeated u32 LE key length, u32 LE value length, internal key, value):
// one batch of entries for blockBuilderAddBatch, with what the builder
// counts of them, so the builder's per-entry work is one call per batch.
//
// A batch takes entries until their worst-case encoded size reaches
// `budget` (at least one entry), so a data block can only reach its target
// on a batch's last entry, where adding one at a time would cut it.
//
// Scan struct (SCAN_SIZE bytes, written here):
//   0 next          u32 address just past the batch; on an error, the failing entry
//   4 hashes        u32 filter hashes written (one per entry after the first that
//                   starts a user key, and the first when `firstIsNew`)
//   8 deletions     u32 entries of kind 0
//  12 rangeDels     u32 entries of kind 3
//  16 keyBytes      f64 sum of key lengths
//  24 valueBytes    f64 sum of value lengths
//  32 smallestSeq   f64
//  40 largestSeq    f64
import { keyHash } from './hash';
import { MAX_SEQUENCE, TRAILER_SIZE, compareBytes } from './keys';

/** An entry header or its bytes run past the run's end, or its key is under 8 bytes. */
const E_RUN_TRUNCATED: i32 = -40;
/** An entry's kind is not 0..3. */
const E_RUN_KIND: i32 = -41;
/** An entry's sequence is above 2^53 - 1. */
const E_RUN_SEQUENCE: i32 = -42;

/** Bytes before each run entry's key: its key and value lengths. */
export const RUN_HEADER: u32 = 8;
/** Upper bound on what one entry adds to a data block beyond its key and value: three varints and a restart. */
const ENTRY_OVERHEAD: u32 = 15 + 4;
const ROW_SIZE: usize = 16;
const HASH_BYTES: usize = 8;

/**
 * Scans one batch from `p` (before `end`), writing a 16-byte row per entry
 * at `rows` (u32 LE key address, key length, value address, value length;
 * at most `rowsCap`) and, for each entry that starts a user key, its user
 * key's hash at `hashes`. Returns the entries in the batch (>= 1 when
 * p < end), or an error code with the failing entry's address in `next`.
 */
export function tableRunScan(p: usize, end: usize, budget: u32, firstIsNew: u32, rows: usize, rowsCap: u32, hashes: usize, scan: usize): i32 {
  let count: u32 = 0;
  let worstCase: u32 = 0;
  let hashCount: u32 = 0;
  let deletions: u32 = 0;
  let rangeDeletions: u32 = 0;
  let keyBytes: f64 = 0;
  let valueBytes: f64 = 0;
  let smallestSeq: u64 = MAX_SEQUENCE;
  let largestSeq: u64 = 0;
  let prevKey: usize = 0;
  let prevUserLen: u32 = 0;
  while (p < end && count < rowsCap && (count == 0 || worstCase < budget)) {
    store<u32>(scan, <u32>p);
    if (end - p < RUN_HEADER) return E_RUN_TRUNCATED;
    const keyLen = load<u32>(p);
    const valueLen = load<u32>(p, 4);
    const key = p + RUN_HEADER;
    const value = key + <usize>keyLen;
    if (keyLen < TRAILER_SIZE || <u64>keyLen + <u64>valueLen > <u64>(end - key)) return E_RUN_TRUNCATED;
    const trailer = load<u64>(value - TRAILER_SIZE);
    const kind = <u32>(trailer & 0xff);
    if (kind > 3) return E_RUN_KIND;
    const seq = trailer >> 8;
    if (seq > MAX_SEQUENCE) return E_RUN_SEQUENCE;
    const userLen = keyLen - TRAILER_SIZE;
    const isNew = count == 0 ? firstIsNew != 0 : userLen != prevUserLen || compareBytes(key, userLen, prevKey, prevUserLen) != 0;
    if (isNew) {
      keyHash(key, userLen, 0, hashes + <usize>hashCount * HASH_BYTES);
      hashCount++;
    }
    const row = rows + <usize>count * ROW_SIZE;
    store<u32>(row, <u32>key);
    store<u32>(row, keyLen, 4);
    store<u32>(row, <u32>value, 8);
    store<u32>(row, valueLen, 12);
    if (kind == 0) deletions++;
    else if (kind == 3) rangeDeletions++;
    keyBytes += <f64>keyLen;
    valueBytes += <f64>valueLen;
    if (seq < smallestSeq) smallestSeq = seq;
    if (seq > largestSeq) largestSeq = seq;
    worstCase += keyLen + valueLen + ENTRY_OVERHEAD;
    prevKey = key;
    prevUserLen = userLen;
    count++;
    p = value + <usize>valueLen;
  }
  store<u32>(scan, <u32>p);
  store<u32>(scan, hashCount, 4);
  store<u32>(scan, deletions, 8);
  store<u32>(scan, rangeDeletions, 12);
  store<f64>(scan, keyBytes, 16);
  store<f64>(scan, valueBytes, 24);
  store<f64>(scan, <f64>smallestSeq, 32);
  store<f64>(scan, <f64>largestSeq, 40);
  return <i32>count;
}
