// Checkpoints (docs/FORMAT.md, "Checkpoints"): a copy of one version of the
// database in a new directory that opens as a database. Tables are immutable,
// so they are hard-linked (copied where the filesystem cannot link); a fresh
// MANIFEST names exactly that version's tables, and CURRENT names it. The
// copy is built in a temporary sibling directory and renamed into place, so
// `dir` holds either nothing or a whole checkpoint, whatever crashes.
//
// Precondition: the caller has flushed what the checkpoint must contain.
import { basename, dirname, join } from 'node:path';
import { CorruptionError, ExistsError, type IOError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { FileSystem } from './fs/filesystem.js';
import { COMPARATOR_NAME, type FileMetadata, type VersionEdit, encodeVersionEdit } from './version/edit.js';
import { ManifestWriter } from './version/manifest.js';
import { tableFileName } from './version/filenames.js';
import type { VersionSet } from './version/set.js';
import type { Version } from './version/version.js';

/** link() errors that mean "this filesystem cannot link here": copy instead. */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

const COPY_CHUNK = 1024 * 1024;

/** Throws unless `dir` can become a checkpoint: it must not exist, and its parent must. */
export function checkCheckpointTarget(fs: FileSystem, dir: string): void {
  if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('checkpoint takes a directory path');
  if (fs.exists(dir)) throw new ExistsError(`checkpoint target ${dir} already exists`);
  const parent = dirname(dir);
  if (!fs.exists(parent)) throw new NotFoundError(`checkpoint target's parent directory ${parent} does not exist`);
}

/** The temporary sibling a checkpoint of `dir` is built in: a hidden name no database file has. */
function tempDirFor(dir: string): string {
  const suffix = Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return join(dirname(dir), `.${basename(dir)}.checkpoint-${suffix}.tmp`);
}

/** The single MANIFEST record of a checkpoint: the whole of `version`, with the set's counters. */
function checkpointEdit(version: Version, versions: VersionSet): VersionEdit {
  return {
    comparator: COMPARATOR_NAME,
    logNumber: versions.logNumber,
    nextFileNumber: versions.nextFileNumber,
    lastSequence: versions.lastSequence,
    deletedFiles: [],
    newFiles: version.levels.flatMap((files, level) => files.map((meta) => ({ level, meta }))),
  };
}

/**
 * Writes a checkpoint of the current version of `versions` (tables in
 * `sourceDir`) to `dir`. The version is referenced until every table is
 * linked or copied, so no compaction deletes one meanwhile.
 */
export async function writeCheckpoint(fs: FileSystem, sourceDir: string, dir: string, versions: VersionSet): Promise<void> {
  checkCheckpointTarget(fs, dir);
  const temp = tempDirFor(dir);
  fs.mkdir(temp);
  try {
    // Allocated before the edit is made, so the edit's next file number is above it.
    const manifestNumber = versions.newFileNumber();
    const version = versions.refCurrent();
    const edit = checkpointEdit(version, versions);
    try {
      await placeTables(fs, sourceDir, temp, version.levels.flat());
    } finally {
      version.unref();
    }
    // Syncs the MANIFEST, then the directory (covering the links), then CURRENT and the directory again.
    const manifest = await ManifestWriter.create(fs, temp, manifestNumber, [encodeVersionEdit(edit)]);
    await manifest.close();
    if (fs.exists(dir)) throw new ExistsError(`checkpoint target ${dir} already exists`);
    fs.rename(temp, dir);
  } catch (err) {
    await removeQuietly(fs, temp);
    throw err;
  }
  await fs.syncDir(dirname(dir));
}

/** Hard-links each table into `to`; after the first link the filesystem refuses, copies the rest. */
async function placeTables(fs: FileSystem, from: string, to: string, tables: readonly FileMetadata[]): Promise<void> {
  let linking = true;
  for (const meta of tables) {
    const name = tableFileName(meta.number);
    if (linking) {
      try {
        fs.link(join(from, name), join(to, name));
        continue;
      } catch (err) {
        if (!LINK_UNSUPPORTED.has((err as IOError).errno ?? '')) throw err;
        linking = false;
      }
    }
    await copyFile(fs, join(from, name), join(to, name), meta.size);
  }
}

/** Copies the `size` bytes of `from` into a new file `to` and fdatasyncs it. */
async function copyFile(fs: FileSystem, from: string, to: string, size: number): Promise<void> {
  const source = fs.open(from, 'read');
  try {
    const target = fs.open(to, 'write');
    try {
      const buffer = new Uint8Array(Math.min(size, COPY_CHUNK));
      for (let at = 0; at < size; ) {
        const n = await source.read(buffer, 0, Math.min(buffer.length, size - at), at);
        if (n === 0) throw new CorruptionError(`${from}: at offset ${at}: the table ends ${size - at} bytes before the size the MANIFEST records`);
        await target.write(buffer, 0, n, at);
        at += n;
      }
      await target.datasync();
    } finally {
      target.closeSync();
    }
  } finally {
    source.closeSync();
  }
}

/** Best-effort removal of a half-built checkpoint; the error being reported matters more. */
async function removeQuietly(fs: FileSystem, temp: string): Promise<void> {
  try {
    for (const name of fs.readdir(temp)) await fs.unlink(join(temp, name));
    await fs.rmdir(temp);
  } catch {
    // A leftover hidden .tmp directory is harmless and never mistaken for a checkpoint.
  }
}
