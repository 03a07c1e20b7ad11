// Opening a database: take the LOCK, rebuild the version set from the
// MANIFEST that CURRENT names, replay every WAL the MANIFEST does not cover
// (oldest first) into level-0 tables, then start a fresh MANIFEST holding
// the recovered state and a fresh WAL, and delete what is obsolete.
//
// Only the newest WAL may end in a torn record (the engine syncs a WAL
// before switching to the next): its tail was never acknowledged and is
// dropped. Damage anywhere else is a CorruptionError naming file and offset.
import { join } from 'node:path';
import { CorruptionError, ExistsError, NotFoundError } from './errors.js';
import type { FileLock, FileSystem } from './fs/filesystem.js';
import type { ResolvedOptions } from './options.js';
import { Memtable } from './memtable/memtable.js';
import { chunkSizeFor } from './wasm/skiplist.js';
import { LogReader } from './wal/reader.js';
import { LogWriter } from './wal/writer.js';
import { ManifestWriter, readCurrent, readManifest } from './version/manifest.js';
import { CURRENT_FILE, LOCK_FILE, parseFileName, tableFileName, walFileName } from './version/filenames.js';
import { VersionSet } from './version/set.js';
import type { NewFile } from './version/edit.js';
import { deleteObsoleteFiles } from './version/obsolete.js';
import { TableWorkers } from './flush/table-workers.js';
import { writeTable } from './flush/write-table.js';
import { TableCache } from './table/table-cache.js';
import { Region } from './wasm/heap.js';
import type { DatabaseParts } from './db.js';

/** The first sequence of a write batch: its u64 LE header, as a number. */
function batchSequence(record: Uint8Array): number {
  const dv = new DataView(record.buffer, record.byteOffset, 8);
  return dv.getUint32(0, true) + dv.getUint32(4, true) * 0x1_0000_0000;
}

interface Replay {
  lastSequence: number;
  newFiles: NewFile[];
}

/** Replays the WALs numbered >= the MANIFEST's log number into level-0 tables. */
async function replayLogs(fs: FileSystem, dir: string, versions: VersionSet, workers: TableWorkers, options: ResolvedOptions): Promise<Replay> {
  const numbers = fs
    .readdir(dir)
    .map((name) => parseFileName(name))
    .filter((p) => p?.kind === 'wal' && p.number >= versions.logNumber)
    .map((p) => p!.number)
    .sort((a, b) => a - b);
  const replay: Replay = { lastSequence: versions.lastSequence, newFiles: [] };
  const region = new Region(64 * 1024);
  const chunkSize = chunkSizeFor(options.memtableSize);
  let mem = new Memtable(0, chunkSize);
  const flush = async () => {
    if (mem.count > 0) {
      const { meta } = await workers.run((worker) => writeTable(fs, dir, versions.newFileNumber(), mem.exportRun(), mem.rangeTombstones, worker, options));
      replay.newFiles.push({ level: 0, meta });
    }
    mem.unref();
    mem = new Memtable(0, chunkSize);
  };
  try {
    for (const [i, number] of numbers.entries()) {
      const path = join(dir, walFileName(number));
      const reader = new LogReader(fs.readFile(path), path, { tailMayBeTorn: i === numbers.length - 1 });
      for (let record = reader.next(); record !== undefined; record = reader.next()) {
        if (record.length < 12) throw new CorruptionError(`${path}: record at offset ${reader.offset} is too short for a write batch`);
        const ptr = region.load(record);
        let count: number;
        try {
          count = mem.insertBatchAt(ptr, record.length);
        } catch (err) {
          throw new CorruptionError(`${path}: malformed write batch at offset ${reader.offset}`, { cause: err });
        }
        if (count > 0) replay.lastSequence = Math.max(replay.lastSequence, batchSequence(record) + count - 1);
        if (mem.entryBytes >= options.memtableSize) await flush();
      }
    }
    await flush();
  } finally {
    mem.unref();
    region.release();
  }
  return replay;
}

/** Every table the recovered version names must be in the directory listing `names`. */
function checkTablesPresent(versions: VersionSet, names: string[], manifestPath: string): void {
  const present = new Set(names);
  const missing = [...versions.liveFiles()].map(tableFileName).filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new CorruptionError(`${manifestPath}: names ${missing.length} table file(s) that are missing: ${missing.slice(0, 5).join(', ')}`);
  }
}

/**
 * Without CURRENT the database would start empty and delete every table as
 * obsolete. Tables without CURRENT mean CURRENT was lost (a crash never
 * leaves that: CURRENT exists before the first table is written), so refuse.
 */
function refuseOrphanedTables(dir: string, names: string[]): void {
  const tables = names.filter((name) => parseFileName(name)?.kind === 'table');
  if (tables.length > 0) {
    throw new CorruptionError(`${join(dir, CURRENT_FILE)}: missing, but the directory holds ${tables.length} table file(s) (${tables.slice(0, 5).join(', ')}); refusing to create a new database over them`);
  }
}

/** Opens the database in `dir` (creating it when allowed) and returns what the Database runs on. */
export async function recover(dir: string, options: ResolvedOptions): Promise<DatabaseParts> {
  const fs = options.fs;
  if (!fs.exists(dir)) {
    if (!options.createIfMissing) throw new NotFoundError(`no database at ${dir}: the directory does not exist (createIfMissing is false)`);
    fs.mkdir(dir);
  }
  const lock: FileLock = fs.lock(join(dir, LOCK_FILE));
  const workers = new TableWorkers();
  try {
    const versions = new VersionSet();
    const names = fs.readdir(dir);
    if (fs.exists(join(dir, CURRENT_FILE))) {
      if (options.errorIfExists) throw new ExistsError(`a database already exists at ${dir} (errorIfExists is true)`);
      const name = readCurrent(fs, dir);
      const manifestPath = join(dir, name);
      versions.recover(readManifest(fs, dir, name), manifestPath);
      checkTablesPresent(versions, names, manifestPath);
    } else if (!options.createIfMissing) {
      throw new NotFoundError(`no database at ${dir}: the directory holds no CURRENT file (createIfMissing is false)`);
    } else {
      refuseOrphanedTables(dir, names);
    }
    // Never hand out a number a file on disk already has.
    for (const name of names) {
      const parsed = parseFileName(name);
      if (parsed && parsed.number > 0) versions.markFileNumberUsed(parsed.number);
    }
    const replay = await replayLogs(fs, dir, versions, workers, options);
    versions.lastSequence = replay.lastSequence;

    // A fresh MANIFEST with the recovered state, then a fresh WAL that it names.
    const manifestNumber = versions.newFileNumber();
    let manifest: ManifestWriter | undefined;
    await versions.useManifest(async (snapshot) => {
      manifest = await ManifestWriter.create(fs, dir, manifestNumber, [snapshot]);
      return manifest;
    });
    const walNumber = versions.newFileNumber();
    const walFile = fs.open(join(dir, walFileName(walNumber)), 'write');
    await fs.syncDir(dir);
    await versions.logAndApply({ logNumber: walNumber, newFiles: replay.newFiles, deletedFiles: [] });
    await deleteObsoleteFiles(fs, dir, { logNumber: walNumber, manifestNumber, liveTables: versions.liveFiles(), pendingTables: new Set() });
    return {
      dir,
      options,
      lock,
      versions,
      manifest: manifest!,
      manifestNumber,
      workers,
      tables: new TableCache(fs, dir, options.maxOpenFiles, options.blockCacheSize),
      wal: { number: walNumber, file: walFile, writer: new LogWriter(walFile) },
      lastSequence: replay.lastSequence,
    };
  } catch (err) {
    await workers.terminate();
    lock.release();
    throw err;
  }
}
