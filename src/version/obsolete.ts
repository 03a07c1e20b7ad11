// Deleting files nothing needs any more. Runs only after the edit that
// retired them is durable, so a crash at any point leaves every file the
// MANIFEST names in place; a file left behind is deleted at the next open.
import { join } from 'node:path';
import type { IOError } from '../errors.js';
import type { FileSystem } from '../fs/filesystem.js';
import { parseFileName } from './filenames.js';

export interface LiveState {
  /** WALs numbered below this are in tables. */
  logNumber: number;
  /** The MANIFEST CURRENT names. */
  manifestNumber: number;
  /** Tables of every version still referenced. */
  liveTables: Set<number>;
  /** Tables being written that no version names yet; never deleted. */
  pendingTables: Set<number>;
}

/** Unlinks `path`; false if it was already gone (a flush and a compaction may clean up at once). */
async function unlinkIfPresent(fs: FileSystem, path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
    return true;
  } catch (err) {
    if ((err as IOError).errno === 'ENOENT') return false;
    throw err;
  }
}

/** The names in `dir` that `live` does not need. Synchronous: decided on one consistent view. */
function obsoleteNames(fs: FileSystem, dir: string, live: LiveState): string[] {
  return fs.readdir(dir).filter((name) => {
    const parsed = parseFileName(name);
    if (!parsed) return false;
    switch (parsed.kind) {
      case 'wal':
        return parsed.number < live.logNumber;
      case 'manifest':
        return parsed.number !== live.manifestNumber;
      case 'table':
        return !live.liveTables.has(parsed.number) && !live.pendingTables.has(parsed.number);
      case 'temp':
        return true;
      default:
        return false;
    }
  });
}

/**
 * Deletes obsolete WALs, MANIFESTs, tables and temp files; returns the names
 * deleted. Which files go is decided before the first unlink: a table that
 * is pending now may be installed (and no longer pending) by the time a
 * later unlink runs, and must not be judged then against this older view.
 */
export async function deleteObsoleteFiles(fs: FileSystem, dir: string, live: LiveState): Promise<string[]> {
  const deleted: string[] = [];
  for (const name of obsoleteNames(fs, dir, live)) {
    if (await unlinkIfPresent(fs, join(dir, name))) deleted.push(name);
  }
  return deleted;
}
