import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type Snapshot } from '../src/index.js';
import { CorruptionError, InvalidArgumentError } from '../src/errors.js';
import { MemoryFile } from '../src/fs/memory-file.js';
import { Kind, MAX_SEQUENCE, makeInternalKey } from '../src/keys.js';
import { TombstoneFragments, visibleAt } from '../src/rangedel/fragments.js';
import type { RangeTombstone } from '../src/rangedel/tombstone.js';
import { TableBuilder } from '../src/table/builder.js';
import { TableReader } from '../src/table/reader.js';
import { compact } from '../src/compaction/compactor.js';
import { WriteBatch } from '../src/batch.js';
import { Memtable } from '../src/memtable/memtable.js';
import { Version, VersionBuilder } from '../src/version/version.js';
import type { FileMetadata } from '../src/version/edit.js';
import { exclusiveBound, compareLargestToUserKey } from '../src/version/bounds.js';
import { TestBlockCache } from './support/block-cache.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('rangedel');
const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);

function compare(a: Uint8Array, c: Uint8Array): number {
  const n = Math.min(a.length, c.length);
  for (let i = 0; i < n; i++) if (a[i] !== c[i]) return a[i]! - c[i]!;
  return a.length - c.length;
}

/** The brute-force answer: newest tombstone seq <= snapshot covering key, or -1. */
function modelCovering(ts: RangeTombstone[], key: Uint8Array, snapshot: number): number {
  let best = -1;
  for (const t of ts) {
    if (t.seq <= snapshot && compare(t.start, key) <= 0 && (t.end === undefined || compare(key, t.end) < 0)) best = Math.max(best, t.seq);
  }
  return best;
}

const keyArb = fc.uint8Array({ maxLength: 3 }).map((k) => k.map((x) => [0x00, 0x61, 0x62, 0xff][x % 4]!));
const tombstoneArb = fc
  .tuple(keyArb, fc.option(keyArb, { nil: undefined }), fc.integer({ min: 1, max: 50 }))
  .filter(([s, e]) => e === undefined || compare(s, e) < 0)
  .map(([start, end, seq]): RangeTombstone => ({ start, end, seq }));
const tombstonesArb = fc.uniqueArray(tombstoneArb, { maxLength: 12, selector: (t) => `${t.seq}` });

describe('tombstone fragments', () => {
  it('answer "newest covering tombstone at a snapshot" as brute force does', () => {
    fc.assert(
      fc.property(tombstonesArb, fc.array(keyArb, { maxLength: 20 }), fc.integer({ min: 0, max: 55 }), (ts, keys, snap) => {
        const all = TombstoneFragments.build(ts);
        const visible = TombstoneFragments.build(ts, visibleAt(snap));
        for (const k of keys) {
          const want = modelCovering(ts, k, snap);
          expect(all?.coveringSeq(k, snap) ?? -1).toBe(want);
          expect(visible?.coveringSeq(k, MAX_SEQUENCE) ?? -1).toBe(want);
        }
        // Fragments are sorted and do not overlap.
        const f = all?.fragments ?? [];
        for (let i = 1; i < f.length; i++) expect(compare(f[i - 1]!.end!, f[i]!.start)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('name the next bound above a key: the first tombstone start or end above it, where the covering set may change', () => {
    fc.assert(
      fc.property(tombstonesArb, fc.array(keyArb, { maxLength: 20 }), (ts, keys) => {
        const fragments = TombstoneFragments.build(ts);
        if (fragments === undefined) return;
        const bounds = ts.flatMap((t) => (t.end === undefined ? [t.start] : [t.start, t.end]));
        for (const k of keys) {
          const above = bounds.filter((b) => compare(b, k) > 0).sort(compare);
          const bound = fragments.nextBound(k);
          // Not past any bound where coverage changes: the first bound above k with a different covering set on either side.
          const changes = above.find((b) => modelCovering(ts, b, MAX_SEQUENCE) !== modelCovering(ts, k, MAX_SEQUENCE));
          if (changes === undefined) continue;
          expect(bound).toBeDefined();
          expect(compare(bound!, k)).toBeGreaterThan(0);
          expect(compare(bound!, changes)).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('memtable range deletions', () => {
  it('keeps tombstones out of the point stream and answers covering queries', () => {
    const mem = new Memtable(1, 4096);
    const batch = new WriteBatch();
    batch.setSequence(10).put(b('a'), b('1')).deleteRange(b('a'), b('c')).put(b('b'), b('2')).deleteRange(b('x'), undefined);
    expect(mem.insertBatchAt(batch.ptr, batch.len)).toBe(4);
    batch.release();
    expect(mem.count).toBe(4);
    const it = mem.iterator();
    const kinds: number[] = [];
    for (it.seekToFirst(); it.valid(); it.next()) kinds.push(it.key()[it.key().length - 8]!);
    it.close();
    expect(kinds).toEqual([Kind.Value, Kind.Value]);
    expect(mem.rangeTombstones.map((t) => [dec.decode(t.start), t.end && dec.decode(t.end), t.seq])).toEqual([
      ['a', 'c', 11],
      ['x', undefined, 13],
    ]);
    expect(mem.coveringTombstoneSeq(b('a'), 100)).toBe(11);
    expect(mem.coveringTombstoneSeq(b('a'), 10)).toBe(-1);
    expect(mem.coveringTombstoneSeq(b('c'), 100)).toBe(-1);
    expect(mem.coveringTombstoneSeq(b('zzzz'), 100)).toBe(13);
    mem.unref();
  });
});

function buildTable(points: Array<[string, number, string]>, ts: RangeTombstone[]): Uint8Array {
  const builder = new TableBuilder({ blockSize: 64 });
  for (const [k, seq, v] of points) builder.addBytes(makeInternalKey(b(k), seq, Kind.Value), b(v));
  for (const t of ts) builder.addRangeDeletion(t.start, t.end, t.seq);
  return builder.finish().bytes;
}

function openTable(bytes: Uint8Array): TableReader {
  return TableReader.open(new MemoryFile('t.vt', bytes), 7, bytes.length, new TestBlockCache(1 << 20));
}

describe('table range-deletion block', () => {
  it('round-trips tombstones, counts them and bounds the table by them', () => {
    fc.assert(
      fc.property(tombstonesArb, fc.uniqueArray(keyArb.filter((k) => k.length > 0), { maxLength: 10, selector: (k) => k.join() }), (ts, keys) => {
        const builder = new TableBuilder({ blockSize: 64 });
        const sorted = [...keys].sort(compare);
        for (const k of sorted) builder.addBytes(makeInternalKey(k, 100, Kind.Value), k);
        for (const t of ts) builder.addRangeDeletion(t.start, t.end, t.seq);
        if (sorted.length === 0 && ts.length === 0) {
          builder.abandon();
          return;
        }
        const { bytes, properties } = builder.finish();
        const reader = openTable(bytes);
        try {
          const key = (t: RangeTombstone) => `${t.seq}:${t.start.join()}:${t.end?.join() ?? '-'}`;
          expect(reader.rangeTombstones.map(key).sort()).toEqual(ts.map(key).sort());
          expect(properties.rangeDeletions).toBe(ts.length);
          expect(properties.entries).toBe(ts.length + sorted.length);
          for (const k of [...sorted, ...ts.map((t) => t.start)]) {
            expect(reader.coveringTombstoneSeq(k, 30)).toBe(modelCovering(ts, k, 30));
            // Every key in the table, or covered by a tombstone, lies within the bounds.
            expect(compareLargestToUserKey(properties.largestKey, k)).toBeGreaterThanOrEqual(0);
            expect(compare(properties.smallestKey.subarray(0, properties.smallestKey.length - 8), k)).toBeLessThanOrEqual(0);
          }
          const unbounded = ts.some((t) => t.end === undefined);
          if (unbounded) expect(compareLargestToUserKey(properties.largestKey, Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBeGreaterThan(0);
        } finally {
          reader.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('reports a damaged range-deletion block as corruption naming the file', () => {
    const bytes = buildTable([['a', 1, 'x']], [{ start: b('b'), end: b('d'), seq: 2 }]);
    expect(openTable(bytes).rangeTombstones.length).toBe(1);
    // The range-deletion block follows the data block; flip a byte in it.
    const footer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 80, 80);
    const offset = footer.getUint32(48, true);
    const damaged = bytes.slice();
    damaged[offset] ^= 0x40;
    expect(() => openTable(damaged)).toThrow(CorruptionError);
    expect(() => openTable(damaged)).toThrow(/t\.vt: range-deletion block/);
  });
});

function meta(number: number, smallest: Uint8Array, largest: Uint8Array): FileMetadata {
  return { number, size: 100, smallest, largest, smallestSeq: 1, largestSeq: 5 };
}

describe('versions with exclusive sentinel bounds', () => {
  it('lets adjacent files of a level share a boundary user key, and searches them as exclusive', () => {
    const a = meta(1, makeInternalKey(b('a'), 3, Kind.Value), exclusiveBound(b('m')));
    const c = meta(2, makeInternalKey(b('m'), 4, Kind.Value), makeInternalKey(b('t'), 4, Kind.Value));
    const d = meta(3, makeInternalKey(b('x'), 2, Kind.RangeDeletion), exclusiveBound(undefined));
    const builder = new VersionBuilder(Version.empty());
    builder.apply({ deletedFiles: [], newFiles: [1, 2, 3].map((n) => ({ level: 1, meta: [a, c, d][n - 1]! })) });
    const v = builder.build();
    const files = (k: string) => v.filesForKey(b(k)).map((f) => f.number);
    expect(files('a')).toEqual([1]);
    expect(files('l')).toEqual([1]);
    expect(files('m')).toEqual([2]);
    expect(files('u')).toEqual([]);
    expect(files('x')).toEqual([3]);
    expect(files('\xff\xff\xff')).toEqual([3]);
    expect(v.overlappingFiles(1, b('m'), b('n')).map((f) => f.number)).toEqual([2]);
    expect(v.overlappingFiles(1, b('l'), b('m')).map((f) => f.number)).toEqual([1, 2]);
    expect(v.overlappingFiles(1, b('zz')).map((f) => f.number)).toEqual([3]);
    // An inclusive largest at the shared key is an overlap.
    const overlapping = new VersionBuilder(Version.empty());
    overlapping.apply({ deletedFiles: [], newFiles: [
      { level: 1, meta: meta(1, makeInternalKey(b('a'), 3, Kind.Value), makeInternalKey(b('m'), 3, Kind.Value)) },
      { level: 1, meta: c },
    ] });
    expect(() => overlapping.build()).toThrow(InvalidArgumentError);
  });
});

// ---- The engine against a model ----

type Op =
  | { op: 'put'; key: number; value: number }
  | { op: 'del'; key: number }
  | { op: 'range'; start: number; end: number }
  | { op: 'batch'; ops: Op[] }
  | { op: 'snapshot' }
  | { op: 'compact' }
  | { op: 'reopen' };

const K = 40;
const name = (i: number) => `k${String(i).padStart(2, '0')}`;
const pad = 'v'.repeat(6000);
const valueOf = (n: number) => `${n}:${pad}`;

const simpleOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.nat(K - 1), value: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), key: fc.nat(K - 1) }) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(K), fc.nat(K)).map(([x, y]) => ({ op: 'range' as const, start: Math.min(x, y), end: Math.max(x, y) })) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: simpleOpArb },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('batch' as const), ops: fc.array(simpleOpArb, { minLength: 1, maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

function applyToModel(model: Map<string, string>, op: Op): void {
  if (op.op === 'put') model.set(name(op.key), valueOf(op.value));
  else if (op.op === 'del') model.delete(name(op.key));
  else if (op.op === 'range') for (let i = op.start; i < op.end; i++) model.delete(name(i));
  else if (op.op === 'batch') for (const o of op.ops) applyToModel(model, o);
}

function toBatchOp(op: Op) {
  if (op.op === 'put') return { type: 'put' as const, key: name(op.key), value: valueOf(op.value) };
  if (op.op === 'del') return { type: 'del' as const, key: name(op.key) };
  if (op.op === 'range') return { type: 'deleteRange' as const, start: name(op.start), end: name(op.end) };
  throw new Error('not a batch op');
}

async function checkAgainst(db: Database, model: Map<string, string>, snapshot: Snapshot | undefined, bounds: { lo: number; hi: number }) {
  const opts = snapshot ? { snapshot } : {};
  const sorted = [...model.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const keys = Array.from({ length: K }, (_, i) => name(i));
  const got = await db.getMany(keys, opts);
  expect(got.map((v) => v && dec.decode(v))).toEqual(keys.map((k) => model.get(k)));
  for (const k of [keys[bounds.lo]!, keys[bounds.hi % K]!]) {
    expect(await db.has(k, opts)).toBe(model.has(k));
    expect(db.getSync(k, opts) && dec.decode(db.getSync(k, opts)!)).toBe(model.get(k));
  }
  const all = (await db.iterator(opts).all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
  expect(all).toEqual(sorted);
  const gte = name(bounds.lo);
  const lt = name(bounds.hi);
  const inRange = sorted.filter(([k]) => k >= gte && k < lt);
  const fwd = (await db.iterator({ ...opts, gte, lt }).all()).map(([k]) => dec.decode(k));
  expect(fwd).toEqual(inRange.map(([k]) => k));
  const rev = (await db.iterator({ ...opts, gte, lt, reverse: true }).all()).map(([k]) => dec.decode(k));
  expect(rev).toEqual(inRange.map(([k]) => k).reverse());
  // seek inside the bounds
  const it = db.iterator({ ...opts, gte, lt });
  it.seek(name((bounds.lo + bounds.hi) >> 1));
  const seeked = (await it.all()).map(([k]) => dec.decode(k));
  expect(seeked).toEqual(inRange.filter(([k]) => k >= name((bounds.lo + bounds.hi) >> 1)).map(([k]) => k));
}

describe('range deletions in the engine, against a model', () => {
  it('reads, iterators and snapshots agree with a sorted map through flushes, compactions and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 70 }),
        fc.record({ lo: fc.nat(K - 1), hi: fc.nat(K) }).map(({ lo, hi }) => ({ lo: Math.min(lo, hi), hi: Math.max(lo, hi) })),
        async (ops, bounds) => {
          const dir = newDir();
          let db = await open(dir, { memtableSize: 64 * 1024 });
          const model = new Map<string, string>();
          let held: Array<{ snapshot: Snapshot; model: Map<string, string> }> = [];
          try {
            for (const op of ops) {
              if (op.op === 'put') await db.put(name(op.key), valueOf(op.value));
              else if (op.op === 'del') await db.del(name(op.key));
              else if (op.op === 'range') await db.deleteRange(name(op.start), name(op.end));
              else if (op.op === 'batch') await db.batch(op.ops.map(toBatchOp));
              else if (op.op === 'snapshot') held.push({ snapshot: db.snapshot(), model: new Map(model) });
              else if (op.op === 'compact') await db.compactRange();
              else {
                for (const h of held) h.snapshot.release();
                held = [];
                await db.close();
                db = await open(dir, { memtableSize: 64 * 1024 });
              }
              applyToModel(model, op);
            }
            await checkAgainst(db, model, undefined, bounds);
            for (const h of held) await checkAgainst(db, h.model, h.snapshot, bounds);
            await db.compactRange();
            await checkAgainst(db, model, undefined, bounds);
            for (const h of held) await checkAgainst(db, h.model, h.snapshot, bounds);
          } finally {
            await db.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 60_000);
});

/** Point entries and range deletions over every table file in `dir`. */
function tableCounts(dir: string): { points: number; rangeDeletions: number; bytes: number } {
  let points = 0;
  let rangeDeletions = 0;
  let bytes = 0;
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.vt'))) {
    const data = new Uint8Array(readFileSync(join(dir, n)));
    const reader = TableReader.open(new MemoryFile(n, data), 1, data.length, new TestBlockCache(1 << 20));
    points += reader.properties.entries - reader.properties.rangeDeletions;
    rangeDeletions += reader.properties.rangeDeletions;
    bytes += data.length;
    reader.close();
  }
  return { points, rangeDeletions, bytes };
}

describe('compaction of range deletions', () => {
  it('drops covered data, keeps the tombstone while a snapshot needs it, then drops it at the bottom', async () => {
    const dir = newDir();
    const db = await open(dir, { memtableSize: 64 * 1024 });
    const value = 'v'.repeat(200);
    await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: name(i % 1000).padEnd(6, `${i}`), value })));
    await db.compactRange();
    const before = tableCounts(dir);
    expect(before.rangeDeletions).toBe(0);
    const snap = db.snapshot();
    await db.deleteRange('k10', 'k60');
    await db.compactRange();
    const held = tableCounts(dir);
    // The snapshot sees the data under the tombstone: all of it stays.
    expect(held.rangeDeletions).toBe(1);
    expect(held.points).toBe(before.points);
    expect((await db.iterator({ snapshot: snap }).all()).length).toBe(before.points);
    snap.release();
    await db.compactRange();
    const after = tableCounts(dir);
    const live = (await db.iterator().all()).length;
    expect(after.points).toBe(live);
    expect(after.points).toBeLessThan(before.points);
    expect(after.bytes).toBeLessThan(before.bytes);
    // Nothing deeper can hold keys in its range: the tombstone itself is gone.
    expect(after.rangeDeletions).toBe(0);
    expect(await db.get('k20x')).toBeUndefined();
    await db.close();
  });

  it('writes a tombstone-only output when deeper data needs it, and spreads clipped tombstones over cut outputs', () => {
    const tombstoneOnly = buildTable([], [{ start: b('k05'), end: undefined, seq: 50 }]);
    const deeper = [[{ smallest: makeInternalKey(b('k00'), 1, Kind.Value), largest: makeInternalKey(b('k39'), 1, Kind.Value) }]];
    const alone = compact({ inputs: [{ number: 1, bytes: tombstoneOnly }], smallestSnapshot: 100, deeperLevels: deeper, grandparents: [] });
    expect(alone.outputs.length).toBe(1);
    expect(alone.outputs[0]!.properties.rangeDeletions).toBe(1);
    expect(compareLargestToUserKey(alone.outputs[0]!.properties.largestKey, b('\xff\xff'))).toBeGreaterThan(0);
    // With nothing deeper the tombstone goes.
    expect(compact({ inputs: [{ number: 1, bytes: buildTable([], [{ start: b('k05'), end: undefined, seq: 50 }]) }], smallestSnapshot: 100, deeperLevels: [], grandparents: [] }).outputs).toEqual([]);

    // Points k00..k39 under a newer tombstone [k02, k30) that a snapshot (at 10) cannot see yet: everything stays,
    // cut into small outputs; each output carries the part of the tombstone within its range.
    const points = Array.from({ length: 40 }, (_, i): [string, number, string] => [name(i), 1 + i, 'p'.repeat(300)]);
    const input = buildTable(points, [{ start: b('k02'), end: b('k30'), seq: 60 }]);
    const cut = compact({ inputs: [{ number: 2, bytes: input }], smallestSnapshot: 10, deeperLevels: [], grandparents: [], targetFileSize: 2000 });
    expect(cut.outputs.length).toBeGreaterThan(3);
    const metas = cut.outputs.map((o, i) => meta(10 + i, o.properties.smallestKey, o.properties.largestKey));
    const builder = new VersionBuilder(Version.empty());
    builder.apply({ deletedFiles: [], newFiles: metas.map((m) => ({ level: 1, meta: m })) });
    const v = builder.build(); // outputs do not overlap, sentinel bounds included
    const tombstones = cut.outputs.flatMap((o, i) => {
      const r = TableReader.open(new MemoryFile('o', o.bytes), 10 + i, o.bytes.length, new TestBlockCache(1 << 20));
      const ts = [...r.rangeTombstones];
      r.close();
      return ts;
    });
    // The pieces tile [k02, k30) exactly.
    expect(tombstones.every((t) => t.seq === 60)).toBe(true);
    expect(dec.decode(tombstones[0]!.start)).toBe('k02');
    expect(dec.decode(tombstones[tombstones.length - 1]!.end!)).toBe('k30');
    for (let i = 1; i < tombstones.length; i++) expect(compare(tombstones[i - 1]!.end!, tombstones[i]!.start)).toBe(0);
    expect(v.filesForKey(b('k15')).length).toBe(1);
    expect(cut.stats.entriesOut).toBe(40);
    // Once the snapshot is gone (smallest snapshot 100) the covered points go too.
    const dropped = compact({ inputs: [{ number: 2, bytes: input }], smallestSnapshot: 100, deeperLevels: [], grandparents: [] });
    expect(dropped.stats.entriesOut).toBe(12);
    expect(dropped.outputs.reduce((n, o) => n + o.properties.rangeDeletions, 0)).toBe(0);
  });
});

describe('clear and deleteRange', () => {
  const forms: Array<[string, Parameters<Database['clear']>[0], (k: string) => boolean]> = [
    ['no bounds', {}, () => true],
    ['gte', { gte: 'k10' }, (k) => k >= 'k10'],
    ['gt', { gt: 'k10' }, (k) => k > 'k10'],
    ['lt', { lt: 'k10' }, (k) => k < 'k10'],
    ['lte', { lte: 'k10' }, (k) => k <= 'k10'],
    ['gt and lte', { gt: 'k05', lte: 'k15' }, (k) => k > 'k05' && k <= 'k15'],
    ['gte and lt, both sides tighter', { gte: 'k05', gt: 'k07', lt: 'k15', lte: 'k12' }, (k) => k > 'k07' && k <= 'k12'],
    ['empty range', { gte: 'k15', lt: 'k05' }, () => false],
  ];
  for (const [what, range, deleted] of forms) {
    it(`clear with ${what} deletes exactly its keys, before and after a reopen`, async () => {
      const dir = newDir();
      let db = await open(dir);
      const keys = Array.from({ length: 20 }, (_, i) => name(i)).concat(['k10\x00', 'k10\x00\x00', '']);
      await db.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: 'x' })));
      await db.clear(range);
      const want = keys.filter((k) => !deleted(k)).sort();
      const read = async () => (await db.iterator().all()).map(([k]) => dec.decode(k));
      expect(await read()).toEqual(want);
      await db.close();
      db = await open(dir);
      expect(await read()).toEqual(want);
      await db.put('k03', 'new');
      expect(await db.get('k03')).toBeDefined();
      await db.close();
    });
  }

  it('treats start == end as a no-op and rejects start > end', async () => {
    const db = await open(newDir());
    await db.put('a', '1');
    await db.deleteRange('a', 'a');
    expect(await db.get('a')).toBeDefined();
    await expect(db.deleteRange('b', 'a')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.batch([{ type: 'deleteRange', start: 'b', end: 'a' }])).rejects.toBeInstanceOf(InvalidArgumentError);
    await db.batch([{ type: 'deleteRange', start: 'a', end: 'b' }, { type: 'put', key: 'a', value: '2' }]);
    expect(dec.decode((await db.get('a'))!)).toBe('2');
    await db.close();
  });
});
