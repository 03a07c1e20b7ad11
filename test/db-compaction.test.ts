import { describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('compaction');
const dec = new TextDecoder();
const key = (i: number) => String(i).padStart(16, '0');
const options = { memtableSize: 64 * 1024 };

function tableBytes(dir: string): { files: number; bytes: number } {
  const tables = readdirSync(dir).filter((n) => n.endsWith('.vt'));
  return { files: tables.length, bytes: tables.reduce((n, t) => n + statSync(join(dir, t)).size, 0) };
}

describe('compaction', () => {
  it('keeps every key through background compactions of random writes, and keeps level 0 small', async () => {
    const dir = newDir();
    const db = await open(dir, options);
    const model = new Map<string, string>();
    let x = 12345;
    for (let round = 0; round < 30; round++) {
      const ops = [];
      for (let i = 0; i < 500; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        const k = key(x % 20_000);
        if (x % 7 === 0) {
          ops.push({ type: 'del' as const, key: k });
          model.delete(k);
        } else {
          const v = `${round}:${i}:`.repeat(6);
          ops.push({ type: 'put' as const, key: k, value: v });
          model.set(k, v);
        }
      }
      await db.batch(ops);
    }
    await db.compactRange(); // also waits for what runs in the background
    const got = (await db.iterator().all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
    expect(got).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
    for (const [k, v] of [...model].slice(0, 200)) expect(dec.decode((await db.get(k))!)).toBe(v);
    // 30 memtables of writes end in a handful of non-overlapping tables, not 30 level-0 files.
    expect(tableBytes(dir).files).toBeLessThan(10);
    await db.close();
    const reopened = await open(dir, options);
    expect((await reopened.iterator().all()).length).toBe(model.size);
    await reopened.close();
  });

  it('compactRange drops overwritten versions and deletions, shrinking the tables', async () => {
    const dir = newDir();
    const db = await open(dir, options);
    for (let pass = 0; pass < 4; pass++) {
      for (let b = 0; b < 5000; b += 500) {
        const ops = [];
        for (let i = b; i < b + 500; i++) ops.push({ type: 'put' as const, key: key(i), value: `pass${pass}-${i}`.padEnd(100, '.') });
        await db.batch(ops);
      }
    }
    const deletes = [];
    for (let i = 0; i < 5000; i += 2) deletes.push({ type: 'del' as const, key: key(i) });
    await db.batch(deletes);
    // At least the newest version of all 5,000 keys is in tables by now.
    const before = tableBytes(dir);
    await db.compactRange(key(0), key(99_999)); // flushes first
    const after = tableBytes(dir);
    // Left: one version of 2,500 live keys, no deletions, no older versions.
    expect(after.bytes).toBeLessThan(before.bytes * 0.75);
    expect(await db.get(key(0))).toBeUndefined();
    expect(dec.decode((await db.get(key(1)))!)).toBe('pass3-1'.padEnd(100, '.'));
    expect((await db.iterator().all()).length).toBe(2500);
    await db.close();
  });

  it('compactRange finishes while a writer never stops, and loses none of its writes', async () => {
    const dir = newDir();
    const db = await open(dir, options);
    let stop = false;
    let written = 0;
    let failure: unknown;
    const writer = (async () => {
      for (; !stop; written++) await db.put(key(written), `v${written}`);
    })().catch((err: unknown) => (failure = err));
    try {
      for (let i = 0; i < 4; i++) {
        while (written < (i + 1) * 2000 && failure === undefined) await new Promise((r) => setTimeout(r, 1));
        const started = performance.now();
        await db.compactRange();
        expect(performance.now() - started).toBeLessThan(10_000);
      }
    } finally {
      stop = true;
      await writer;
    }
    expect(failure).toBeUndefined();
    expect(db.stats().background.error).toBeNull();
    for (let i = 0; i < written; i += 97) expect(dec.decode(db.getSync(key(i))!)).toBe(`v${i}`);
    expect((await db.iterator().all()).length).toBe(written);
    await db.close();
  }, 60_000);

  it('compactRange settles when close() comes while its first compaction runs (it hung: the next one started on a terminated worker)', async () => {
    // No background compaction: the only ones are compactRange's, level 0 into 1, then level 1 into 2.
    const db = await open(newDir(), { ...options, compaction: { l0CompactionTrigger: 100 } });
    for (let i = 0; i < 2000; i++) await db.put(key((i * 7919) % 2000), `v${i}`.padEnd(100, '.'));
    const compacting = db.compactRange().then(
      () => 'resolved',
      (err: { code?: string }) => err.code,
    );
    // Close while the first runs: the second is still to start.
    while (db.stats().background.compactions === 0) await new Promise((r) => setImmediate(r));
    await db.close();
    const timeout = new Promise((r) => setTimeout(() => r('still pending 5 s after close'), 5000));
    expect(['resolved', 'ERR_CLOSED']).toContain(await Promise.race([compacting, timeout]));
  });

  it('runs a compaction after a flush on the thread that flushed', async () => {
    const db = await open(newDir(), { ...options, compaction: { l0CompactionTrigger: 100 } });
    for (let i = 0; i < 2000; i++) await db.put(key((i * 7919) % 2000), `v${i}`.padEnd(100, '.'));
    await db.waitForCompactions(); // the flushes; level 0 stays below its trigger
    expect(db.stats().levels[0]!.files).toBeGreaterThan(1);
    expect(db.stats().background.tableWorkers).toBe(1);
    await db.compactRange();
    expect(db.stats().levels[0]!.files).toBe(0);
    expect(db.stats().background.tableWorkers).toBe(1);
    expect(db.memoryUsage().wasmTableWorkers).toBeGreaterThan(0);
    await db.close();
  });

  it('an iterator opened before a compaction keeps reading its view after the inputs are deleted', async () => {
    const dir = newDir();
    const db = await open(dir, options);
    for (let b = 0; b < 4000; b += 500) {
      const ops = [];
      for (let i = b; i < b + 500; i++) ops.push({ type: 'put' as const, key: key(i), value: `old-${i}`.padEnd(100, '.') });
      await db.batch(ops);
    }
    await db.compactRange();
    const it = db.iterator();
    const first = await it.nextv(10);
    for (let i = 0; i < 4000; i++) await db.put(key(i), 'new');
    await db.compactRange(); // rewrites every table the iterator reads
    const rest = await it.all();
    const all = [...first, ...rest];
    expect(all.length).toBe(4000);
    expect(all.every(([k, v], i) => dec.decode(k) === key(i) && dec.decode(v) === `old-${i}`.padEnd(100, '.'))).toBe(true);
    expect(dec.decode((await db.get(key(7)))!)).toBe('new');
    await db.close();
  });
});

describe('seek compaction', () => {
  /** A store whose level 0 holds `tables` tables below the compaction trigger, over older data further down. */
  async function withLevel0Leftovers(dir: string, tables: number) {
    const db = await open(dir, options);
    const model = new Map<string, string>();
    const write = async (round: number, count: number) => {
      for (let start = 0; start < count; start += 250) {
        const ops = Array.from({ length: 250 }, (_, j) => ({ type: 'put' as const, key: key(((start + j) * 7919) % 4000), value: `${round}:`.padEnd(100, '.') }));
        for (const op of ops) model.set(op.key, op.value);
        await db.batch(ops);
      }
    };
    await write(0, 4000);
    await db.compactRange();
    // Each 64 KiB memtable holds about 500 of these entries: `tables` flushes, and a partly full memtable left over.
    await write(1, tables * 600);
    await db.waitForCompactions();
    return { db, model };
  }

  it('seeks that look past level-0 tables get them compacted, and every key still reads its newest value', async () => {
    const { db, model } = await withLevel0Leftovers(newDir(), 2);
    const level0 = (): number => db.stats().levels[0]!.files;
    expect(level0()).toBe(2);
    const it = db.iterator();
    for (let i = 0; i < 300; i++) {
      it.seek(key((i * 104729) % 4000));
      expect((await it.next()).done).toBe(false);
    }
    await it.close();
    await db.waitForCompactions();
    expect(level0()).toBe(0);
    const all = (await db.iterator().all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
    expect(all).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
    await db.close();
  }, 30_000);

  it('gets that look past level-0 tables get them compacted, and every key still reads its newest value', async () => {
    const { db, model } = await withLevel0Leftovers(newDir(), 2);
    expect(db.stats().levels[0]!.files).toBe(2);
    // Keys between the stored ones: every get searches each table that spans it, and finds nothing.
    for (let i = 0; i < 300; i++) expect(await db.get(`${key(i)}~`)).toBeUndefined();
    await db.waitForCompactions();
    expect(db.stats().levels[0]!.files).toBe(0);
    for (const [k, v] of model) expect(dec.decode((await db.get(k))!)).toBe(v);
    await db.close();
  }, 30_000);

  it('gets found in the first table searched, and reads within the allowance, do not compact', async () => {
    const { db } = await withLevel0Leftovers(newDir(), 2);
    // The last 300 keys written (writes 900..1199 of round 1) are in the newest table or the memtable: nothing is looked past.
    for (let w = 900; w < 1200; w++) await db.get(key((w * 7919) % 4000));
    // 60 gets and 30 seeks looking past the newest table: 90 charges, below its allowance of 100.
    for (let i = 0; i < 60; i++) await db.get(`${key(i)}~`);
    const it = db.iterator();
    for (let i = 0; i < 30; i++) it.seek(key(i * 13));
    await it.close();
    await db.waitForCompactions();
    expect(db.stats().levels[0]!.files).toBe(2);
    await db.close();
  }, 30_000);
});
