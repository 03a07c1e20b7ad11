// Block-cache prepopulation: flushes and compactions put the data blocks
// they write in the block cache (src/table/warm-blocks.ts), so reads of the
// data they rewrote find their blocks without reading the new files.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { open, type Database, type Options } from '../src/index.js';
import { TableBuilder } from '../src/table/builder.js';
import { WarmBlocks } from '../src/table/warm-blocks.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('prepopulate');
const value = (i: number): Uint8Array => new Uint8Array(100).map((_, j) => (i * 31 + j) & 0xff);
const key = (i: number): string => `key:${String(i).padStart(8, '0')}`;

/** Writes keys [from, to) and waits until no memtable waits for its flush. */
async function writeAndFlush(db: Database, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 500) {
    await db.batch(Array.from({ length: Math.min(500, to - i) }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: value(i + j) })));
  }
  while (db.stats().memtable.immutableCount > 0 || db.stats().background.flushing) await new Promise((r) => setTimeout(r, 5));
}

/** Reads every key in [0, n), checking each value; returns the block-cache misses the reads caused. */
async function readAll(db: Database, n: number): Promise<number> {
  const before = db.stats().blockCache.misses;
  for (let i = 0; i < n; i++) expect(await db.get(key(i))).toEqual(value(i));
  return db.stats().blockCache.misses - before;
}

const small: Options = { memtableSize: 256 * 1024, blockCacheSize: 8 * 1024 * 1024 };

describe('block-cache prepopulation', () => {
  it('a flush leaves its blocks cached: reading what it wrote reads no block from the file', async () => {
    const db = await open(newDir(), small);
    await writeAndFlush(db, 0, 6_000);
    expect(db.stats().levels[0]!.files).toBeGreaterThan(0);
    expect(db.stats().blockCache.warmed).toBeGreaterThan(0);
    expect(await readAll(db, 6_000)).toBe(0);
    await db.close();
  });

  it('with prepopulateBlockCache false, the same reads miss the cache', async () => {
    const db = await open(newDir(), { ...small, prepopulateBlockCache: false });
    await writeAndFlush(db, 0, 6_000);
    expect(db.stats().blockCache.warmed).toBe(0);
    expect(await readAll(db, 6_000)).toBeGreaterThan(0);
    await db.close();
  });

  it('a flush fills at most half the cache', async () => {
    const db = await open(newDir(), { memtableSize: 256 * 1024, blockCacheSize: 64 * 1024 });
    await writeAndFlush(db, 0, 6_000);
    const { warmed, bytes, capacity } = db.stats().blockCache;
    expect(warmed).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(capacity);
    // Each flush keeps at most 32 KiB of ~4 KiB blocks.
    const flushes = db.stats().write.flushes;
    expect(warmed).toBeLessThanOrEqual(flushes * 8);
    await db.close();
  });

  it('a compaction of inputs the cache holds leaves its outputs cached', async () => {
    const db = await open(newDir(), small);
    await writeAndFlush(db, 0, 6_000);
    await readAll(db, 6_000);
    const warmedBefore = db.stats().blockCache.warmed;
    await db.compactRange();
    expect(db.stats().levels[0]!.files).toBe(0);
    expect(db.stats().blockCache.warmed).toBeGreaterThan(warmedBefore);
    expect(await readAll(db, 6_000)).toBe(0);
    await db.close();
  });

  it('a compaction of inputs the cache does not hold keeps none of its blocks', async () => {
    const dir = newDir();
    const first = await open(dir, small);
    await writeAndFlush(first, 0, 6_000);
    await first.close();
    // Reopened, the cache is empty: the inputs are cold.
    const db = await open(dir, small);
    await db.compactRange();
    expect(db.stats().blockCache.warmed).toBe(0);
    expect(await readAll(db, 6_000)).toBeGreaterThan(0);
    await db.close();
  });

  it('values read from prepopulated blocks match a model of the writes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.uint8Array({ maxLength: 300 })), { minLength: 1, maxLength: 3_000 }), async (writes) => {
        const db = await open(newDir(), { memtableSize: 64 * 1024, blockCacheSize: 4 * 1024 * 1024 });
        const model = new Map<string, Uint8Array>();
        for (const [k, v] of writes) {
          await db.put(key(k), v);
          model.set(key(k), v);
        }
        while (db.stats().memtable.immutableCount > 0 || db.stats().background.flushing) await new Promise((r) => setTimeout(r, 5));
        const misses = db.stats().blockCache.misses;
        for (const [k, v] of model) expect(await db.get(k)).toEqual(v);
        // Blocks a flush kept serve these reads: none of the fresh tables' blocks came from a file.
        if (db.stats().write.flushes > 0) expect(db.stats().blockCache.misses).toBe(misses);
        await db.close();
      }),
      { numRuns: 8 },
    );
  });
});

describe('WarmBlocks', () => {
  /** Builds one table of n entries with `warm`; returns the file size. */
  function build(warm: WarmBlocks, n: number): void {
    const b = new TableBuilder({ blockSize: 1024, warm });
    for (let i = 0; i < n; i++) b.addBytes(internal(key(i)), value(i));
    b.finish();
  }
  const internal = (k: string): Uint8Array => {
    const bytes = new Uint8Array(k.length + 8);
    bytes.set(new TextEncoder().encode(k));
    bytes[k.length] = 1; // kind value, sequence 0
    return bytes;
  };

  it('keeps each data block of finished tables, numbered by output, up to its budget', () => {
    const warm = new WarmBlocks(20 * 1024);
    build(warm, 50);
    build(warm, 500);
    const { bytes, entries } = warm.message();
    const rows = entries.length / 4;
    expect(rows).toBeGreaterThan(2);
    let used = 0;
    for (let r = 0; r < rows; r++) {
      const [output, offset, start, len] = [entries[r * 4]!, entries[r * 4 + 1]!, entries[r * 4 + 2]!, entries[r * 4 + 3]!];
      expect(start).toBe(used);
      used += len;
      expect([0, 1]).toContain(output);
      if (r > 0 && entries[(r - 1) * 4] === output) expect(offset).toBeGreaterThan(entries[(r - 1) * 4 + 1]!);
    }
    expect(used).toBeLessThanOrEqual(20 * 1024);
    expect(bytes.byteLength).toBeGreaterThanOrEqual(used);
    // The second table did not fit whole: what is kept is a prefix.
    expect(used).toBeGreaterThan(20 * 1024 - 1100);
  });

  it('drops the blocks of an abandoned table', () => {
    const warm = new WarmBlocks(1 << 20);
    build(warm, 100);
    const kept = warm.message().entries.length;
    const b = new TableBuilder({ blockSize: 1024, warm });
    for (let i = 0; i < 300; i++) b.addBytes(internal(key(i)), value(i));
    b.abandon();
    expect(warm.message().entries.length).toBe(kept);
  });
});
