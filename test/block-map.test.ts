import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BlockMap } from '../src/wasm/block-map.js';

type Op =
  | { op: 'put'; key: number; block: number; len: number }
  | { op: 'remove'; key: number; block: number }
  | { op: 'find'; key: number }
  | { op: 'takeReferenced'; key: number };

// Few distinct keys make collisions, replacements and runs of removals common;
// the large ones sit near 2^53, the largest block cache key.
const keyArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }).map((k) => Number.MAX_SAFE_INTEGER - 1 - k));
const blockArb = fc.integer({ min: 1, max: 6 }).map((b) => b * 4096);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), key: keyArb, block: blockArb, len: fc.integer({ min: 0, max: 0x7fffffff }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), key: keyArb, block: blockArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('find' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('takeReferenced' as const), key: keyArb }) },
);

describe('BlockMap against a Map', () => {
  it('finds what was put and not removed, with the used mark a find sets and takeReferenced clears', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const map = new BlockMap();
        const model = new Map<number, { block: number; len: number; used: boolean }>();
        try {
          for (const o of ops) {
            switch (o.op) {
              case 'put':
                expect(map.put(o.key, o.block, o.len)).toBe(true);
                model.set(o.key, { block: o.block, len: o.len, used: false });
                break;
              case 'remove': {
                // Only the block the key maps to is removed: a replaced block's removal keeps its successor.
                const entry = model.get(o.key);
                map.remove(o.key, o.block);
                if (entry?.block === o.block) model.delete(o.key);
                break;
              }
              case 'find': {
                const entry = model.get(o.key);
                expect(map.find(o.key)).toEqual(entry && { block: entry.block, len: entry.len });
                if (entry) entry.used = true;
                break;
              }
              case 'takeReferenced': {
                const entry = model.get(o.key);
                expect(map.takeReferenced(o.key)).toBe(entry?.used ?? false);
                if (entry) entry.used = false;
                break;
              }
            }
            expect(map.count).toBe(model.size);
          }
          // Every key still reads right after the removals shifted runs back.
          for (let k = 0; k <= 40; k++) {
            for (const key of [k, Number.MAX_SAFE_INTEGER - 1 - k]) {
              const entry = model.get(key);
              expect(map.find(key)).toEqual(entry && { block: entry.block, len: entry.len });
            }
          }
        } finally {
          map.destroy();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('grows past its first slots and shrinks back to empty', () => {
    const map = new BlockMap();
    const n = 20_000;
    for (let i = 0; i < n; i++) expect(map.put(i * 4096, 16 + i * 16, i)).toBe(true);
    expect(map.count).toBe(n);
    for (let i = 0; i < n; i++) expect(map.find(i * 4096)).toEqual({ block: 16 + i * 16, len: i });
    for (let i = 0; i < n; i += 2) map.remove(i * 4096, 16 + i * 16);
    expect(map.count).toBe(n / 2);
    for (let i = 0; i < n; i++) expect(map.find(i * 4096)).toEqual(i % 2 === 0 ? undefined : { block: 16 + i * 16, len: i });
    for (let i = 1; i < n; i += 2) map.remove(i * 4096, 16 + i * 16);
    expect(map.count).toBe(0);
    map.destroy();
    // A destroyed map maps nothing and accepts nothing.
    expect(map.put(1, 16, 1)).toBe(false);
    expect(map.find(1)).toBeUndefined();
  });
});
