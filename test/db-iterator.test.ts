import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClosedError, CorruptionError, InvalidArgumentError } from '../src/errors.js';
import { DbIterator, type DbIteratorOptions, type IteratorEntry } from '../src/iterator/db-iterator.js';
import type { InternalIterator } from '../src/iterator/internal.js';
import { MergingIterator } from '../src/iterator/merging.js';
import { Kind } from '../src/keys.js';
import { Memtable } from '../src/memtable/memtable.js';
import { ArrayIterator, EMPTY, NOW, compareBytes, compareRecs, expiryArb, expiryIn, hex, insertRecs, kindArb, userKeyArb, withExpiry, type Rec } from './support/internal-model.js';

// ---- The model: user key -> newest visible value at the snapshot ----

/**
 * Visible entries at `snapshot`, in key order: the newest version with seq <= snapshot, unless it is
 * a deletion or a value whose expiry is <= NOW; a value with expiry without its 8-byte prefix.
 * Range deletions are ignored.
 */
function visibleAt(recs: Rec[], snapshot: number): Array<[Uint8Array, Uint8Array]> {
  const newest = new Map<string, Rec>();
  for (const r of recs) {
    if (r.seq > snapshot || r.kind === Kind.RangeDeletion) continue;
    const k = hex(r.key);
    const seen = newest.get(k);
    if (seen === undefined || seen.seq < r.seq) newest.set(k, r);
  }
  return [...newest.values()]
    .filter((r) => r.kind === Kind.Value || (r.kind === Kind.ValueWithExpiry && expiryIn(r.value) > NOW))
    .sort((a, b) => compareBytes(a.key, b.key))
    .map((r) => [r.key, r.kind === Kind.ValueWithExpiry ? r.value.subarray(8) : r.value]);
}

function inBounds(key: Uint8Array, o: DbIteratorOptions): boolean {
  return (
    (o.gt === undefined || compareBytes(key, o.gt) > 0) &&
    (o.gte === undefined || compareBytes(key, o.gte) >= 0) &&
    (o.lt === undefined || compareBytes(key, o.lt) < 0) &&
    (o.lte === undefined || compareBytes(key, o.lte) <= 0)
  );
}

/** The whole iteration the model expects, before the limit: bounded, in direction order. */
function expectedOrder(recs: Rec[], o: DbIteratorOptions): Array<[Uint8Array, Uint8Array]> {
  const rows = visibleAt(recs, o.snapshot).filter(([k]) => inBounds(k, o));
  return o.reverse ? rows.reverse() : rows;
}

const showEntries = (rows: Array<IteratorEntry | [Uint8Array, Uint8Array]>): string[] => rows.map(([k, v]) => `${hex(k)}=${hex(v)}`);

// ---- Sources ----

/** Deals records to `parts` children (memtables or arrays, by the flags) under one merging iterator. */
function mergedSource(recs: Rec[], picks: number[], kinds: boolean[]): { source: InternalIterator; mems: Memtable[] } {
  const parts: Rec[][] = kinds.map(() => []);
  recs.forEach((r, i) => parts[picks[i % picks.length]! % parts.length]!.push(r));
  const mems: Memtable[] = [];
  const children = parts.map((part, i): InternalIterator => {
    if (!kinds[i]) return new ArrayIterator([...part].sort(compareRecs));
    const mem = new Memtable(i, 1024);
    insertRecs(mem, part);
    mems.push(mem);
    const it = mem.iterator();
    mem.unref();
    return it;
  });
  // One child alone needs no merge: the DB iterator then runs over it directly.
  return { source: children.length === 1 ? children[0]! : new MergingIterator(children), mems };
}

// ---- Arbitraries ----

const storedValue = (kind: number, value: Uint8Array, expiresAt: number): Uint8Array =>
  kind === Kind.Deletion ? EMPTY : kind === Kind.ValueWithExpiry ? withExpiry(expiresAt, value) : value;

const historyArb = fc
  .array(fc.record({ key: userKeyArb, kind: kindArb, value: fc.uint8Array({ minLength: 0, maxLength: 6 }), expiresAt: expiryArb }), { maxLength: 80 })
  .map((rs) => rs.map((r, i): Rec => ({ key: r.key, kind: r.kind, seq: i, value: storedValue(r.kind, r.value, r.expiresAt) })));

const optionsArb = fc.record(
  {
    gt: userKeyArb,
    gte: userKeyArb,
    lt: userKeyArb,
    lte: userKeyArb,
    reverse: fc.boolean(),
    limit: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 20 })),
  },
  { requiredKeys: [] },
);

const sourcesArb = fc.record({
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 16 }),
  kinds: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
});

type Op = { op: 'next' } | { op: 'nextv'; n: number } | { op: 'seek'; target: Uint8Array };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ op: 'next' }), weight: 4 },
  fc.record({ op: fc.constant('nextv' as const), n: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ op: fc.constant('seek' as const), target: userKeyArb }),
);

describe('DB iterator against a map of newest visible values', () => {
  it('a full iteration returns what the model does, over random histories, snapshots, bounds, direction and limits', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), optionsArb, sourcesArb, (recs, s, opts, { picks, kinds }) => {
        const options: DbIteratorOptions = { ...opts, snapshot: s % (recs.length + 2), now: NOW };
        const { source, mems } = mergedSource(recs, picks, kinds);
        const it = new DbIterator(source, options);
        const got: IteratorEntry[] = [];
        for (let e = it.next(); e !== undefined; e = it.next()) got.push(e);
        expect(it.next()).toBeUndefined();
        const want = expectedOrder(recs, options);
        const limit = options.limit === undefined || options.limit < 0 ? Infinity : options.limit;
        expect(showEntries(got)).toEqual(showEntries(want.slice(0, limit)));
        it.close();
        for (const mem of mems) expect(mem.destroyed).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('mixed next, nextv and seek agree with the model, the limit counting across seeks', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), optionsArb, sourcesArb, fc.array(opArb, { maxLength: 30 }), (recs, s, opts, { picks, kinds }, ops) => {
        const options: DbIteratorOptions = { ...opts, snapshot: s % (recs.length + 2), now: NOW };
        const it = new DbIterator(mergedSource(recs, picks, kinds).source, options);
        const order = expectedOrder(recs, options);
        const limit = options.limit === undefined || options.limit < 0 ? Infinity : options.limit;
        let pos = 0;
        let returned = 0;
        const modelNext = (): Array<[Uint8Array, Uint8Array]> => {
          if (returned >= limit || pos >= order.length) return [];
          returned++;
          return [order[pos++]!];
        };
        for (const op of ops) {
          if (op.op === 'next') {
            const got = it.next();
            expect(showEntries(got === undefined ? [] : [got])).toEqual(showEntries(modelNext()));
          } else if (op.op === 'nextv') {
            const want: Array<[Uint8Array, Uint8Array]> = [];
            for (let i = 0; i < op.n; i++) want.push(...modelNext());
            expect(showEntries(it.nextv(op.n))).toEqual(showEntries(want));
          } else {
            it.seek(op.target);
            // Forward: the first key >= target; reverse: the first (in reverse order) <= target.
            const i = order.findIndex(([k]) => (options.reverse ? compareBytes(k, op.target) <= 0 : compareBytes(k, op.target) >= 0));
            pos = i < 0 ? order.length : i;
          }
        }
        it.close();
      }),
      { numRuns: 400 },
    );
  });

  it('many versions of one key, deletions and invisible newer versions, both directions', () => {
    const k = (b: number) => Uint8Array.of(b);
    const recs: Rec[] = [
      { key: k(1), seq: 1, kind: Kind.Value, value: k(10) },
      { key: k(1), seq: 2, kind: Kind.Value, value: k(11) },
      { key: k(1), seq: 3, kind: Kind.Deletion, value: EMPTY },
      { key: k(1), seq: 4, kind: Kind.Value, value: k(13) },
      { key: k(2), seq: 5, kind: Kind.Deletion, value: EMPTY },
      { key: k(2), seq: 6, kind: Kind.Value, value: k(20) },
      { key: k(3), seq: 7, kind: Kind.ValueWithExpiry, value: withExpiry(NOW + 1, k(30)) },
      { key: k(3), seq: 8, kind: Kind.RangeDeletion, value: k(9) },
      { key: k(4), seq: 9, kind: Kind.Value, value: k(40) },
      { key: k(4), seq: 10, kind: Kind.Deletion, value: EMPTY },
    ];
    const run = (snapshot: number, reverse: boolean): string[] => {
      const it = new DbIterator(mergedSource(recs, [0, 1, 1, 0, 2], [true, false, true]).source, { snapshot, reverse, now: NOW });
      const out = showEntries(it.nextv(100));
      it.close();
      return out;
    };
    const cases: Array<[number, string[]]> = [
      [0, []],
      [2, ['01=0b']],
      [3, []],
      [5, ['01=0d']],
      [6, ['01=0d', '02=14']],
      [9, ['01=0d', '02=14', '03=1e', '04=28']],
      [10, ['01=0d', '02=14', '03=1e']],
    ];
    for (const [snapshot, want] of cases) {
      expect(run(snapshot, false)).toEqual(want);
      expect(run(snapshot, true)).toEqual([...want].reverse());
    }
  });

  it('stays on its snapshot while the memtable under it takes inserts that grow memory', () => {
    const mem = new Memtable(1, 4096);
    const base: Rec[] = Array.from({ length: 200 }, (_, i) => ({ key: Uint8Array.of(i >> 4, i & 15), seq: i + 1, kind: i % 7 === 3 ? Kind.Deletion : Kind.Value, value: i % 7 === 3 ? EMPTY : Uint8Array.of(i & 0xff) }));
    insertRecs(mem, base);
    for (const reverse of [false, true]) {
      const it = new DbIterator(mem.iterator(), { snapshot: 200, reverse });
      let seq = 1000;
      const got: IteratorEntry[] = [];
      for (let e = it.next(); e !== undefined; e = it.next()) {
        got.push(e);
        // Newer writes everywhere, some with values large enough to grow the heap.
        const big = new Uint8Array(seq % 5 === 0 ? 64 * 1024 : 4);
        insertRecs(mem, [
          { key: Uint8Array.of(seq & 15, seq & 7), seq: seq++, kind: Kind.Value, value: big },
          { key: e[0], seq: seq++, kind: Kind.Deletion, value: EMPTY },
        ]);
      }
      it.close();
      expect(showEntries(got)).toEqual(showEntries(reverse ? visibleAt(base, 200).reverse() : visibleAt(base, 200)));
    }
    mem.unref();
  });

  it('keys and values of every size come back intact and independent of one another', () => {
    let x = 0x2468ace1;
    const rand = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const sizes = [0, 1, 63, 64, 65, 100, 4095, 4096, 4097, 9000];
    const fill = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i) & 0xff);
    const recs: Rec[] = Array.from({ length: 300 }, (_, i) => {
      const key = fill(sizes[rand(sizes.length)]! + 2, i);
      key[0] = i >> 8; // unique keys
      key[1] = i & 0xff;
      return { key, seq: i + 1, kind: Kind.Value, value: fill(sizes[rand(sizes.length)]!, i + 7) };
    });
    const mem = new Memtable(1);
    insertRecs(mem, recs);
    for (const reverse of [false, true]) {
      const it = new DbIterator(mem.iterator(), { snapshot: 300, reverse });
      const got = it.nextv(1000);
      it.close();
      // Checked after the whole iteration: no later copy overwrote an earlier one.
      expect(showEntries(got)).toEqual(showEntries(reverse ? visibleAt(recs, 300).reverse() : visibleAt(recs, 300)));
      // No two returned arrays share a byte, so writing to one never shows through another.
      const spans = got.flat().filter((a) => a.length > 0);
      const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
      for (const a of spans) byBuffer.set(a.buffer, [...(byBuffer.get(a.buffer) ?? []), a]);
      for (const group of byBuffer.values()) {
        group.sort((a, b) => a.byteOffset - b.byteOffset);
        for (let i = 1; i < group.length; i++) expect(group[i]!.byteOffset).toBeGreaterThanOrEqual(group[i - 1]!.byteOffset + group[i - 1]!.length);
      }
      expect(byBuffer.size).toBeLessThan(spans.length); // some copies did share a slab
    }
    mem.unref();
  });

  it('returns copies that later moves and writes leave untouched', () => {
    const mem = new Memtable(1);
    insertRecs(mem, [
      { key: Uint8Array.of(1), seq: 1, kind: Kind.Value, value: Uint8Array.of(7, 7) },
      { key: Uint8Array.of(2), seq: 2, kind: Kind.Value, value: Uint8Array.of(8, 8) },
    ]);
    const it = new DbIterator(mem.iterator(), { snapshot: 2 });
    const [key, value] = it.next()!;
    key[0] = 99; // a user scribbling on a returned key must not disturb iteration
    insertRecs(mem, [{ key: Uint8Array.of(1), seq: 3, kind: Kind.Value, value: new Uint8Array(1 << 20) }]);
    expect(hex(value)).toBe('0707');
    expect(showEntries(it.nextv(5))).toEqual(['02=0808']);
    it.close();
    mem.unref();
  });
});

describe('DB iterator bounds, lifetime and errors', () => {
  const recs: Rec[] = [1, 2, 3, 4, 5].map((b) => ({ key: Uint8Array.of(b), seq: b, kind: Kind.Value, value: Uint8Array.of(b) }));
  const keysOf = (options: Omit<DbIteratorOptions, 'snapshot'>): string[] => {
    const it = new DbIterator(new ArrayIterator(recs), { snapshot: 10, ...options });
    const out = it.nextv(10).map(([k]) => hex(k));
    it.close();
    return out;
  };

  it('with both bounds on one side the tighter one holds', () => {
    expect(keysOf({ gt: Uint8Array.of(3), gte: Uint8Array.of(2) })).toEqual(['04', '05']);
    expect(keysOf({ gt: Uint8Array.of(1), gte: Uint8Array.of(3) })).toEqual(['03', '04', '05']);
    expect(keysOf({ gt: Uint8Array.of(3), gte: Uint8Array.of(3) })).toEqual(['04', '05']);
    expect(keysOf({ lt: Uint8Array.of(3), lte: Uint8Array.of(4), reverse: true })).toEqual(['02', '01']);
    expect(keysOf({ lt: Uint8Array.of(5), lte: Uint8Array.of(2) })).toEqual(['01', '02']);
    expect(keysOf({ gt: Uint8Array.of(4), lt: Uint8Array.of(2) })).toEqual([]);
  });

  it('seek clamps to the bounds and repositions after the end', () => {
    const it = new DbIterator(new ArrayIterator(recs), { snapshot: 10, gte: Uint8Array.of(2), lt: Uint8Array.of(5) });
    expect(it.nextv(10).length).toBe(3);
    expect(it.next()).toBeUndefined();
    it.seek(Uint8Array.of(0));
    expect(hex(it.next()![0])).toBe('02');
    it.seek(Uint8Array.of(9));
    expect(it.next()).toBeUndefined();
    it.close();
  });

  it('close closes the source once; every later call throws ClosedError', () => {
    const source = new ArrayIterator(recs);
    const it = new DbIterator(source, { snapshot: 10 });
    it.next();
    it.close();
    it.close();
    expect(source.closed).toBe(1);
    expect(() => it.next()).toThrow(ClosedError);
    expect(() => it.nextv(2)).toThrow(ClosedError);
    expect(() => it.nextv(0)).toThrow(ClosedError);
    expect(() => it.seek(Uint8Array.of(1))).toThrow(ClosedError);
  });

  it('rejects bad options and arguments', () => {
    const source = new ArrayIterator(recs);
    for (const bad of [
      { snapshot: -1 },
      { snapshot: 1.5 },
      { snapshot: 2 ** 53 },
      { snapshot: 1, limit: -2 },
      { snapshot: 1, limit: 1.5 },
      { snapshot: 1, gt: 'a' as unknown as Uint8Array },
    ]) {
      expect(() => new DbIterator(source, bad)).toThrow(InvalidArgumentError);
    }
    const it = new DbIterator(source, { snapshot: 1, limit: Infinity });
    expect(() => it.nextv(-1)).toThrow(InvalidArgumentError);
    expect(() => it.seek([1] as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    it.close();
  });

  it('an entry of an unknown kind is corruption, never data', () => {
    for (const reverse of [false, true]) {
      const it = new DbIterator(new ArrayIterator([{ key: Uint8Array.of(1), seq: 1, kind: 7, value: Uint8Array.of(1) }]), { snapshot: 5, reverse });
      expect(() => it.next()).toThrow(CorruptionError);
      it.close();
    }
  });
});
