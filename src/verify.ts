// verify(): checks every checksum of a database's live files, reading the
// files themselves, never a cache: each table as a reader opens it (footer,
// index, filter, properties and range-deletion blocks) and every data block;
// every record of the live WALs and of the MANIFEST. Damage is reported,
// not repaired; each finding names the file and what failed there.
import { join } from 'node:path';
import { CorruptionError, IOError } from './errors.js';
import type { FileSystem } from './fs/filesystem.js';
import type { TableCache } from './table/table-cache.js';
import type { FileMetadata } from './version/edit.js';
import { tableFileName } from './version/filenames.js';
import { LogReader } from './wal/reader.js';
import { eventLoopTurn } from './read-pacer.js';

export interface VerifyFinding {
  /** The damaged file's path. */
  file: string;
  message: string;
}

export interface VerifyReport {
  tables: number;
  /** Data blocks read and checked, in every table that opened. */
  dataBlocks: number;
  /** Log files (WALs and the MANIFEST) read, and the records in them. */
  logs: number;
  logRecords: number;
  /** Empty when every checksum matched. */
  findings: VerifyFinding[];
}

/** What a damaged or unreadable file reports; any other error is a bug, and is thrown. */
function finding(file: string, err: unknown): VerifyFinding {
  if (err instanceof CorruptionError || err instanceof IOError) return { file, message: err.message };
  throw err;
}

/** Hears verify's progress: files checked so far, of `total`. */
export type VerifyProgress = (checked: number, total: number) => void;

/**
 * Checks the live files of the database in `dir`: `tables` through
 * `tableCache`, and `logs` (names of the live WALs and the MANIFEST), whose
 * every record must be whole and match its checksum (an open database's
 * logs end in whole records: recovery has dropped any torn tail). The event
 * loop gets a turn after each file, when `onProgress` hears of it; the logs
 * are read before the first turn, while they are sure to be live (a flush
 * may delete a WAL, a MANIFEST rollover the MANIFEST; tables stay while the
 * caller holds their version).
 */
export async function verifyFiles(
  fs: FileSystem,
  dir: string,
  tableCache: TableCache,
  tables: readonly FileMetadata[],
  logs: readonly string[],
  onProgress?: VerifyProgress,
): Promise<VerifyReport> {
  const report: VerifyReport = { tables: 0, dataBlocks: 0, logs: 0, logRecords: 0, findings: [] };
  const logBytes = logs.map((name) => {
    try {
      return fs.readFile(join(dir, name));
    } catch (err) {
      return err;
    }
  });
  const total = tables.length + logs.length;
  const checked = async (): Promise<void> => {
    onProgress?.(report.tables + report.logs, total);
    await eventLoopTurn();
  };
  for (const meta of tables) {
    const path = join(dir, tableFileName(meta.number));
    report.tables++;
    try {
      const { blocks, failures } = tableCache.verify(meta);
      report.dataBlocks += blocks;
      for (const failure of failures) report.findings.push(finding(path, failure));
    } catch (err) {
      report.findings.push(finding(path, err));
    }
    await checked();
  }
  for (const [i, name] of logs.entries()) {
    const path = join(dir, name);
    const bytes = logBytes[i];
    report.logs++;
    try {
      if (!(bytes instanceof Uint8Array)) throw bytes;
      const reader = new LogReader(bytes, path, { tailMayBeTorn: false });
      while (reader.next() !== undefined) report.logRecords++;
    } catch (err) {
      report.findings.push(finding(path, err));
    }
    await checked();
  }
  return report;
}
