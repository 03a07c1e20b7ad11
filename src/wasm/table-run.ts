// The table builder's batch scan of a run (assembly/table-run.ts).
import { InvalidArgumentError } from '../errors.js';
import { Region, view } from './heap.js';
import { raw } from './loader.js';

interface TableRunExports {
  tableRunScan(p: number, end: number, budget: number, firstIsNew: number, rows: number, rowsCap: number, hashes: number, scan: number): number;
}

const ex = raw as unknown as TableRunExports;

const E_RUN_TRUNCATED = -40;
const E_RUN_KIND = -41;
const E_RUN_SEQUENCE = -42;

/** One batch of run entries: its rows and filter hashes are in the caller's buffers, its counts here. */
export interface RunBatch {
  /** Entries in the batch. */
  count: number;
  /** Address just past the batch. */
  next: number;
  /** Filter hashes written: the entries that start a user key. */
  hashes: number;
  deletions: number;
  rangeDeletions: number;
  keyBytes: number;
  valueBytes: number;
  smallestSeq: number;
  largestSeq: number;
}

const scan = new Region(48);

/**
 * Scans the batch of run entries from `p` (before `end`) whose worst-case
 * encoded size first reaches `budget`: at most `rowsCap` 16-byte rows at
 * `rows`, and one 8-byte hash per entry that starts a user key at `hashes`
 * (room for `rowsCap`). `firstIsNew`: whether the first entry starts one.
 * Throws InvalidArgumentError for a malformed entry.
 */
export function scanRunBatch(p: number, end: number, budget: number, firstIsNew: boolean, rows: number, rowsCap: number, hashes: number): RunBatch {
  const at = scan.ptr;
  const count = ex.tableRunScan(p, end, budget, firstIsNew ? 1 : 0, rows, rowsCap, hashes, at);
  const v = view();
  if (count < 0) throw runError(count, v.getUint32(at, true));
  return {
    count,
    next: v.getUint32(at, true),
    hashes: v.getUint32(at + 4, true),
    deletions: v.getUint32(at + 8, true),
    rangeDeletions: v.getUint32(at + 12, true),
    keyBytes: v.getFloat64(at + 16, true),
    valueBytes: v.getFloat64(at + 24, true),
    smallestSeq: v.getFloat64(at + 32, true),
    largestSeq: v.getFloat64(at + 40, true),
  };
}

function runError(code: number, entry: number): InvalidArgumentError {
  if (code === E_RUN_TRUNCATED) return new InvalidArgumentError(`run entry at byte ${entry} is truncated or has a key under 8 bytes`);
  const v = view();
  const keyEnd = entry + 8 + v.getUint32(entry, true);
  if (code === E_RUN_KIND) return new InvalidArgumentError(`internal key has unknown kind ${v.getUint8(keyEnd - 8)}`);
  if (code === E_RUN_SEQUENCE) return new InvalidArgumentError('internal key sequence exceeds 2^53 - 1');
  return new InvalidArgumentError(`run scan failed with code ${code}`);
}
