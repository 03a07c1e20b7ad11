import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { open } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';
import { HookedFs } from './support/hooked-fs.js';
import { measureLoopHold } from './support/loop-hold.js';

const newDir = tempDirs('flush');
const value = new Uint8Array(100).map((_, i) => (i < 50 ? (i * 37) & 0xff : 7));

function key(i: number): string {
  return String(i).padStart(16, '0');
}

describe('flushes', () => {
  it('stalls writers (never fails them) while flushes fall behind, and keeps the event loop responsive', async () => {
    const dir = newDir();
    // A small memtable and one frozen memtable allowed: flushes fall behind at once.
    const db = await open(dir, { memtableSize: 256 * 1024, maxImmutableMemtables: 1 });
    const groups = Array.from({ length: 40 }, (_, b) => Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: key(b * 1000 + i), value })));
    // One batch a turn, none awaited: the probe sees the engine's holds, not this loop's.
    const { maxHoldMs, maxWallMs } = await measureLoopHold(async () => {
      const batches: Promise<void>[] = [];
      for (const ops of groups) {
        batches.push(db.batch(ops));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(batches);
    });
    const tables = readdirSync(dir).filter((n) => n.endsWith('.vt'));
    expect(tables.length).toBeGreaterThanOrEqual(10); // groups are capped at a quarter memtable
    for (const i of [0, 12_345, 39_999]) expect(await db.get(key(i))).toEqual(value);
    expect((await db.iterator().all()).length).toBe(40_000);
    console.log(`event loop while writing 40,000 entries through ${tables.length} flushes: held at most ${maxHoldMs.toFixed(0)} ms (CPU), longest gap ${maxWallMs.toFixed(0)} ms (wall)`);
    // A writer that waited for the flushes behind synchronously would hold the loop for seconds.
    expect(maxHoldMs).toBeLessThan(100);
    await db.close();
  });

  it('a stalled writer resumes when the first flush ends, while a later flush is still held', async () => {
    const fs = new HookedFs();
    // Each table fdatasync waits for its gate: the test decides when each flush may end.
    const gates: Array<() => void> = [];
    fs.beforeTableSync = () => new Promise<void>((resolve) => gates.push(resolve));
    const db = await open(newDir(), { fs, memtableSize: 64 * 1024, maxImmutableMemtables: 1 });
    const big = new Uint8Array(1000).fill(3);
    const after = (ms: number) => new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms));
    const eventually = async (done: () => boolean) => {
      for (let i = 0; i < 400 && !done(); i++) await after(5);
      expect(done()).toBe(true);
    };
    // Write until a put stalls (stats count it): two frozen memtables, the first held at its sync.
    let stalled: Promise<void> | undefined;
    for (let i = 0; i < 1000 && stalled === undefined; i++) {
      const put = db.put(key(i), big);
      if ((await Promise.race([put.then(() => 'done' as const), after(100)])) === 'done') continue;
      if (db.stats().stalls.stops > 0) stalled = put;
      else await put; // merely slow (a loaded machine), not stalled
    }
    expect(stalled).toBeDefined();
    // The first flush reaches its sync (its table built) and is held there.
    await eventually(() => gates.length === 1);
    expect(await Promise.race([stalled!.then(() => 'resumed' as const), after(200)])).toBe('pending');
    gates.shift()!();
    // The second frozen memtable's flush now runs and is held at its own sync; the writer must not wait for it.
    await eventually(() => gates.length === 1);
    expect(await Promise.race([stalled!.then(() => 'resumed' as const), after(2000)])).toBe('resumed');
    fs.beforeTableSync = () => Promise.resolve();
    for (const open of gates.splice(0)) open();
    await db.close();
  });

  it('keeps only the live WAL after flushes, and recovers everything from tables', async () => {
    const dir = newDir();
    let db = await open(dir, { memtableSize: 128 * 1024 });
    for (let i = 0; i < 5000; i++) await db.put(key(i), value);
    await db.close();
    const logs = readdirSync(dir).filter((n) => n.endsWith('.log'));
    expect(logs.length).toBeLessThanOrEqual(2);
    db = await open(dir, { memtableSize: 128 * 1024 });
    expect(readdirSync(dir).filter((n) => n.endsWith('.log')).length).toBe(1);
    expect((await db.iterator().all()).length).toBe(5000);
    await db.close();
  });
});
