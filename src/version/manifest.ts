// The MANIFEST and CURRENT files (docs/FORMAT.md, "MANIFEST and CURRENT").
// A MANIFEST is a log (src/wal/format.ts) whose records are encoded version
// edits, opaque here; its first records are a full snapshot of the version
// set. CURRENT names the live MANIFEST and is replaced atomically, so a
// crash at any point leaves either the old or the new manifest live.
import { join } from 'node:path';
import { ClosedError, CorruptionError } from '../errors.js';
import type { FileSystem } from '../fs/filesystem.js';
import { LogReader } from '../wal/reader.js';
import { LogWriter } from '../wal/writer.js';
import { CURRENT_FILE, currentTempFileName, manifestFileName, parseFileName } from './filenames.js';
import { type Deferred, deferred } from '../deferred.js';

/** CURRENT holds a manifest name and '\n': far below this. */
const MAX_CURRENT_BYTES = 64;

/** Best-effort cleanup after a failure that is already being reported. */
async function removeQuietly(fs: FileSystem, path: string): Promise<void> {
  try {
    if (fs.exists(path)) await fs.unlink(path);
  } catch {
    // The original error matters more; a leftover file is obsolete and removed later.
  }
}

/** Writes and fdatasyncs the CURRENT temp file that names manifest `fileNumber`. */
async function writeCurrentTemp(fs: FileSystem, tempPath: string, fileNumber: number): Promise<void> {
  const contents = new TextEncoder().encode(`${manifestFileName(fileNumber)}\n`);
  const temp = fs.open(tempPath, 'write');
  try {
    temp.writeSync(contents, 0, contents.length, null);
    await temp.datasync();
  } finally {
    temp.closeSync();
  }
}

export class ManifestWriter {
  /** `MANIFEST-NNNNNN`. */
  readonly fileName: string;
  readonly fileNumber: number;
  readonly #log: LogWriter;
  /** Appends framed since the last group started syncing; they share the next write and fdatasync. */
  #waiting: Deferred | undefined;
  /** The loop syncing groups, while one runs. */
  #syncing: Promise<void> | undefined;
  #closed = false;

  private constructor(fileNumber: number, log: LogWriter) {
    this.fileNumber = fileNumber;
    this.fileName = manifestFileName(fileNumber);
    this.#log = log;
  }

  /**
   * Writes MANIFEST-`fileNumber` (a new file) holding `snapshotPayloads`,
   * makes it durable, then makes it live by switching CURRENT. On a failure
   * before the switch, the new files are removed and the old CURRENT stays.
   */
  static async create(fs: FileSystem, dir: string, fileNumber: number, snapshotPayloads: Uint8Array[]): Promise<ManifestWriter> {
    const path = join(dir, manifestFileName(fileNumber));
    const tempPath = join(dir, currentTempFileName(fileNumber));
    const log = new LogWriter(fs.open(path, 'write'));
    let renamed = false;
    try {
      for (const payload of snapshotPayloads) log.addRecordBytes(payload);
      await log.sync();
      // The manifest's directory entry must be durable before CURRENT can name it.
      await fs.syncDir(dir);
      // CURRENT is switched by write temp, fdatasync, rename, fsync the directory.
      await writeCurrentTemp(fs, tempPath, fileNumber);
      fs.rename(tempPath, join(dir, CURRENT_FILE));
      renamed = true;
      await fs.syncDir(dir);
    } catch (err) {
      try {
        log.close();
      } catch {
        // Reporting err matters more than a failed close of a file being abandoned.
      }
      // A failed rename changed nothing, so the new files are unreferenced. After the
      // rename CURRENT names the new manifest (durably or not): it must stay.
      if (!renamed) {
        await removeQuietly(fs, tempPath);
        await removeQuietly(fs, path);
      }
      throw err;
    }
    return new ManifestWriter(fileNumber, log);
  }

  /** Bytes in the manifest, pending appends included. */
  get size(): number {
    return this.#log.offset;
  }

  /**
   * Appends one edit; resolves once it is durable. Appends made while an
   * fdatasync runs are written and synced together by the next one, in call
   * order. After a failed write or sync every append rejects with that error.
   */
  append(payload: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`manifest writer for ${this.fileName} is closed`));
    try {
      this.#log.addRecordBytes(payload);
    } catch (err) {
      return Promise.reject(err);
    }
    const group = (this.#waiting ??= deferred());
    // Start syncing on a later microtask, so appends made in the same tick join one group.
    this.#syncing ??= Promise.resolve().then(() => this.#syncGroups());
    return group.promise;
  }

  /** Waits for appends in flight, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#syncing) await this.#syncing;
    this.#log.close();
  }

  async #syncGroups(): Promise<void> {
    while (this.#waiting) {
      const group = this.#waiting;
      this.#waiting = undefined;
      try {
        // The log writer stays poisoned after a failure, so later groups fail with the same error.
        await this.#log.sync();
        group.resolve();
      } catch (err) {
        group.reject(err);
      }
    }
    this.#syncing = undefined;
  }
}

/** Name of the live manifest, from CURRENT. CorruptionError if CURRENT is malformed or names a missing file. */
export function readCurrent(fs: FileSystem, dir: string): string {
  const path = join(dir, CURRENT_FILE);
  const bytes = fs.readFile(path);
  const text = bytes.length <= MAX_CURRENT_BYTES ? String.fromCharCode(...bytes) : '';
  const name = text.endsWith('\n') ? text.slice(0, -1) : '';
  if (parseFileName(name)?.kind !== 'manifest') {
    throw new CorruptionError(`${path}: at offset 0: expected a manifest file name and a newline, found ${bytes.length} bytes that are not`);
  }
  if (!fs.exists(join(dir, name))) throw new CorruptionError(`${path}: names ${name}, which does not exist`);
  return name;
}

/**
 * Every edit payload in manifest `name`, in order. A torn tail (an append
 * that was never acknowledged) is dropped; other damage is a CorruptionError
 * naming the file and offset.
 */
export function readManifest(fs: FileSystem, dir: string, name: string): Uint8Array[] {
  const path = join(dir, name);
  // Every edit was fsync'ed before it took effect: only a cut-short tail (the
  // edit being appended at a crash) may be dropped; a damaged complete one is corruption.
  const reader = new LogReader(fs.readFile(path), path, { tailMayBeTorn: true, onlyTruncatedTail: true });
  const payloads: Uint8Array[] = [];
  for (let payload = reader.next(); payload !== undefined; payload = reader.next()) payloads.push(payload);
  return payloads;
}
