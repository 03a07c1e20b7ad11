// Compaction inputs and outputs travel between the main thread and the
// compaction worker in pieces (src/compaction/remote-io.ts). A failure of
// any piece's I/O must surface and leave the tree as it was.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { IOError, ReadOnlyError } from '../src/errors.js';
import type { FileHandle, FileSystem } from '../src/fs/filesystem.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import { IO_CHUNK } from '../src/flush/protocol.js';
import { open } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('compaction-streaming');
const dec = new TextDecoder();
const key = (i: number) => String(i).padStart(16, '0');

type Fault = 'read' | 'write';

/** node:fs, except that while armed the chosen asynchronous table I/O fails: reads (compaction inputs), or writes past a file's first piece (compaction outputs; flushes write a table in one piece). */
function faultyFs(): { fs: FileSystem; arm(fault: Fault | undefined): void; hits: () => number } {
  let armed: Fault | undefined;
  let hits = 0;
  const wrap = (file: FileHandle): FileHandle => ({
    path: file.path,
    readSync: (b, o, l, p) => file.readSync(b, o, l, p),
    read: (b, o, l, p) => {
      if (armed === 'read' && p > 0) {
        hits++;
        return Promise.reject(new IOError(`injected read failure in ${file.path}`));
      }
      return file.read(b, o, l, p);
    },
    writeSync: (b, o, l, p) => file.writeSync(b, o, l, p),
    write: (b, o, l, p) => {
      if (armed === 'write' && p !== null && p >= IO_CHUNK) {
        hits++;
        return Promise.reject(new IOError(`injected write failure in ${file.path}`));
      }
      return file.write(b, o, l, p);
    },
    datasync: () => file.datasync(),
    datasyncSync: () => file.datasyncSync(),
    size: () => file.size(),
    closeSync: () => file.closeSync(),
  });
  const n = nodeFileSystem;
  const fs: FileSystem = {
    open: (path, mode) => (path.endsWith('.vt') ? wrap(n.open(path, mode)) : n.open(path, mode)),
    readFile: (path) => n.readFile(path),
    exists: (path) => n.exists(path),
    readdir: (dir) => n.readdir(dir),
    mkdir: (dir) => n.mkdir(dir),
    rename: (from, to) => n.rename(from, to),
    unlink: (path) => n.unlink(path),
    link: (existing, path) => n.link(existing, path),
    rmdir: (dir) => n.rmdir(dir),
    syncDir: (dir) => n.syncDir(dir),
    lock: (path) => n.lock(path),
  };
  return { fs, arm: (f) => (armed = f), hits: () => hits };
}

/** Values that do not compress, so a few thousand keys make tables of several pieces. */
function value(i: number, round: number): string {
  let x = (i * 2654435761 + round * 40503) >>> 0;
  let s = '';
  for (let c = 0; c < 200; c++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += String.fromCharCode(33 + ((x >>> 16) % 90));
  }
  return s;
}

describe('streamed compaction I/O', () => {
  for (const fault of ['read', 'write'] as const) {
    it(`a ${fault} failing mid-stream fails the compaction and leaves the tree intact`, async () => {
      const dir = newDir();
      const { fs, arm, hits } = faultyFs();
      const options = { memtableSize: 256 * 1024 };
      const db = await open(dir, { ...options, fs });
      const model = new Map<string, string>();
      for (let round = 0; round < 2; round++) {
        for (let start = 0; start < 4000; start += 500) {
          const ops = [];
          for (let i = start; i < start + 500; i++) {
            const v = value(i, round);
            ops.push({ type: 'put' as const, key: key(i), value: v });
            model.set(key(i), v);
          }
          await db.batch(ops);
        }
        if (round === 0) await db.compactRange();
      }
      arm(fault);
      await expect(db.compactRange()).rejects.toThrow(IOError);
      expect(hits()).toBeGreaterThan(0);
      arm(undefined);
      // Every key still reads its newest value; the failed outputs are gone; writes are refused.
      for (const [k, v] of model) expect(dec.decode((await db.get(k))!)).toBe(v);
      const tables = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.vt')).sort();
      const afterFailure = tables();
      await expect(db.put('x', 'y')).rejects.toThrow(ReadOnlyError);
      await db.close();

      const reopened = await open(dir, options);
      // Opening deletes every table no version names: the failed outputs were already gone.
      expect(tables()).toEqual(afterFailure);
      await reopened.compactRange();
      const got = (await reopened.iterator().all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
      expect(got).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
      await reopened.close();
    }, 30_000);
  }
});
