import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClosedError } from '../src/errors.js';
import type { InternalIterator } from '../src/iterator/internal.js';
import { MergingIterator } from '../src/iterator/merging.js';
import { Kind, makeInternalKey } from '../src/keys.js';
import { Memtable } from '../src/memtable/memtable.js';
import { ArrayIterator, EMPTY, compareRecs, ikeyOf, insertRecs, pointKindArb as kindArb, show, userKeyArb, type Rec } from './support/internal-model.js';
import { walk, walkOpArb } from './support/iterator-walk.js';

/** Records with unique internal keys: each gets its own sequence. */
const recsArb = fc
  .array(fc.record({ key: userKeyArb, kind: kindArb, value: fc.uint8Array({ maxLength: 8 }) }), { maxLength: 60 })
  .map((rs) => rs.map((r, i) => ({ ...r, seq: i + 1, value: r.kind === Kind.Deletion ? EMPTY : r.value })));

interface Source {
  iterator: InternalIterator;
  release(): void;
}

/** A child over `recs`: a memtable iterator or an array iterator. */
function makeChild(recs: Rec[], useMemtable: boolean): Source {
  if (!useMemtable) return { iterator: new ArrayIterator([...recs].sort(compareRecs)), release: () => {} };
  const mem = new Memtable(1, 1024);
  insertRecs(mem, recs);
  const iterator = mem.iterator();
  mem.unref(); // the iterator now holds the only reference
  return { iterator, release: () => expect(mem.destroyed).toBe(true) };
}

function at(it: InternalIterator): string {
  return it.valid() ? show(it.key(), it.value()) : 'invalid';
}

function modelAt(model: Rec[], i: number): string {
  return i >= 0 && i < model.length ? show(ikeyOf(model[i]!), model[i]!.value) : 'invalid';
}

describe('merging iterator against a sorted concatenation', () => {
  it('random walks over random children agree with the model at every step', () => {
    fc.assert(
      fc.property(
        recsArb,
        fc.integer({ min: 0, max: 12 }),
        fc.infiniteStream(fc.nat()),
        fc.array(walkOpArb, { maxLength: 80 }),
        (recs, childCount, picks, ops) => {
          // Deal the records to children at random; some children stay empty.
          const parts: Rec[][] = Array.from({ length: childCount }, () => []);
          if (childCount > 0) for (const r of recs) parts[picks.next().value % childCount]!.push(r);
          const children = parts.map((part, i) => makeChild(part, i % 2 === 0));
          const model = childCount > 0 ? [...recs].sort(compareRecs) : [];
          const merged = new MergingIterator(children.map((c) => c.iterator));
          walk(merged, ops, model, (n) => (model.length > 0 ? ikeyOf(model[n % model.length]!) : makeInternalKey(EMPTY, 0, 0)));
          merged.close();
          for (const c of children) c.release();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('turns around repeatedly over interleaved children', () => {
    // Child j holds keys j, j + 3, j + 6, ...: every step changes child.
    const recs = Array.from({ length: 30 }, (_, k): Rec => ({ key: Uint8Array.of(k), seq: 100 - k, kind: Kind.Value, value: Uint8Array.of(k) }));
    const children = [0, 1, 2].map((j) => makeChild(recs.filter((_, k) => k % 3 === j), j !== 1));
    const merged = new MergingIterator(children.map((c) => c.iterator));
    merged.seek(makeInternalKey(Uint8Array.of(10), 200, 0xff));
    let k = 10;
    // Zig-zag: forward 2, back 1, so each move after the first in a direction turns around.
    for (let round = 0; round < 12; round++) {
      merged.next();
      merged.next();
      merged.prev();
      k += 1;
      expect(at(merged)).toBe(modelAt(recs, k));
    }
    while (merged.valid()) merged.prev();
    merged.seekForPrev(makeInternalKey(Uint8Array.of(29), 0, 0));
    expect(at(merged)).toBe(modelAt(recs, 29));
    merged.next();
    expect(merged.valid()).toBe(false);
    merged.close();
  });

  it('without children it is never valid', () => {
    const merged = new MergingIterator([]);
    merged.seekToFirst();
    expect(merged.valid()).toBe(false);
    merged.seekForPrev(makeInternalKey(Uint8Array.of(1), 1, 1));
    expect(merged.valid()).toBe(false);
    merged.close();
  });

  it('close closes every child once, and later use throws ClosedError', () => {
    const children = [new ArrayIterator([]), new ArrayIterator([{ key: Uint8Array.of(1), seq: 1, kind: Kind.Value, value: EMPTY }])];
    const merged = new MergingIterator(children);
    merged.seekToFirst();
    merged.close();
    merged.close();
    expect(children.map((c) => c.closed)).toEqual([1, 1]);
    expect(() => merged.seekToFirst()).toThrow(ClosedError);
    expect(() => merged.valid()).toThrow(ClosedError);
  });
});
