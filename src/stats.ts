// What db.stats() returns: a plain, JSON-serializable object of counters and
// gauges (README, "Statistics", documents every field). Counters count since
// the database was opened; gauges describe the moment of the call.

/** One level of the tree. */
export interface LevelStats {
  level: number;
  files: number;
  bytes: number;
  /** The level's byte target; null for level 0, which is governed by its file count. */
  targetBytes: number | null;
  /** The picker's score (>= 1 means it wants a compaction); null for the last level. */
  score: number | null;
}

/** One live table (db.liveFiles()); keys are user keys. */
export interface LiveFile {
  level: number;
  /** The table's file number: its file is the number, zero-padded to six digits, with the extension .vt. */
  number: number;
  /** File size in bytes. */
  size: number;
  smallestKey: Uint8Array;
  largestKey: Uint8Array;
  smallestSeq: number;
  largestSeq: number;
}

/** Bytes and events of the write path, since open. */
export interface WriteStats {
  /** Sum of key + value bytes of every committed put, and key bytes of every committed del. */
  userBytesWritten: number;
  /** Bytes appended to WAL files (record framing included). */
  walBytesWritten: number;
  /** Bytes of the level-0 tables flushes wrote (tables written by recovery at open are not counted). */
  flushBytesWritten: number;
  /** Bytes of the input tables compactions read. */
  compactionBytesRead: number;
  /** Bytes of the output tables compactions wrote. */
  compactionBytesWritten: number;
  /** (flushBytesWritten + compactionBytesWritten) / userBytesWritten; 0 before anything is written. */
  writeAmplification: number;
  /** As writeAmplification, with walBytesWritten added to the bytes written. */
  writeAmplificationWithWal: number;
  flushes: number;
  /** Compactions that merged tables (trivial moves excluded). */
  compactions: number;
  /** Compactions that moved one table down a level by a MANIFEST edit alone. */
  trivialMoves: number;
}

export interface FilterStats {
  /** Point reads that probed a table's bloom filter. */
  checks: number;
  /** Probes that ruled the key out, so no index or data block was read. */
  useful: number;
  /** Probes that passed, but the table held no visible entry for the key. */
  falsePositives: number;
}

export interface BlockCacheStats {
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before any lookup. */
  hitRate: number;
  /** Bytes of decoded blocks cached now, pinned ones included. */
  bytes: number;
  capacity: number;
  /** Blocks flushes and compactions put in the cache as they wrote them (prepopulateBlockCache). */
  warmed: number;
}

export interface TableCacheStats {
  /** Table readers cached now (each holds an open file). */
  openTables: number;
  hits: number;
  misses: number;
}

export interface StallStats {
  /** Group commits delayed by 1 ms because level 0 had reached its slowdown threshold. */
  slowdowns: number;
  /** Group commits that waited for a flush or a compaction before they could go on. */
  stops: number;
  /** Milliseconds writers spent in slowdowns and stops. */
  stallMs: number;
}

export interface MemtableStats {
  /** Bytes the active memtable holds. */
  activeBytes: number;
  /** Frozen memtables waiting for (or in) their flush. */
  immutableCount: number;
  immutableBytes: number;
}

export interface WalStats {
  /** fdatasync calls on WAL files (sync writes, and syncs before a switch to a new WAL). */
  syncs: number;
  /** Bytes appended (same as write.walBytesWritten). */
  bytes: number;
  /** Records appended: one per group commit. */
  records: number;
}

export interface BackgroundStats {
  /** Whether a flush runs now. */
  flushing: boolean;
  /** Compactions running now. */
  compactions: number;
  /** The most compactions that ran at once since open. */
  peakCompactions: number;
  /** Table worker threads started since open (flushes and compactions share them; one starts only when every other is busy). */
  tableWorkers: number;
  /** The failure that made the database refuse writes, or null. */
  error: string | null;
}

export interface DatabaseStats {
  levels: LevelStats[];
  write: WriteStats;
  filter: FilterStats;
  blockCache: BlockCacheStats;
  tableCache: TableCacheStats;
  stalls: StallStats;
  memtable: MemtableStats;
  wal: WalStats;
  /** Sequence number of the newest committed write. */
  sequence: number;
  /** Snapshots taken and not yet released. */
  snapshots: number;
  background: BackgroundStats;
}

/** A ratio that is 0 instead of NaN or Infinity when nothing was counted. */
export function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : 0;
}

/** The raw byte and event counters WriteStats is made of. */
export type WriteCounters = Omit<WriteStats, 'writeAmplification' | 'writeAmplificationWithWal'>;

/** Adds the two write amplifications to the raw counters. */
export function writeStats(c: WriteCounters): WriteStats {
  const tableBytes = c.flushBytesWritten + c.compactionBytesWritten;
  return {
    ...c,
    writeAmplification: ratio(tableBytes, c.userBytesWritten),
    writeAmplificationWithWal: ratio(tableBytes + c.walBytesWritten, c.userBytesWritten),
  };
}
