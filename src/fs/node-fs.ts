// The default FileSystem: node:fs, which Deno and Bun provide too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IOError, LockedError } from '../errors.js';
import type { FileHandle, FileLock, FileSystem, OpenMode } from './filesystem.js';

function ioError(op: string, target: string, cause: unknown): IOError {
  const code = (cause as { code?: string }).code;
  return new IOError(`${op} ${target} failed${code ? `: ${code}` : ''}`, { cause });
}

/** Runs a node:fs call, turning its error into an IOError naming the operation and path. */
function io<T>(op: string, target: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw ioError(op, target, err);
  }
}

const FLAGS: Record<OpenMode, string> = { read: 'r', write: 'w', append: 'a' };

class NodeFile implements FileHandle {
  readonly path: string;
  readonly #fd: number;
  #closed = false;

  constructor(filePath: string, fd: number) {
    this.path = filePath;
    this.#fd = fd;
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return io('read', this.path, () => fs.readSync(this.#fd, buffer, offset, length, position));
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.read(this.#fd, buffer, offset, length, position, (err, n) => (err ? reject(ioError('read', this.path, err)) : resolve(n)));
    });
  }

  writeSync(buffer: Uint8Array, offset: number, length: number, position: number | null): void {
    io('write', this.path, () => {
      let done = 0;
      while (done < length) {
        const at = position === null ? null : position + done;
        done += fs.writeSync(this.#fd, buffer, offset + done, length - done, at);
      }
    });
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<void> {
    let done = 0;
    while (done < length) {
      const at = position === null ? null : position + done;
      const written = await new Promise<number>((resolve, reject) => {
        fs.write(this.#fd, buffer, offset + done, length - done, at, (err, n) => (err ? reject(ioError('write', this.path, err)) : resolve(n)));
      });
      done += written;
    }
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.#fd, (err) => (err ? reject(ioError('fdatasync', this.path, err)) : resolve()));
    });
  }

  datasyncSync(): void {
    io('fdatasync', this.path, () => fs.fdatasyncSync(this.#fd));
  }

  size(): number {
    return io('fstat', this.path, () => fs.fstatSync(this.#fd).size);
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    io('close', this.path, () => fs.closeSync(this.#fd));
  }
}

/** Directories locked by this process, so a second open in-process fails at once. */
const heldLocks = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * LOCK files hold the owner's pid. Node has no flock, so a lock left by a
 * process that died is recognised by its pid no longer running, and taken
 * over. Within one process the set above answers without touching the disk.
 */
function takeLock(lockPath: string): FileLock {
  const key = path.resolve(lockPath);
  if (heldLocks.has(key)) throw new LockedError(`${lockPath} is held by another open database in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      heldLocks.add(key);
      return {
        release() {
          if (!heldLocks.delete(key)) return;
          io('unlink', lockPath, () => fs.rmSync(lockPath, { force: true }));
        },
      };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw ioError('lock', lockPath, err);
    }
    const owner = Number.parseInt(io('read', lockPath, () => fs.readFileSync(lockPath, 'utf8')), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
      throw new LockedError(`${lockPath} is held by process ${owner}`);
    }
    // The owner is gone (or wrote nothing): the lock is stale.
    io('unlink', lockPath, () => fs.rmSync(lockPath, { force: true }));
  }
  throw new LockedError(`${lockPath} could not be taken: another process is racing for it`);
}

export class NodeFileSystem implements FileSystem {
  open(filePath: string, mode: OpenMode): FileHandle {
    const fd = io('open', filePath, () => fs.openSync(filePath, FLAGS[mode]));
    return new NodeFile(filePath, fd);
  }

  readFile(filePath: string): Uint8Array {
    return io('read', filePath, () => fs.readFileSync(filePath));
  }

  exists(filePath: string): boolean {
    return fs.existsSync(filePath);
  }

  readdir(dir: string): string[] {
    return io('readdir', dir, () => fs.readdirSync(dir));
  }

  mkdir(dir: string): void {
    io('mkdir', dir, () => fs.mkdirSync(dir, { recursive: true }));
  }

  async rmdir(dir: string): Promise<void> {
    try {
      await fs.promises.rmdir(dir);
    } catch (err) {
      throw ioError('rmdir', dir, err);
    }
  }

  rename(from: string, to: string): void {
    io('rename', `${from} -> ${to}`, () => fs.renameSync(from, to));
  }

  async unlink(filePath: string): Promise<void> {
    try {
      await fs.promises.unlink(filePath);
    } catch (err) {
      throw ioError('unlink', filePath, err);
    }
  }

  link(existing: string, newPath: string): void {
    io('link', `${existing} -> ${newPath}`, () => fs.linkSync(existing, newPath));
  }

  async syncDir(dir: string): Promise<void> {
    const handle = await fs.promises.open(dir, 'r').catch((err: unknown) => {
      throw ioError('open', dir, err);
    });
    try {
      await handle.sync();
    } catch (err) {
      throw ioError('fsync', dir, err);
    } finally {
      await handle.close();
    }
  }

  lock(lockPath: string): FileLock {
    return takeLock(lockPath);
  }
}

export const nodeFileSystem: FileSystem = new NodeFileSystem();
