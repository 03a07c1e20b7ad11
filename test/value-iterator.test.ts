import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DbIterator, IteratorEntry } from '../src/iterator/db-iterator.js';
import { ValueIterator } from '../src/iterator/value-iterator.js';
import { ReadPacer } from '../src/read-pacer.js';
import { compareBytes } from '../src/keys.js';

/** A DbIterator over sorted entries that records the size of every nextv the ValueIterator asks of it. */
class FakeInner {
  readonly pulls: number[] = [];
  #at = 0;
  constructor(readonly entries: IteratorEntry[]) {}
  nextv(n: number): IteratorEntry[] {
    this.pulls.push(n);
    const out = this.entries.slice(this.#at, this.#at + n);
    this.#at += out.length;
    return out;
  }
  seek(target: Uint8Array): void {
    this.#at = this.entries.findIndex(([k]) => compareBytes(k, target) >= 0);
    if (this.#at < 0) this.#at = this.entries.length;
  }
  close(): void {}
}

function entries(n: number): IteratorEntry[] {
  return Array.from({ length: n }, (_, i) => [Uint8Array.of(i >> 8, i & 0xff), Uint8Array.of(i & 0xff)]);
}

function valueIterator(inner: FakeInner): ValueIterator {
  return new ValueIterator(inner as unknown as DbIterator, new ReadPacer(), () => {}, () => {});
}

describe('ValueIterator batching', () => {
  it('pulls one entry after a seek, then doubles each refill up to 256', async () => {
    const inner = new FakeInner(entries(2000));
    const it = valueIterator(inner);
    for (let i = 0; i < 1000; i++) await it.next();
    expect(inner.pulls).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256]);
    inner.pulls.length = 0;
    it.seek(Uint8Array.of(5, 0));
    const first = await it.next();
    expect(first.value).toEqual(inner.entries[1280]);
    expect(inner.pulls).toEqual([1]);
    await it.close();
  });

  it('mixed next, nextv and seek return what the sorted entries say', async () => {
    const op = fc.oneof(fc.constant({ op: 'next' as const }), fc.nat(40).map((n) => ({ op: 'nextv' as const, n })), fc.nat(700).map((i) => ({ op: 'seek' as const, i })));
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const all = entries(600);
        const it = valueIterator(new FakeInner(all));
        let at = 0;
        for (const o of ops) {
          if (o.op === 'seek') {
            it.seek(Uint8Array.of(o.i >> 8, o.i & 0xff));
            at = Math.min(o.i, all.length);
          } else if (o.op === 'nextv') {
            expect(await it.nextv(o.n)).toEqual(all.slice(at, at + o.n));
            at = Math.min(at + o.n, all.length);
          } else {
            const r = await it.next();
            if (at >= all.length) {
              // The end closes the iterator.
              expect(r.done).toBe(true);
              return;
            }
            expect(r.value).toEqual(all[at++]);
          }
        }
        await it.close();
      }),
      { numRuns: 200 },
    );
  });
});
