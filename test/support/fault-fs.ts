// A FileSystem over node:fs for fault tests, doing two things:
//
// - Injected errors: arm a fault (an operation kind, the how-many-th call of
//   it, an errno such as ENOSPC or EIO, optionally sticky: every later call
//   of that kind fails too, as a full disk does) and that call throws an
//   IOError carrying the errno, before touching the disk. Clearing the fault
//   is "space returns".
// - Machine crashes: it remembers what is durable. A file's data is durable
//   as of its last fdatasync; a name in a directory (creation, rename,
//   unlink, link) only once the directory is fsynced. crashImage(dir, to)
//   writes the directory as a machine crash would leave it: the names of
//   its last fsync, each with the data of its file's last fdatasync (empty
//   if never synced); everything else is lost. After a crash the file
//   system is dead: every call fails, so the abandoned database changes
//   nothing more. Directories themselves are taken as durable.
//
// Files are modelled per inode, so a rename or link carries the file's
// durable data with it. The LOCK file is the lock's business, not data,
// and is left out of images.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IOError, nodeFileSystem, type FileHandle, type FileLock, type FileSystem, type OpenMode } from '../../src/index.js';

export type FaultOp = 'open' | 'read' | 'write' | 'sync' | 'rename' | 'unlink' | 'link' | 'syncDir' | 'readFile' | 'readdir' | 'mkdir';

export interface Fault {
  op: FaultOp;
  /** The call that fails: 1 is the next call of `op` after arming. */
  nth: number;
  errno: 'ENOSPC' | 'EIO';
  /** Every call of `op` from the nth on fails, until cleared. */
  sticky?: boolean;
  /** Only calls on paths matching this count (default: every path). */
  path?: RegExp;
}

interface Inode {
  /** Contents as of the last fdatasync; undefined if never synced. */
  synced: Uint8Array | undefined;
}

export class FaultFs implements FileSystem {
  /** Calls made per operation kind, faults or not. */
  readonly calls = new Map<FaultOp, number>();
  /** Errors thrown by injection, in order. */
  readonly injected: IOError[] = [];
  #fault: Fault | undefined;
  #seen = 0;
  #dead = false;
  /** Current names per directory, and the names as of each directory's last fsync. */
  readonly #current = new Map<string, Map<string, Inode>>();
  readonly #durable = new Map<string, Map<string, Inode>>();

  /** `dirs`: directories whose files existing now count as durable (those a test reopens). */
  constructor(...dirs: string[]) {
    for (const dir of dirs) {
      const names = new Map<string, Inode>();
      for (const name of safeReaddir(dir)) {
        if (statSync(join(dir, name)).isFile()) names.set(name, { synced: readFileSync(join(dir, name)) });
      }
      this.#current.set(dir, names);
      this.#durable.set(dir, new Map(names));
    }
  }

  arm(fault: Fault): void {
    this.#fault = fault;
    this.#seen = 0;
  }

  /** Space returns: no more injected errors. */
  clear(): void {
    this.#fault = undefined;
  }

  /** Counts the call; throws the armed fault's error when this call is the one, or when the file system is dead. */
  #enter(op: FaultOp, path: string): void {
    if (this.#dead) throw new IOError(`${op} ${path} failed: EIO (the machine crashed)`, { cause: { code: 'EIO' } });
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const f = this.#fault;
    if (f === undefined || f.op !== op || (f.path !== undefined && !f.path.test(path))) return;
    this.#seen++;
    if (this.#seen === f.nth || (f.sticky === true && this.#seen > f.nth)) {
      const err = new IOError(`${op} ${path} failed: ${f.errno} (injected)`, { cause: { code: f.errno } });
      this.injected.push(err);
      throw err;
    }
  }

  #names(dir: string): Map<string, Inode> {
    let names = this.#current.get(dir);
    if (names === undefined) this.#current.set(dir, (names = new Map()));
    return names;
  }

  #inode(path: string): Inode | undefined {
    return this.#names(dirname(path)).get(basename(path));
  }

  /**
   * Writes into `to` (a new directory) what `dir` holds after a machine crash
   * now, and kills this file system.
   */
  crashImage(dir: string, to: string): void {
    this.#dead = true;
    mkdirSync(to, { recursive: true });
    for (const [name, inode] of this.#durable.get(dir) ?? new Map<string, Inode>()) {
      if (name !== 'LOCK') writeFileSync(join(to, name), inode.synced ?? new Uint8Array(0));
    }
  }

  open(path: string, mode: OpenMode): FileHandle {
    this.#enter('open', path);
    const inner = nodeFileSystem.open(path, mode);
    if (mode !== 'read' && this.#inode(path) === undefined) this.#names(dirname(path)).set(basename(path), { synced: undefined });
    const fs = this;
    return {
      path: inner.path,
      readSync(b, o, l, p) {
        fs.#enter('read', path);
        return inner.readSync(b, o, l, p);
      },
      async read(b, o, l, p) {
        fs.#enter('read', path);
        return inner.read(b, o, l, p);
      },
      writeSync(b, o, l, p) {
        fs.#enter('write', path);
        inner.writeSync(b, o, l, p);
      },
      async write(b, o, l, p) {
        fs.#enter('write', path);
        await inner.write(b, o, l, p);
      },
      async datasync() {
        fs.#enter('sync', path);
        await inner.datasync();
        fs.#synced(path);
      },
      datasyncSync() {
        fs.#enter('sync', path);
        inner.datasyncSync();
        fs.#synced(path);
      },
      size: () => inner.size(),
      closeSync: () => inner.closeSync(),
    };
  }

  /**
   * The file at `path` is durable as it is now (its inode, whatever names it
   * has). A sync that was under way when the machine crashed never returns.
   */
  #synced(path: string): void {
    if (this.#dead) throw new IOError(`fdatasync ${path} failed: EIO (the machine crashed)`, { cause: { code: 'EIO' } });
    const inode = this.#inode(path);
    if (inode !== undefined) inode.synced = readFileSync(path);
  }

  readFile(path: string): Uint8Array {
    this.#enter('readFile', path);
    return nodeFileSystem.readFile(path);
  }

  exists(path: string): boolean {
    return nodeFileSystem.exists(path);
  }

  readdir(dir: string): string[] {
    this.#enter('readdir', dir);
    return nodeFileSystem.readdir(dir);
  }

  mkdir(dir: string): void {
    this.#enter('mkdir', dir);
    nodeFileSystem.mkdir(dir);
  }

  rmdir(dir: string): Promise<void> {
    return nodeFileSystem.rmdir(dir);
  }

  rename(from: string, to: string): void {
    this.#enter('rename', from);
    nodeFileSystem.rename(from, to);
    const inode = this.#inode(from) ?? { synced: undefined };
    this.#names(dirname(from)).delete(basename(from));
    this.#names(dirname(to)).set(basename(to), inode);
  }

  async unlink(path: string): Promise<void> {
    this.#enter('unlink', path);
    await nodeFileSystem.unlink(path);
    this.#names(dirname(path)).delete(basename(path));
  }

  link(existing: string, newPath: string): void {
    this.#enter('link', existing);
    nodeFileSystem.link(existing, newPath);
    this.#names(dirname(newPath)).set(basename(newPath), this.#inode(existing) ?? { synced: undefined });
  }

  async syncDir(dir: string): Promise<void> {
    this.#enter('syncDir', dir);
    await nodeFileSystem.syncDir(dir);
    this.#durable.set(dir, new Map(this.#names(dir)));
  }

  lock(path: string): FileLock {
    if (this.#dead) throw new IOError(`lock ${path} failed: EIO (the machine crashed)`, { cause: { code: 'EIO' } });
    return nodeFileSystem.lock(path);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
