// A FileSystem over node:fs whose link, table fdatasync and WAL writes a
// test can intercept: to refuse hard links, hold a flush, or fail the WAL.
import { basename } from 'node:path';
import { IOError, nodeFileSystem, type FileHandle, type FileLock, type FileSystem, type OpenMode } from '../../src/index.js';

export class HookedFs implements FileSystem {
  /** Replaces link(); default: node:fs. */
  link: (existing: string, newPath: string) => void = (existing, newPath) => nodeFileSystem.link(existing, newPath);
  /** Awaited before every fdatasync of a table file. */
  beforeTableSync: () => Promise<void> = () => Promise.resolve();
  /** Thrown from writes to WAL files when set. */
  walWriteError: Error | undefined;

  open(path: string, mode: OpenMode): FileHandle {
    const inner = nodeFileSystem.open(path, mode);
    const name = basename(path);
    const isTable = name.endsWith('.vt');
    const isWal = name.endsWith('.log');
    const hooks = this;
    return {
      path: inner.path,
      readSync: (b, o, l, p) => inner.readSync(b, o, l, p),
      read: (b, o, l, p) => inner.read(b, o, l, p),
      writeSync(b, o, l, p) {
        if (isWal && hooks.walWriteError) throw hooks.walWriteError;
        inner.writeSync(b, o, l, p);
      },
      write: (b, o, l, p) => inner.write(b, o, l, p),
      async datasync() {
        if (isTable) await hooks.beforeTableSync();
        await inner.datasync();
      },
      datasyncSync: () => inner.datasyncSync(),
      size: () => inner.size(),
      closeSync: () => inner.closeSync(),
    };
  }
  readFile(p: string): Uint8Array {
    return nodeFileSystem.readFile(p);
  }
  exists(p: string): boolean {
    return nodeFileSystem.exists(p);
  }
  readdir(d: string): string[] {
    return nodeFileSystem.readdir(d);
  }
  mkdir(d: string): void {
    nodeFileSystem.mkdir(d);
  }
  rmdir(d: string): Promise<void> {
    return nodeFileSystem.rmdir(d);
  }
  rename(from: string, to: string): void {
    nodeFileSystem.rename(from, to);
  }
  unlink(p: string): Promise<void> {
    return nodeFileSystem.unlink(p);
  }
  syncDir(d: string): Promise<void> {
    return nodeFileSystem.syncDir(d);
  }
  lock(p: string): FileLock {
    return nodeFileSystem.lock(p);
  }
}

/** The IOError node-fs gives for a failed link with errno `code`. */
export function linkError(code: string): IOError {
  return new IOError(`link failed: ${code} (injected)`, { cause: Object.assign(new Error(code), { code }) });
}
