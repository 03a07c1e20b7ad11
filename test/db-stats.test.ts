import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IOError, open, type DatabaseStats } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';
import { randomBytes } from './support/random.js';
import { HookedFs } from './support/hooked-fs.js';

const newDir = tempDirs('stats');
const key = (i: number) => String(i).padStart(8, '0');
const small = { memtableSize: 64 * 1024, compression: 'none' as const };

function tablesOnDisk(dir: string): { files: number; bytes: number } {
  const tables = readdirSync(dir).filter((n) => n.endsWith('.vt'));
  return { files: tables.length, bytes: tables.reduce((n, t) => n + statSync(join(dir, t)).size, 0) };
}

function sum(levels: DatabaseStats['levels'], field: 'files' | 'bytes'): number {
  return levels.reduce((n, l) => n + l[field], 0);
}

describe('db.stats()', () => {
  it('starts at zero and is plain JSON', async () => {
    const db = await open(newDir());
    const s = db.stats();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.levels.map((l) => l.level)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(s.levels[0]).toEqual({ level: 0, files: 0, bytes: 0, targetBytes: null, score: 0 });
    expect(s.levels[1]!.targetBytes).toBe(8 * 1024 * 1024);
    expect(s.levels[2]!.targetBytes).toBe(80 * 1024 * 1024);
    expect(s.levels[6]!.score).toBeNull();
    expect(s.write).toMatchObject({ userBytesWritten: 0, walBytesWritten: 0, writeAmplification: 0, writeAmplificationWithWal: 0, flushes: 0 });
    expect(s.sequence).toBe(0);
    expect(s.background).toEqual({ flushing: false, compactions: 0, peakCompactions: 0, tableWorkers: 0, error: null });
    expect(s.blockCache).toMatchObject({ hits: 0, misses: 0, hitRate: 0, capacity: 8 * 1024 * 1024 });
    await db.close();
    expect(() => db.stats()).toThrow(/closed/);
  });

  it('counts user bytes, WAL records, syncs and the sequence as a model of the writes does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            del: fc.boolean(),
            key: fc.uint8Array({ maxLength: 20 }),
            value: fc.uint8Array({ maxLength: 200 }),
            sync: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
        async (ops) => {
          const db = await open(newDir());
          let bytes = 0;
          for (const op of ops) {
            if (op.del) await db.del(op.key, { sync: op.sync });
            else await db.put(op.key, op.value, { sync: op.sync });
            bytes += op.key.length + (op.del ? 0 : op.value.length);
          }
          const s = db.stats();
          expect(s.write.userBytesWritten).toBe(bytes);
          expect(s.wal.records).toBe(ops.length); // each awaited write is its own group commit
          expect(s.wal.syncs).toBe(ops.filter((o) => o.sync).length);
          expect(s.wal.bytes).toBe(s.write.walBytesWritten);
          // On top of the data: a 7-byte record header and a 12-byte batch header per group commit.
          expect(s.wal.bytes).toBeGreaterThanOrEqual(bytes + ops.length * 19);
          expect(s.sequence).toBe(ops.length);
          expect(s.memtable.activeBytes).toBeGreaterThanOrEqual(bytes); // every version, plus node overhead
          await db.close();
        },
      ),
      { numRuns: 8 },
    );
  });

  it('counts flush and compaction bytes; write amplification is at least 1 once all is in tables', async () => {
    const dir = newDir();
    const db = await open(dir, small);
    for (let b = 0; b < 20; b++) {
      await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key((i * 37 + b) % 1500), value: randomBytes(100, b * 1000 + i + 1) })));
    }
    const mid = db.stats();
    expect(mid.write.flushes).toBeGreaterThan(0);
    expect(mid.write.flushBytesWritten).toBeGreaterThan(0);
    await db.compactRange();
    const s = db.stats();
    expect(s.write.userBytesWritten).toBe(2000 * (8 + 100));
    expect(s.write.flushes).toBeGreaterThan(mid.write.flushes);
    expect(s.write.compactions).toBeGreaterThan(0);
    expect(s.write.compactionBytesRead).toBeGreaterThan(0);
    expect(s.write.compactionBytesWritten).toBeGreaterThan(0);
    expect(s.write.writeAmplification).toBeCloseTo((s.write.flushBytesWritten + s.write.compactionBytesWritten) / s.write.userBytesWritten, 10);
    expect(s.write.writeAmplification).toBeGreaterThanOrEqual(1);
    expect(s.write.writeAmplificationWithWal).toBeGreaterThan(s.write.writeAmplification + 1);
    // Levels describe exactly the tables on disk.
    const disk = tablesOnDisk(dir);
    expect(sum(s.levels, 'files')).toBe(disk.files);
    expect(sum(s.levels, 'bytes')).toBe(disk.bytes);
    expect(s.levels[0]!.files).toBe(0);
    expect(s.memtable.immutableCount).toBe(0);
    expect(s.memtable.activeBytes).toBeLessThan(1024 + (2 * 64 * 1024) / 64); // a fresh, empty memtable: structs, its key index (1/64 of memtableSize) and its pending slots (1/512)
    const level = s.levels.find((l) => l.files > 0 && l.level < 6)!;
    expect(level.score).toBeCloseTo(level.bytes / level.targetBytes!, 10);
    await db.close();
  });

  it('counts bloom filter checks that saved a read, and keeps them when the readers are evicted', async () => {
    const db = await open(newDir(), small);
    for (let i = 0; i < 2000; i += 2) await db.put(key(i), 'x'.repeat(50));
    await db.compactRange();
    const before = db.stats().filter;
    for (let i = 1; i < 2000; i += 2) expect(await db.get(key(i))).toBeUndefined();
    const missing = db.stats().filter;
    const checks = missing.checks - before.checks;
    expect(checks).toBeGreaterThanOrEqual(999); // key(1999) is past every table's range: no probe
    // Absent keys: each probe either ruled the key out or was a false positive.
    expect(missing.useful - before.useful + (missing.falsePositives - before.falsePositives)).toBe(checks);
    expect(missing.useful - before.useful).toBeGreaterThan(checks * 0.9);
    for (let i = 0; i < 200; i += 2) expect(await db.get(key(i))).toBeDefined();
    const present = db.stats().filter;
    expect(present.checks - missing.checks).toBeGreaterThanOrEqual(100);
    expect(present.useful).toBe(missing.useful);
    // Rewriting every table evicts every reader that counted; the compaction opened its outputs.
    await db.put(key(1), 'y');
    await db.compactRange();
    const after = db.stats();
    expect(after.filter).toEqual(present);
    expect(after.tableCache.openTables).toBe(after.levels.reduce((n, l) => n + l.files, 0));
    expect(after.tableCache.openTables).toBeGreaterThan(0);
    await db.close();
  });

  it('counts block cache and table cache hits on repeated reads', async () => {
    // Without prepopulation, so the compaction's output starts out of the cache and the first read misses.
    const db = await open(newDir(), { ...small, blockCacheSize: 1024 * 1024, prepopulateBlockCache: false });
    for (let i = 0; i < 1000; i++) await db.put(key(i), 'v'.repeat(40));
    await db.compactRange();
    const cold = db.stats();
    await db.get(key(500));
    const first = db.stats();
    expect(first.blockCache.misses).toBe(cold.blockCache.misses + 1);
    expect(first.tableCache.openTables).toBeGreaterThan(0);
    for (let n = 0; n < 10; n++) await db.get(key(500));
    const warm = db.stats();
    expect(warm.blockCache.hits).toBe(first.blockCache.hits + 10);
    expect(warm.blockCache.misses).toBe(first.blockCache.misses);
    expect(warm.tableCache.hits).toBeGreaterThanOrEqual(first.tableCache.hits + 10);
    expect(warm.blockCache.hitRate).toBeCloseTo(warm.blockCache.hits / (warm.blockCache.hits + warm.blockCache.misses), 10);
    expect(warm.blockCache.bytes).toBeGreaterThan(0);
    expect(warm.blockCache.bytes).toBeLessThanOrEqual(warm.blockCache.capacity);
    expect(warm.blockCache.capacity).toBe(1024 * 1024);
    await db.close();
  });

  it('counts stalls and their time when a flush is held, and shows the waiting memtables', async () => {
    const fs = new HookedFs();
    const db = await open(newDir(), { memtableSize: 64 * 1024, maxImmutableMemtables: 1, fs });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    fs.beforeTableSync = () => held;
    const writes = Array.from({ length: 40 }, (_, b) =>
      db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(b * 100 + i), value: 'w'.repeat(60) }))),
    );
    await new Promise((r) => setTimeout(r, 100));
    const during = db.stats();
    expect(during.background.flushing).toBe(true);
    expect(during.memtable.immutableCount).toBeGreaterThanOrEqual(1);
    expect(during.memtable.immutableBytes).toBeGreaterThan(0);
    expect(during.stalls.stops).toBeGreaterThanOrEqual(1);
    // The stall seen above lasts until the flush is released, at least this long from now.
    const stalledFrom = performance.now();
    await new Promise((r) => setTimeout(r, 100));
    const heldFor = performance.now() - stalledFrom;
    release();
    await Promise.all(writes);
    const s = db.stats();
    expect(s.stalls.stallMs).toBeGreaterThanOrEqual(heldFor);
    expect(s.stalls.stops).toBeGreaterThanOrEqual(during.stalls.stops);
    expect(s.sequence).toBe(4000);
    await db.close();
  });

  it('counts snapshots held and reports a background error', async () => {
    const fs = new HookedFs();
    const db = await open(newDir(), { fs });
    await db.put('a', '1');
    const snaps = [db.snapshot(), db.snapshot()];
    await db.put('b', '2');
    snaps.push(db.snapshot());
    expect(db.stats().snapshots).toBe(3);
    snaps[0]!.release();
    snaps[0]!.release();
    expect(db.stats().snapshots).toBe(2);
    fs.walWriteError = new IOError('write failed: EIO (injected)');
    await expect(db.put('c', '3')).rejects.toThrow(/EIO/);
    expect(db.stats().background.error).toMatch(/EIO/);
    fs.walWriteError = undefined;
    await db.close().catch(() => {});
  });
});
