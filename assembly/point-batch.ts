// A batch of point reads staged in linear memory (src/point-batch.ts writes
// it): one record per key, which the memtable probe (skiplist.ts
// skiplistGetBatch) and the table read (table-get.ts tableGetBatch) take
// whole, so one call reads many keys. Their memory is read stage by stage
// across the keys, each stage's loads independent of one another, so the
// cache misses of different keys are in flight together rather than one
// after another (WebAssembly has no prefetch instruction: a plain load
// whose result is folded into `touched` stands in for one).
//
// Record (PB_RECORD bytes): 0 u32 target address (the user key, then a
// seek trailer), 4 u32 target length, 8 u32 hash low half (h1), 12 u32
// hash high half (h2), 16 f64 snapshot sequence, 24 u32 table struct to
// read this round (0: none), 28 i32 table result (a GET_ code or a block
// error), 32 the table result struct (GET_OUT_SIZE bytes, table-get.ts),
// 56 u32 memtable node found (0: none), 60 u32 done (nonzero: the key is
// answered; memtable probes skip it).
import { xxh64 } from './hash';
import { TRAILER_SIZE } from './keys';

export const PB_RECORD: usize = 64;
export const PB_TARGET: usize = 0;
export const PB_TARGET_LEN: usize = 4;
export const PB_H1: usize = 8;
export const PB_H2: usize = 12;
export const PB_SEQ: usize = 16;
export const PB_TABLE: usize = 24;
export const PB_RC: usize = 28;
export const PB_OUT: usize = 32;
export const PB_NODE: usize = 56;
export const PB_DONE: usize = 60;

/** Folds a load's value in, so the optimizer keeps loads made only to start a cache miss. */
let touched: u32 = 0;

@inline
export function touch(addr: usize): void {
  touched += <u32>load<u8>(addr);
}

/** Reads `touched`, so the loads that feed it are never dead code. */
export function pointBatchTouched(): u32 {
  return touched;
}

/**
 * Hashes each record's user key (its target less its trailer) with XXH64,
 * seed 0, into h1 (low half) and h2 (high half). Precondition: each target
 * length is at least TRAILER_SIZE.
 */
export function pointBatchHash(records: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) {
    const r = records + <usize>i * PB_RECORD;
    const h = xxh64(<usize>load<u32>(r, PB_TARGET), load<u32>(r, PB_TARGET_LEN) - TRAILER_SIZE, 0);
    store<u32>(r, <u32>h, PB_H1);
    store<u32>(r, <u32>(h >>> 32), PB_H2);
  }
}
