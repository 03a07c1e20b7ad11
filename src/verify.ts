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

/**
 * Checks the live files of the database in `dir`: `tables` through
 * `tableCache`, and `logs` (names of the live WALs and the MANIFEST), whose
 * every record must be whole and match its checksum (an open database's
 * logs end in whole records: recovery has dropped any torn tail).
 */
export function verifyFiles(fs: FileSystem, dir: string, tableCache: TableCache, tables: readonly FileMetadata[], logs: readonly string[]): VerifyReport {
  const report: VerifyReport = { tables: 0, dataBlocks: 0, logs: 0, logRecords: 0, findings: [] };
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
  }
  for (const name of logs) {
    const path = join(dir, name);
    report.logs++;
    try {
      const reader = new LogReader(fs.readFile(path), path, { tailMayBeTorn: false });
      while (reader.next() !== undefined) report.logRecords++;
    } catch (err) {
      report.findings.push(finding(path, err));
    }
  }
  return report;
}
