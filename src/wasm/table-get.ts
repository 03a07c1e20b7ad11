// A point read of one table in one call (assembly/table-get.ts): bloom
// filter, index search and data block seek over blocks the block cache's
// map names (./block-map.ts). The table struct and the result struct live
// in linear memory; src/table/reader.ts writes the one and reads the other.
import { raw } from './loader.js';

interface TableGetExports {
  tableGet(table: number, target: number, targetLength: number, h1: number, h2: number, out: number): number;
  tableGetBatch(records: number, count: number): void;
}

const kernel = raw as unknown as TableGetExports;

/**
 * Bytes of the table struct, u32 LE unless noted: 0 filter, 4 its length,
 * 8..27 the index block's search (DecodedBlock.writeSearch), 28 the data
 * blocks' offsets (u32 each), 32 the block map, 40 f64 the cache key of
 * offset 0.
 */
export const TABLE_SIZE = 48;
export const T_FILTER = 0;
export const T_INDEX = 8;
export const T_OFFSETS = 28;
export const T_MAP = 32;
export const T_CACHE_BASE = 40;

/** Bytes of the result: 0 block index, 4 value address, 8 value length, 12 trailer (u64), 20 blocks read from the map. */
export const GET_OUT_SIZE = 24;
export const OUT_BLOCK = 0;
export const OUT_VALUE = 4;
export const OUT_VALUE_LENGTH = 8;
export const OUT_TRAILER = 12;
export const OUT_MAP_HITS = 20;

export const GET_FILTERED = 0;
export const GET_ABSENT = 1;
export const GET_FOUND = 2;
export const GET_NEED_BLOCK = 3;

/** A GET_ code, or a negative block error code (src/wasm/block.ts) for the block at OUT_BLOCK. */
export function tableGet(table: number, target: number, targetLength: number, h1: number, h2: number, out: number): number {
  return kernel.tableGet(table, target, targetLength, h1, h2, out);
}

/**
 * tableGet for each record of a point batch (./point-batch.ts) whose
 * PB_TABLE names a table struct: its code at PB_RC, its result at PB_OUT.
 */
export function tableGetBatch(records: number, count: number): void {
  kernel.tableGetBatch(records, count);
}
