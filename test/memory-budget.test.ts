import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { InvalidArgumentError } from '../src/errors.js';
import { DEFAULTS, MAX_MEMORY_BUDGET, MIN_MEMORY_BUDGET, resolveOptions, sizesForBudget } from '../src/options.js';
import { open } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('memory-budget');
const MiB = 1024 * 1024;

describe('memoryBudget', () => {
  it('the default budget gives the documented defaults', () => {
    const o = resolveOptions(undefined);
    expect(o.memoryBudget).toBe(32 * MiB);
    expect([o.memtableSize, o.maxImmutableMemtables, o.blockCacheSize]).toEqual([4 * MiB, 2, 8 * MiB]);
    expect(resolveOptions({})).toEqual(o);
    expect(DEFAULTS.memtableSize).toBe(sizesForBudget(DEFAULTS.memoryBudget).memtableSize);
  });

  it('sizes memtables and the block cache within the budget; explicit sizes override it', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MEMORY_BUDGET, max: MAX_MEMORY_BUDGET }), fc.option(fc.integer({ min: 64 * 1024, max: 64 * MiB })), (budget, memtableSize) => {
        const o = resolveOptions({ memoryBudget: budget, memtableSize: memtableSize ?? undefined });
        expect(o.memoryBudget).toBe(budget);
        expect(o.blockCacheSize).toBe(Math.min(1024 * MiB, Math.floor(budget / 4)));
        expect(o.memtableSize).toBe(memtableSize ?? Math.min(1024 * MiB, Math.floor(budget / 8)));
        if (memtableSize === null) {
          // Memtables (active and frozen) and the cache take at most 5/8 of the budget.
          expect((1 + o.maxImmutableMemtables) * o.memtableSize + o.blockCacheSize).toBeLessThanOrEqual((budget * 5) / 8);
        }
      }),
    );
    expect(resolveOptions({ memoryBudget: 64 * MiB, blockCacheSize: 0, maxImmutableMemtables: 5 })).toMatchObject({ memtableSize: 8 * MiB, blockCacheSize: 0, maxImmutableMemtables: 5 });
  });

  it('rejects budgets that are not integers in range', () => {
    for (const bad of [0, MIN_MEMORY_BUDGET - 1, MAX_MEMORY_BUDGET + 1, 1.5 * MiB + 0.5, NaN, '32MiB', null]) {
      expect(() => resolveOptions({ memoryBudget: bad as unknown as number })).toThrow(InvalidArgumentError);
    }
    expect(resolveOptions({ memoryBudget: MIN_MEMORY_BUDGET }).memtableSize).toBe(128 * 1024);
  });

  it('a database opened with a small budget works and flushes at its memtable size', async () => {
    const dir = newDir();
    const db = await open(dir, { memoryBudget: 2 * MiB });
    let peak = 0;
    for (let start = 0; start < 10_000; start += 200) {
      const ops = [];
      for (let i = start; i < start + 200; i++) ops.push({ type: 'put' as const, key: String(i).padStart(8, '0'), value: 'v'.repeat(100) });
      await db.batch(ops);
      peak = Math.max(peak, db.memoryUsage().memtables);
    }
    // 10,000 x ~140 bytes went through memtables of 256 KiB: at most the active one and two frozen ones at a time.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3 * (256 * 1024 + 64 * 1024));
    expect(readdirSync(dir).filter((n) => n.endsWith('.vt')).length).toBeGreaterThan(0);
    expect((await db.iterator().all()).length).toBe(10_000);
    await db.close();
  });
});
