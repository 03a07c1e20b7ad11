// Deleting files nothing needs any more. Runs only after the edit that
// retired them is durable, so a crash at any point leaves every file the
// MANIFEST names in place; a file left behind is deleted at the next open.
import { join } from 'node:path';
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

/** Deletes obsolete WALs, MANIFESTs, tables and temp files; returns the names deleted. */
export async function deleteObsoleteFiles(fs: FileSystem, dir: string, live: LiveState): Promise<string[]> {
  const deleted: string[] = [];
  for (const name of fs.readdir(dir)) {
    const parsed = parseFileName(name);
    if (!parsed) continue;
    let obsolete = false;
    switch (parsed.kind) {
      case 'wal':
        obsolete = parsed.number < live.logNumber;
        break;
      case 'manifest':
        obsolete = parsed.number !== live.manifestNumber;
        break;
      case 'table':
        obsolete = !live.liveTables.has(parsed.number) && !live.pendingTables.has(parsed.number);
        break;
      case 'temp':
        obsolete = true;
        break;
      default:
        obsolete = false;
    }
    if (obsolete) {
      await fs.unlink(join(dir, name));
      deleted.push(name);
    }
  }
  return deleted;
}
