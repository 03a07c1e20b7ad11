import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClosedError, CorruptionError, IOError } from '../src/errors.js';
import type { FileHandle, FileLock, FileSystem, OpenMode } from '../src/fs/filesystem.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import {
  CURRENT_FILE,
  LOCK_FILE,
  currentTempFileName,
  manifestFileName,
  parseFileName,
  tableFileName,
  tempFileName,
  walFileName,
} from '../src/version/filenames.js';
import { ManifestWriter, readCurrent, readManifest } from '../src/version/manifest.js';
import { BLOCK_SIZE } from '../src/wal/format.js';
import { randomBytes } from './support/random.js';

let dir: string;
beforeEach(() => {
  dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'varve-manifest-'));
});
afterEach(() => {
  nodeFs.rmSync(dir, { recursive: true, force: true });
});

// ---- A FileSystem that counts calls and fails the ones a test arms ----

type Op = 'open' | 'write' | 'datasync' | 'rename' | 'syncDir' | 'unlink';

class FaultyFs implements FileSystem {
  readonly calls: { op: Op; target: string }[] = [];
  /** Fails the call when it returns true; the predicate sees the operation and the file's base name. */
  failWhen: (op: Op, name: string) => boolean = () => false;

  #hit(op: Op, target: string): void {
    this.calls.push({ op, target: path.basename(target) });
    if (this.failWhen(op, path.basename(target))) throw new IOError(`${op} ${target} failed: EIO (injected)`);
  }

  count(op: Op, name?: string): number {
    return this.calls.filter((c) => c.op === op && (name === undefined || c.target === name)).length;
  }

  open(filePath: string, mode: OpenMode): FileHandle {
    this.#hit('open', filePath);
    const inner = nodeFileSystem.open(filePath, mode);
    const hit = (op: Op): void => this.#hit(op, filePath);
    return {
      path: inner.path,
      readSync: (b, o, l, p) => inner.readSync(b, o, l, p),
      read: (b, o, l, p) => inner.read(b, o, l, p),
      writeSync(b, o, l, p) {
        hit('write');
        inner.writeSync(b, o, l, p);
      },
      write: (b, o, l, p) => inner.write(b, o, l, p),
      async datasync() {
        await new Promise((r) => setTimeout(r, 1));
        hit('datasync');
        await inner.datasync();
      },
      datasyncSync() {
        hit('datasync');
        inner.datasyncSync();
      },
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
    this.#hit('rename', from);
    nodeFileSystem.rename(from, to);
  }
  async unlink(p: string): Promise<void> {
    this.#hit('unlink', p);
    await nodeFileSystem.unlink(p);
  }
  link(existing: string, newPath: string): void {
    nodeFileSystem.link(existing, newPath);
  }
  async syncDir(d: string): Promise<void> {
    this.#hit('syncDir', d);
    await nodeFileSystem.syncDir(d);
  }
  lock(p: string): FileLock {
    return nodeFileSystem.lock(p);
  }
}

function payloads(count: number, seed: number, maxSize = 300): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => randomBytes((seed * 7 + i * 31) % maxSize, seed * 1000 + i + 1));
}

function manifestPath(n: number): string {
  return path.join(dir, manifestFileName(n));
}

function plain(list: Uint8Array[]): Uint8Array[] {
  return list.map((p) => new Uint8Array(p));
}

async function expectRejectsWith(promise: Promise<unknown>): Promise<unknown> {
  const settled = await Promise.allSettled([promise]);
  expect(settled[0]!.status).toBe('rejected');
  return (settled[0] as PromiseRejectedResult).reason;
}

// ---- File names ----

describe('file names', () => {
  it('formats each kind with a six-digit (or longer) number', () => {
    expect(walFileName(7)).toBe('000007.log');
    expect(tableFileName(123456)).toBe('123456.vt');
    expect(manifestFileName(1)).toBe('MANIFEST-000001');
    expect(tempFileName(42)).toBe('000042.tmp');
    expect(currentTempFileName(5)).toBe('CURRENT.000005.tmp');
    expect(walFileName(1234567)).toBe('1234567.log');
    expect(manifestFileName(Number.MAX_SAFE_INTEGER)).toBe('MANIFEST-9007199254740991');
    expect(() => walFileName(-1)).toThrow();
    expect(() => walFileName(1.5)).toThrow();
  });

  it('parses exactly the names it formats', () => {
    const formatters = [
      ['wal', walFileName],
      ['table', tableFileName],
      ['manifest', manifestFileName],
      ['temp', tempFileName],
      ['temp', currentTempFileName],
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...formatters), fc.oneof(fc.nat(2_000_000), fc.maxSafeNat()), ([kind, format], n) => {
        expect(parseFileName(format(n))).toEqual({ kind, number: n });
      }),
    );
    expect(parseFileName(CURRENT_FILE)).toEqual({ kind: 'current', number: 0 });
    expect(parseFileName(LOCK_FILE)).toEqual({ kind: 'lock', number: 0 });
  });

  it('rejects every other name', () => {
    for (const name of [
      '',
      'MANIFEST-',
      'MANIFEST-00001', // too short
      'MANIFEST-0000001', // a leading zero beyond the padding
      'MANIFEST-000001x',
      'manifest-000001',
      '00001.log',
      '000001.LOG',
      '+00001.log',
      '-00001.log',
      '0000 1.log',
      '000001.log.tmp',
      '000001.vt.bak',
      'CURRENT.tmp',
      'CURRENT.00001.tmp',
      'CURRENT2',
      'LOCK.000001',
      '99999999999999999.log', // beyond 2^53
      '.log',
    ]) {
      expect(parseFileName(name), name).toBeUndefined();
    }
  });
});

// ---- MANIFEST and CURRENT ----

describe('manifest writer', () => {
  it('create writes the snapshot, then points CURRENT at it, leaving no temp file', async () => {
    const snapshot = payloads(5, 1);
    const writer = await ManifestWriter.create(nodeFileSystem, dir, 7, snapshot);
    expect(writer.fileName).toBe('MANIFEST-000007');
    expect(nodeFs.readFileSync(path.join(dir, CURRENT_FILE), 'latin1')).toBe('MANIFEST-000007\n');
    expect(readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000007');
    expect(plain(readManifest(nodeFileSystem, dir, 'MANIFEST-000007'))).toEqual(snapshot);
    expect(nodeFs.readdirSync(dir).sort()).toEqual(['CURRENT', 'MANIFEST-000007']);
    expect(writer.size).toBe(nodeFs.statSync(manifestPath(7)).size);
    await writer.close();
  });

  it('syncs the manifest and its directory before the rename, and the directory after', async () => {
    const fs = new FaultyFs();
    const writer = await ManifestWriter.create(fs, dir, 3, payloads(2, 2));
    const order = fs.calls.map((c) => `${c.op} ${c.target}`);
    const tempName = currentTempFileName(3);
    expect(order).toEqual([
      'open MANIFEST-000003',
      'write MANIFEST-000003',
      'datasync MANIFEST-000003',
      `syncDir ${path.basename(dir)}`,
      `open ${tempName}`,
      `write ${tempName}`,
      `datasync ${tempName}`,
      `rename ${tempName}`,
      `syncDir ${path.basename(dir)}`,
    ]);
    await writer.close();
  });

  it('append resolves after the edit is durable, and edits read back in call order', async () => {
    const fs = new FaultyFs();
    const snapshot = payloads(3, 3);
    const writer = await ManifestWriter.create(fs, dir, 1, snapshot);
    const edits = payloads(60, 4, 2 * BLOCK_SIZE);
    const syncsBefore = fs.count('datasync', 'MANIFEST-000001');
    await writer.append(edits[0]!);
    expect(fs.count('datasync', 'MANIFEST-000001')).toBe(syncsBefore + 1);
    // Concurrent appends: grouped, written and synced in call order.
    await Promise.all(edits.slice(1, 40).map((e) => writer.append(e)));
    for (const e of edits.slice(40)) await writer.append(e);
    const syncs = fs.count('datasync', 'MANIFEST-000001') - syncsBefore;
    // One for the first edit, one for the 39 made in one tick, one each for the 20 awaited.
    expect(syncs).toBe(1 + 1 + 20);
    expect(plain(readManifest(fs, dir, 'MANIFEST-000001'))).toEqual([...snapshot, ...edits]);
    await writer.close();
  });

  it('any interleaving of awaited and concurrent appends reads back in call order', async () => {
    let n = 100;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(3000), fc.boolean()), { maxLength: 25 }), async (ops) => {
        const number = n++;
        const writer = await ManifestWriter.create(nodeFileSystem, dir, number, []);
        const edits = ops.map(([size], i) => randomBytes(size, number * 100 + i + 1));
        const inFlight: Promise<void>[] = [];
        for (const [i, [, wait]] of ops.entries()) {
          const append = writer.append(edits[i]!);
          inFlight.push(append);
          if (wait) await append;
        }
        await Promise.all(inFlight);
        await writer.close();
        expect(plain(readManifest(nodeFileSystem, dir, manifestFileName(number)))).toEqual(edits);
      }),
      { numRuns: 25 },
    );
  });

  it('a new manifest replaces the old in CURRENT; the old stays readable', async () => {
    const first = await ManifestWriter.create(nodeFileSystem, dir, 1, payloads(2, 5));
    await first.append(new Uint8Array([1, 2, 3]));
    await first.close();
    const second = await ManifestWriter.create(nodeFileSystem, dir, 2, payloads(4, 6));
    expect(readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000002');
    expect(readManifest(nodeFileSystem, dir, 'MANIFEST-000001').length).toBe(3);
    expect(plain(readManifest(nodeFileSystem, dir, 'MANIFEST-000002'))).toEqual(payloads(4, 6));
    await second.close();
  });

  it('append after close is refused; close waits for appends in flight', async () => {
    const writer = await ManifestWriter.create(nodeFileSystem, dir, 1, []);
    const pending = writer.append(new Uint8Array(10));
    await writer.close();
    await pending;
    expect(await expectRejectsWith(writer.append(new Uint8Array(1)))).toBeInstanceOf(ClosedError);
    expect(readManifest(nodeFileSystem, dir, 'MANIFEST-000001').length).toBe(1);
  });
});

describe('manifest failures', () => {
  async function withOld(): Promise<FaultyFs> {
    const old = await ManifestWriter.create(nodeFileSystem, dir, 1, payloads(2, 7));
    await old.close();
    return new FaultyFs();
  }

  for (const [op, name] of [
    ['write', 'MANIFEST-000002'],
    ['datasync', 'MANIFEST-000002'],
    ['syncDir', null],
    ['open', 'CURRENT.000002.tmp'],
    ['write', 'CURRENT.000002.tmp'],
    ['datasync', 'CURRENT.000002.tmp'],
    ['rename', 'CURRENT.000002.tmp'],
  ] as const) {
    it(`a failed ${op}${name ? ` of ${name}` : ''} before the switch leaves the old CURRENT and removes the new files`, async () => {
      const fs = await withOld();
      fs.failWhen = (o, target) => o === op && (name === null || target === name);
      const error = await expectRejectsWith(ManifestWriter.create(fs, dir, 2, payloads(3, 8)));
      expect(error).toBeInstanceOf(IOError);
      expect(readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000001');
      expect(nodeFs.readdirSync(dir).sort()).toEqual(['CURRENT', 'MANIFEST-000001']);
    });
  }

  it('a failed directory sync after the rename keeps the new manifest that CURRENT names', async () => {
    const fs = await withOld();
    let renamed = false;
    fs.failWhen = (op) => {
      if (op === 'rename') renamed = true;
      return op === 'syncDir' && renamed;
    };
    expect(await expectRejectsWith(ManifestWriter.create(fs, dir, 2, payloads(3, 8)))).toBeInstanceOf(IOError);
    expect(readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000002');
    expect(plain(readManifest(nodeFileSystem, dir, 'MANIFEST-000002'))).toEqual(payloads(3, 8));
  });

  it('a failed append poisons the writer: that group and every later append reject with the same error', async () => {
    const fs = new FaultyFs();
    const writer = await ManifestWriter.create(fs, dir, 1, payloads(1, 9));
    await writer.append(new Uint8Array([1]));
    fs.failWhen = (op, name) => op === 'datasync' && name === 'MANIFEST-000001';
    const group = [writer.append(new Uint8Array([2])), writer.append(new Uint8Array([3]))];
    const errors = await Promise.all(group.map(expectRejectsWith));
    expect(errors[0]).toBeInstanceOf(IOError);
    expect(errors[1]).toBe(errors[0]);
    fs.failWhen = () => false;
    expect(await expectRejectsWith(writer.append(new Uint8Array([4])))).toBe(errors[0]);
    await writer.close();
  });

  it('a failed write of an append poisons the writer too', async () => {
    const fs = new FaultyFs();
    const writer = await ManifestWriter.create(fs, dir, 1, []);
    fs.failWhen = (op) => op === 'write';
    const error = await expectRejectsWith(writer.append(new Uint8Array(5)));
    expect(error).toBeInstanceOf(IOError);
    fs.failWhen = () => false;
    expect(await expectRejectsWith(writer.append(new Uint8Array(5)))).toBe(error);
    await writer.close();
  });
});

describe('reading CURRENT and MANIFEST', () => {
  it('a leftover temp file does not confuse readCurrent', async () => {
    const writer = await ManifestWriter.create(nodeFileSystem, dir, 4, payloads(1, 10));
    await writer.close();
    nodeFs.writeFileSync(path.join(dir, currentTempFileName(9)), 'MANIFEST-0000');
    nodeFs.writeFileSync(path.join(dir, currentTempFileName(5)), 'MANIFEST-000005\n');
    expect(readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000004');
  });

  it('a malformed CURRENT, or one naming a missing manifest, is corruption naming the file', () => {
    nodeFs.writeFileSync(manifestPath(3), '');
    const currentPath = path.join(dir, CURRENT_FILE);
    for (const contents of ['MANIFEST-000003', 'MANIFEST-000003\n\n', 'MANIFEST-3\n', '000003.log\n', '', '\n', `MANIFEST-000003\n${'x'.repeat(100)}`, ' MANIFEST-000003\n']) {
      nodeFs.writeFileSync(currentPath, contents);
      expect(() => readCurrent(nodeFileSystem, dir), JSON.stringify(contents)).toThrow(CorruptionError);
      expect(() => readCurrent(nodeFileSystem, dir)).toThrow(`${currentPath}: at offset 0: expected a manifest file name and a newline`);
    }
    nodeFs.writeFileSync(currentPath, 'MANIFEST-000004\n');
    expect(() => readCurrent(nodeFileSystem, dir)).toThrow(`${currentPath}: names MANIFEST-000004, which does not exist`);
    nodeFs.writeFileSync(currentPath, 'MANIFEST-000003\n');
    expect(readCurrent(nodeFileSystem, dir)).toBe('MANIFEST-000003');
  });

  it('a missing CURRENT is an IOError (no database here yet)', () => {
    expect(() => readCurrent(nodeFileSystem, dir)).toThrow(IOError);
  });

  it('a torn manifest drops only the unacknowledged tail', async () => {
    const snapshot = payloads(3, 11);
    const edits = payloads(4, 12, 5000);
    const writer = await ManifestWriter.create(nodeFileSystem, dir, 6, snapshot);
    const sizes: number[] = [writer.size];
    for (const e of edits) {
      await writer.append(e);
      sizes.push(writer.size);
    }
    await writer.close();
    const full = nodeFs.readFileSync(manifestPath(6));
    const lastStart = sizes[sizes.length - 2]!;
    for (let cut = lastStart + 1; cut < full.length; cut += 37) {
      nodeFs.writeFileSync(manifestPath(6), full.subarray(0, cut));
      expect(plain(readManifest(nodeFileSystem, dir, 'MANIFEST-000006'))).toEqual([...snapshot, ...edits.slice(0, -1)]);
    }
    // A zero-filled tail, as a crash can leave, is dropped the same way.
    nodeFs.writeFileSync(manifestPath(6), Buffer.concat([full, new Uint8Array(1000)]));
    expect(plain(readManifest(nodeFileSystem, dir, 'MANIFEST-000006'))).toEqual([...snapshot, ...edits]);
  });

  it('a damaged complete last edit is corruption, never silently dropped', async () => {
    const writer = await ManifestWriter.create(nodeFileSystem, dir, 9, payloads(3, 14));
    const lastAt = writer.size;
    await writer.append(randomBytes(300, 3));
    await writer.close();
    const bytes = nodeFs.readFileSync(manifestPath(9));
    // Every byte of the last edit, header and payload: a flip is corruption, not a torn tail.
    for (let at = lastAt; at < bytes.length; at += 13) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 0x10;
      nodeFs.writeFileSync(manifestPath(9), flipped);
      let error: unknown;
      try {
        readManifest(nodeFileSystem, dir, 'MANIFEST-000009');
      } catch (e) {
        error = e;
      }
      // A flip in the length field can make the edit look cut short; that alone may read as torn.
      if (error === undefined) expect(at - lastAt).toBeGreaterThanOrEqual(4);
      else expect(error).toBeInstanceOf(CorruptionError);
      if (at >= lastAt + 7) expect(error, `flip at ${at}`).toBeInstanceOf(CorruptionError);
    }
  });

  it('damage before the tail is corruption naming the manifest and offset', async () => {
    const writer = await ManifestWriter.create(nodeFileSystem, dir, 8, payloads(3, 13));
    const firstEditAt = writer.size;
    await writer.append(randomBytes(200, 1));
    await writer.append(randomBytes(200, 2));
    await writer.close();
    const bytes = nodeFs.readFileSync(manifestPath(8));
    bytes[firstEditAt + 50]! ^= 0x04;
    nodeFs.writeFileSync(manifestPath(8), bytes);
    expect(() => readManifest(nodeFileSystem, dir, 'MANIFEST-000008')).toThrow(CorruptionError);
    expect(() => readManifest(nodeFileSystem, dir, 'MANIFEST-000008')).toThrow(
      `${manifestPath(8)}: corrupt log at offset ${firstEditAt}: fragment checksum mismatch (valid data follows at offset ${firstEditAt + 207})`,
    );
  });
});
