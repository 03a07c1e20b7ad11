// The record layout of a batch of point reads in linear memory
// (assembly/point-batch.ts), and its hashing kernel. src/point-batch.ts
// stages the records; memtables and tables read them whole.
import { raw } from './loader.js';

interface PointBatchExports {
  pointBatchHash(records: number, count: number): void;
}

const kernel = raw as unknown as PointBatchExports;

/** Bytes per record, and each field's offset in it (see assembly/point-batch.ts). */
export const PB_RECORD = 64;
export const PB_TARGET = 0;
export const PB_TARGET_LEN = 4;
export const PB_H1 = 8;
export const PB_H2 = 12;
export const PB_SEQ = 16;
export const PB_TABLE = 24;
export const PB_RC = 28;
export const PB_OUT = 32;
export const PB_NODE = 56;
export const PB_DONE = 60;

/** Writes each record's key hash halves (h1, h2) from its target. Precondition: every target holds a trailer. */
export function pointBatchHash(records: number, count: number): void {
  kernel.pointBatchHash(records, count);
}
