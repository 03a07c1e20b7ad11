// A random walk over an InternalIterator (seeks, steps both ways) checked
// against a sorted array of records at every step: shared by the tests of the
// iterators that stitch sources together (merging, level).
import { expect } from 'vitest';
import fc from 'fast-check';
import type { InternalIterator } from '../../src/iterator/internal.js';
import { makeInternalKey } from '../../src/keys.js';
import { compareInternal, ikeyOf, show, userKeyArb, type Rec } from './internal-model.js';

/** A seek target: an arbitrary internal key, or a number that picks an existing key. */
export type WalkTarget = { key: Uint8Array; seq: number; kind: number } | number;

export type WalkOp = { op: 'first' | 'last' | 'next' | 'prev' } | { op: 'seek' | 'seekForPrev'; target: WalkTarget };

const targetArb = fc.record({ key: userKeyArb, seq: fc.integer({ min: 0, max: 70 }), kind: fc.constantFrom(0, 1, 2, 3, 0xff) });

export const walkOpArb: fc.Arbitrary<WalkOp> = fc.oneof(
  fc.constantFrom<WalkOp>({ op: 'first' }, { op: 'last' }),
  { arbitrary: fc.constantFrom<WalkOp>({ op: 'next' }, { op: 'prev' }), weight: 6 },
  fc.record({ op: fc.constantFrom('seek' as const, 'seekForPrev' as const), target: fc.oneof(targetArb, fc.nat()) }),
);

/** Index of the first model entry >= target (model.length if none). */
export function lowerBound(model: Rec[], target: Uint8Array): number {
  let lo = 0;
  let hi = model.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareInternal(ikeyOf(model[mid]!), target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Applies each op to `it` and to an index into `model` (sorted), and
 * expects both at the same entry (or both unpositioned) after every one.
 * `pick(n)` turns a numeric target into an internal key. `afterStep` runs
 * extra checks after each step.
 */
export function walk(it: InternalIterator, ops: WalkOp[], model: Rec[], pick: (n: number) => Uint8Array, afterStep: () => void = () => {}): void {
  let i = -1;
  for (const step of ops) {
    switch (step.op) {
      case 'first':
        it.seekToFirst();
        i = 0;
        break;
      case 'last':
        it.seekToLast();
        i = model.length - 1;
        break;
      case 'next':
      case 'prev':
        if (!it.valid()) continue;
        if (step.op === 'next') it.next();
        else it.prev();
        i += step.op === 'next' ? 1 : -1;
        break;
      default: {
        const t = step.target;
        const target = typeof t === 'number' ? pick(t) : makeInternalKey(t.key, t.seq, t.kind);
        const lb = lowerBound(model, target);
        if (step.op === 'seek') {
          it.seek(target);
          i = lb;
        } else {
          it.seekForPrev(target);
          i = lb < model.length && compareInternal(ikeyOf(model[lb]!), target) === 0 ? lb : lb - 1;
        }
      }
    }
    expect(it.valid() ? show(it.key(), it.value()) : 'invalid').toBe(i >= 0 && i < model.length ? show(ikeyOf(model[i]!), model[i]!.value) : 'invalid');
    afterStep();
  }
}
