import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IOError, LockedError } from '../src/errors.js';
import { nodeFileSystem as fs } from '../src/fs/node-fs.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'varve-fs-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Other processes are plain Node, whatever runtime runs the tests.
describe('node filesystem', () => {
  it('writes, appends, reads positionally and reports sizes', async () => {
    const dir = tempDir();
    const file = fs.open(join(dir, 'a'), 'write');
    file.writeSync(new Uint8Array([1, 2, 3, 4]), 1, 3, null);
    await file.write(new Uint8Array([9, 9]), 0, 2, 1);
    file.datasyncSync();
    await file.datasync();
    expect(file.size()).toBe(3);
    file.closeSync();
    const appender = fs.open(join(dir, 'a'), 'append');
    appender.writeSync(new Uint8Array([7]), 0, 1, null);
    appender.closeSync();
    const reader = fs.open(join(dir, 'a'), 'read');
    const out = new Uint8Array(8);
    expect(reader.readSync(out, 0, 8, 0)).toBe(4);
    expect([...out.subarray(0, 4)]).toEqual([2, 9, 9, 7]);
    expect(reader.readSync(out, 0, 8, 4)).toBe(0);
    const async = new Uint8Array(3);
    expect(await reader.read(async, 1, 2, 2)).toBe(2);
    expect([...async]).toEqual([0, 9, 7]);
    reader.closeSync();
    expect(fs.readdir(dir)).toEqual(['a']);
    fs.rename(join(dir, 'a'), join(dir, 'b'));
    await fs.syncDir(dir);
    expect(fs.exists(join(dir, 'a'))).toBe(false);
    expect([...fs.readFile(join(dir, 'b'))]).toEqual([2, 9, 9, 7]);
    await fs.unlink(join(dir, 'b'));
    expect(fs.readdir(dir)).toEqual([]);
  });

  it('names the operation, path and errno in IOError', () => {
    const missing = join(tempDir(), 'missing');
    let err: unknown;
    try {
      fs.open(missing, 'read');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IOError);
    expect((err as IOError).code).toBe('ERR_IO');
    expect((err as IOError).errno).toBe('ENOENT');
    expect((err as IOError).message).toContain(missing);
  });

  it('locks a directory against a second holder in this process until released', () => {
    const lockPath = join(tempDir(), 'LOCK');
    const lock = fs.lock(lockPath);
    expect(() => fs.lock(lockPath)).toThrow(LockedError);
    lock.release();
    fs.lock(lockPath).release();
  });

  it('locks against another live process and takes over the lock of a dead one', async () => {
    const lockPath = join(tempDir(), 'LOCK');
    // A live process that owns the lock file.
    const child = spawn('node', ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    writeFileSync(lockPath, `${child.pid}\n`);
    expect(() => fs.lock(lockPath)).toThrow(/held by process/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Its pid no longer runs: the lock is stale and is taken over.
    const lock = fs.lock(lockPath);
    expect(readFileSync(lockPath, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(fs.exists(lockPath)).toBe(false);
  });

  it('is seen as locked by another process while held here', () => {
    const lockPath = join(tempDir(), 'LOCK');
    const lock = fs.lock(lockPath);
    const script = `import('${new URL('../dist/fs/node-fs.js', import.meta.url).href}').then((m) => {
      try { m.nodeFileSystem.lock(${JSON.stringify(lockPath)}); console.log('taken'); } catch (e) { console.log(e.code); }
    })`;
    const result = spawnSync('node', ['-e', script], { encoding: 'utf8' });
    expect(result.stdout.trim()).toBe('ERR_LOCKED');
    lock.release();
  });
});
