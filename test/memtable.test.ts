import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WriteBatch } from '../src/batch.js';
import { ClosedError, CorruptionError, InvalidArgumentError } from '../src/errors.js';
import type { InternalIterator } from '../src/iterator/internal.js';
import { Kind, MAX_SEQUENCE, makeInternalKey } from '../src/keys.js';
import { Memtable, type MemtableRun } from '../src/memtable/memtable.js';
import { withSortedRun } from '../src/memtable/sort-run.js';
import { SkipList, heap, raw } from '../src/wasm/index.js';
import {
  EMPTY,
  compareBytes,
  compareInternal,
  compareRecs,
  hex,
  ikeyOf,
  insertRecs,
  pointKindArb as kindArb,
  show,
  userKeyArb,
  type Rec,
} from './support/internal-model.js';

const recArb = fc
  .record({ key: userKeyArb, kind: kindArb, value: fc.uint8Array({ maxLength: 16 }) })
  .map((r) => ({ ...r, value: r.kind === Kind.Deletion ? EMPTY : r.value }));
/** Groups of records, each group one write batch with consecutive sequences. */
const historyArb = fc.array(fc.array(recArb, { minLength: 1, maxLength: 8 }), { maxLength: 25 });

/** Loads the history batch by batch; returns the model (sorted) and the last sequence used. */
function load(mem: Memtable, groups: Omit<Rec, 'seq'>[][]): { model: Rec[]; lastSeq: number } {
  const model: Rec[] = [];
  let seq = 1;
  const batch = new WriteBatch();
  for (const group of groups) {
    batch.clear();
    batch.setSequence(seq);
    for (const r of group) batch.putWithKind(r.kind, r.key, r.value);
    expect(mem.insertBatchAt(batch.ptr, batch.len)).toBe(group.length);
    group.forEach((r, i) => model.push({ ...r, seq: seq + i }));
    seq += group.length;
  }
  batch.release();
  model.sort(compareRecs);
  return { model, lastSeq: seq - 1 };
}

/** The model's get: the newest record of `key` with seq <= snapshot. */
function modelGet(model: Rec[], key: Uint8Array, snapshot: number): Rec | undefined {
  return model.find((r) => compareBytes(r.key, key) === 0 && r.seq <= snapshot);
}

function scan(it: InternalIterator, backward: boolean): string[] {
  const out: string[] = [];
  if (backward) for (it.seekToLast(); it.valid(); it.prev()) out.push(show(it.key(), it.value()));
  else for (it.seekToFirst(); it.valid(); it.next()) out.push(show(it.key(), it.value()));
  return out;
}

/** Walks the memtable from its first entry, which links every pending node. */
function settleByWalk(mem: Memtable): void {
  const it = mem.iterator();
  it.seekToFirst();
  it.close();
}

/** The run's bytes in sorted order: as exported, or sorted as the table worker sorts them. */
function sortedBytes(run: MemtableRun): Uint8Array {
  return run.sorted ? run.bytes : withSortedRun(run.bytes, (ptr, len) => heap.u8().slice(ptr, ptr + len));
}

/** Splits a run into its entries, checking the framing covers it exactly. */
function parseRun(run: Uint8Array): string[] {
  const dv = new DataView(run.buffer, run.byteOffset, run.byteLength);
  const out: string[] = [];
  let pos = 0;
  while (pos < run.length) {
    expect(run.length - pos).toBeGreaterThanOrEqual(8);
    const keyLength = dv.getUint32(pos, true);
    const valueLength = dv.getUint32(pos + 4, true);
    pos += 8;
    expect(pos + keyLength + valueLength).toBeLessThanOrEqual(run.length);
    out.push(show(run.subarray(pos, pos + keyLength), run.subarray(pos + keyLength, pos + keyLength + valueLength)));
    pos += keyLength + valueLength;
  }
  return out;
}

const modelScan = (model: Rec[]): string[] => model.map((r) => show(ikeyOf(r), r.value));

describe('memtable against a sorted-array model', () => {
  it('get at every snapshot, count, iteration both ways and exportRun agree with the model', () => {
    fc.assert(
      fc.property(historyArb, fc.array(fc.tuple(userKeyArb, fc.nat()), { maxLength: 20 }), (groups, probes) => {
        const mem = new Memtable(7, 1024);
        const { model, lastSeq } = load(mem, groups);
        expect(mem.count).toBe(model.length);
        for (const [key, s] of [...probes, ...model.map((r) => [r.key, r.seq] as const)]) {
          const snapshot = s % (lastSeq + 2);
          const want = modelGet(model, key, snapshot);
          const got = mem.get(key, snapshot);
          expect(got && { ...got, value: hex(got.value) }).toEqual(want && { kind: want.kind, seq: want.seq, value: hex(want.value) });
        }
        const it = mem.iterator();
        expect(scan(it, false)).toEqual(modelScan(model));
        expect(scan(it, true)).toEqual(modelScan(model).reverse());
        it.close();
        const run = mem.exportRun();
        // The iteration sorted and linked every node.
        expect(run.sorted).toBe(true);
        expect(parseRun(run.bytes)).toEqual(modelScan(model));
        mem.unref();
        expect(mem.destroyed).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('an export before any walk comes out in insertion order, which withSortedRun puts in the model\'s order', () => {
    fc.assert(
      fc.property(historyArb, (groups) => {
        const mem = new Memtable(7, 1024);
        const { model } = load(mem, groups);
        const run = mem.exportRun();
        // Fewer than two entries are in order as they are.
        expect(run.sorted).toBe(model.length < 2);
        expect(parseRun(run.bytes)).toEqual(modelScan([...model].sort((a, b) => a.seq - b.seq)));
        expect(parseRun(sortedBytes(run))).toEqual(modelScan(model));
        // Reads after the export still see every entry, in order.
        const it = mem.iterator();
        expect(scan(it, false)).toEqual(modelScan(model));
        it.close();
        mem.unref();
      }),
      { numRuns: 150 },
    );
  });

  it('seek and seekForPrev land where the model says, for present and absent targets', () => {
    const targetArb = fc.record({
      key: userKeyArb,
      seq: fc.integer({ min: 0, max: 60 }),
      kind: fc.constantFrom(0, 1, 2, 3, 0xff),
    });
    fc.assert(
      fc.property(historyArb, fc.array(targetArb, { maxLength: 20 }), (groups, targets) => {
        const mem = new Memtable(1, 1024);
        const { model } = load(mem, groups);
        const it = mem.iterator();
        for (const t of [...targets, ...model]) {
          const target = makeInternalKey(t.key, t.seq, t.kind);
          const i = model.findIndex((r) => compareInternal(ikeyOf(r), target) >= 0);
          const first = i < 0 ? model.length : i;
          it.seek(target);
          expect(it.valid() ? show(it.key(), it.value()) : 'end').toBe(first < model.length ? modelScan([model[first]!])[0] : 'end');
          const last = first < model.length && compareInternal(ikeyOf(model[first]!), target) === 0 ? first : first - 1;
          it.seekForPrev(target);
          expect(it.valid() ? show(it.key(), it.value()) : 'end').toBe(last >= 0 ? modelScan([model[last]!])[0] : 'end');
        }
        it.close();
        mem.unref();
      }),
      { numRuns: 150 },
    );
  });
});

describe('memtable iterator under concurrent inserts', () => {
  it('stays correct while inserts that grow linear memory happen between moves', () => {
    // Deterministic: xorshift32.
    let x = 0x1badf00d;
    const rand = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const mem = new Memtable(3, 4096);
    const model: Rec[] = [];
    let seq = 1;
    const insert = (valueSize: number): void => {
      const key = Uint8Array.of(rand(256), rand(256));
      const value = new Uint8Array(valueSize).fill(seq & 0xff);
      const r = { key, seq: seq++, kind: Kind.Value, value };
      insertRecs(mem, [r]);
      model.push(r);
      model.sort(compareRecs);
    };
    /** The model entry with this internal key (every entry the iterator shows must be one). */
    const entryOf = (ikey: Uint8Array): Rec => {
      const r = model.find((m) => hex(ikeyOf(m)) === hex(ikey));
      expect(r, `unknown entry ${hex(ikey)}`).toBeDefined();
      return r!;
    };
    for (let i = 0; i < 50; i++) insert(8);
    const startBytes = raw.memory.buffer.byteLength;
    let grows = 0;
    const it = mem.iterator();
    // The entries there when the iterator was last positioned from an end:
    // a move may also meet entries inserted since (they are newer than any
    // snapshot it reads at, and linked in batches), but never skips one of these.
    let known = model.slice();
    it.seekToFirst();
    for (let step = 0; step < 600; step++) {
      if (it.valid()) {
        // A copy: the insert below may grow memory, which detaches views.
        const key = it.key().slice();
        expect(hex(it.value())).toBe(hex(entryOf(key).value));
        const before = raw.memory.buffer.byteLength;
        // Values large enough that the heap has to grow every few inserts.
        insert(rand(4) === 0 ? 96 * 1024 : 16);
        if (raw.memory.buffer.byteLength > before) grows++;
        // Still on the same entry, read afresh after the growth.
        expect(hex(it.key())).toBe(hex(key));
        expect(hex(it.value())).toBe(hex(entryOf(key).value));
        const forward = rand(3) !== 0;
        if (forward) it.next();
        else it.prev();
        // The nearest known entry past the old one in the direction moved: the move lands on it or on a newer entry before it.
        const bound = forward ? known.find((r) => compareInternal(ikeyOf(r), key) > 0) : [...known].reverse().find((r) => compareInternal(ikeyOf(r), key) < 0);
        if (!it.valid()) {
          expect(bound).toBeUndefined();
          continue;
        }
        const now = it.key().slice();
        entryOf(now);
        expect(Math.sign(compareInternal(now, key))).toBe(forward ? 1 : -1);
        if (bound !== undefined) expect(Math.sign(compareInternal(now, ikeyOf(bound)))).not.toBe(forward ? 1 : -1);
      } else {
        // Positioning from an end sees every entry inserted so far.
        known = model.slice();
        const fromStart = rand(2) === 0;
        if (fromStart) it.seekToFirst();
        else it.seekToLast();
        expect(hex(it.key())).toBe(hex(ikeyOf(fromStart ? model[0]! : model[model.length - 1]!)));
      }
    }
    expect(raw.memory.buffer.byteLength).toBeGreaterThan(startBytes);
    expect(grows).toBeGreaterThan(2);
    it.close();
    mem.unref();
  });
});

describe('memtable lifetime', () => {
  it('an open iterator keeps the memtable alive after the engine drops it; the last close frees it', () => {
    const mem = new Memtable(9);
    insertRecs(mem, [{ key: Uint8Array.of(1), seq: 5, kind: Kind.Value, value: Uint8Array.of(42) }]);
    const a = mem.iterator();
    const b = mem.iterator();
    mem.unref();
    expect(mem.destroyed).toBe(false);
    a.seekToFirst();
    expect(hex(a.value())).toBe('2a');
    a.close();
    a.close(); // idempotent: must not drop b's reference
    expect(mem.destroyed).toBe(false);
    b.seekToLast();
    expect(hex(b.key())).toBe(hex(makeInternalKey(Uint8Array.of(1), 5, Kind.Value)));
    b.close();
    expect(mem.destroyed).toBe(true);
    expect(() => a.seekToFirst()).toThrow(ClosedError);
    expect(() => mem.get(Uint8Array.of(1), 9)).toThrow(ClosedError);
    expect(() => mem.iterator()).toThrow(ClosedError);
    expect(() => mem.ref()).toThrow(ClosedError);
    expect(() => mem.unref()).toThrow(ClosedError);
    expect(() => mem.exportRun()).toThrow(ClosedError);
    expect(() => mem.count).toThrow(ClosedError);
  });

  it('extra references are counted: the memtable lives until each is dropped', () => {
    const mem = new Memtable(0);
    mem.ref();
    mem.ref();
    mem.unref();
    mem.unref();
    expect(mem.destroyed).toBe(false);
    expect(mem.count).toBe(0);
    mem.unref();
    expect(mem.destroyed).toBe(true);
  });

  it('frees its linear memory: creating and dropping many large memtables does not grow the heap', () => {
    const value = new Uint8Array(4096);
    const cycle = (): void => {
      const mem = new Memtable(1);
      const recs = Array.from({ length: 256 }, (_, i) => ({ key: Uint8Array.of(i >> 8, i & 0xff), seq: i + 1, kind: Kind.Value, value }));
      insertRecs(mem, recs);
      expect(mem.approximateBytes).toBeGreaterThan(256 * 4096);
      mem.unref();
    };
    cycle();
    const size = raw.memory.buffer.byteLength;
    for (let i = 0; i < 40; i++) cycle(); // 40 MiB if nothing were freed
    expect(raw.memory.buffer.byteLength).toBe(size);
  });
});

describe('memtable bytes', () => {
  it('counts its user-key index in its memory but not in the bytes of writes the flush threshold reads', () => {
    const indexed = new Memtable(1, 4096, 64);
    const plain = new Memtable(2, 4096);
    const batch = new WriteBatch().setSequence(1);
    for (let i = 0; i < 1000; i++) batch.put(new TextEncoder().encode(`key-${i}`), new Uint8Array(20));
    indexed.insertBatchAt(batch.ptr, batch.len);
    plain.insertBatchAt(batch.ptr, batch.len);
    batch.release();
    // 1,000 keys pass 3/4 of 1,024 slots: the index grew from 64 to 2,048 slots of 8 bytes.
    expect(indexed.approximateBytes - indexed.entryBytes).toBe(2048 * 8);
    expect(indexed.entryBytes).toBe(plain.entryBytes);
    expect(plain.approximateBytes).toBe(plain.entryBytes);
    indexed.unref();
    plain.unref();
  });
});

describe('memtable writes and runs', () => {
  it('a malformed batch throws CorruptionError and inserts nothing', () => {
    const mem = new Memtable(2);
    const batch = new WriteBatch().setSequence(1).put(Uint8Array.of(1), Uint8Array.of(2)).put(Uint8Array.of(3), Uint8Array.of(4));
    expect(() => mem.insertBatchAt(batch.ptr, batch.len - 1)).toThrow(CorruptionError);
    expect(mem.count).toBe(0);
    expect(mem.insertBatchAt(batch.ptr, batch.len)).toBe(2);
    expect(mem.get(Uint8Array.of(3), MAX_SEQUENCE)?.seq).toBe(2);
    expect(mem.get(Uint8Array.of(3), 1)).toBeUndefined();
    batch.release();
    mem.unref();
  });

  it('get returns values of every size intact, each its own copy', () => {
    const mem = new Memtable(6);
    const sizes = [0, 1, 64, 65, 1000, 4096, 4097, 70_000];
    const valueOf = (i: number): Uint8Array => Uint8Array.from({ length: sizes[i % sizes.length]! }, (_, j) => (i * 13 + j) & 0xff);
    insertRecs(mem, Array.from({ length: 120 }, (_, i) => ({ key: Uint8Array.of(i), seq: i + 1, kind: Kind.Value, value: valueOf(i) })));
    const got = Array.from({ length: 120 }, (_, i) => mem.get(Uint8Array.of(i), MAX_SEQUENCE)!.value);
    got[0]!.fill(0xee);
    got[3]!.fill(0xee);
    got.forEach((v, i) => expect(hex(v)).toBe(i === 0 || i === 3 ? hex(new Uint8Array(v.length).fill(0xee)) : hex(valueOf(i))));
    mem.unref();
  });

  it('exportRun writes the documented bytes', () => {
    const mem = new Memtable(4);
    insertRecs(mem, [
      { key: Uint8Array.of(0x62), seq: 2, kind: Kind.Deletion, value: EMPTY },
      { key: Uint8Array.of(0x61), seq: 1, kind: Kind.Value, value: Uint8Array.of(0x78, 0x79) },
    ]);
    // keyLen 9, valueLen 2, "a" + trailer (1 << 8 | 1), "xy"; and keyLen 9, valueLen 0, "b" + trailer (2 << 8 | 0)
    const a = '09000000' + '02000000' + '61' + '0101000000000000' + '7879';
    const b = '09000000' + '00000000' + '62' + '0002000000000000';
    const run = mem.exportRun();
    expect(run.sorted).toBe(false);
    expect(hex(run.bytes)).toBe(b + a);
    expect(hex(sortedBytes(run))).toBe(a + b);
    settleByWalk(mem);
    const sorted = mem.exportRun();
    expect(sorted.sorted).toBe(true);
    expect(hex(sorted.bytes)).toBe(a + b);
    mem.unref();
    const empty = new Memtable(5);
    expect(empty.exportRun().bytes.length).toBe(0);
    empty.unref();
  });

  it('exports a run larger than a slice, with entries larger than a slice, the same whether yielding or not', async () => {
    const mem = new Memtable(1);
    const parts: Uint8Array[] = [];
    const value = new Uint8Array(1000).fill(7);
    const huge = new Uint8Array(600 * 1024).fill(9);
    for (let i = 0; i < 2000; i++) {
      const key = new TextEncoder().encode(`k${String(i).padStart(6, '0')}`);
      const v = i % 500 === 250 ? huge : value;
      const batch = new WriteBatch().put(key, v).setSequence(i + 1);
      mem.insertBatchAt(batch.ptr, batch.len);
      batch.release();
      const ikey = makeInternalKey(key, i + 1, Kind.Value);
      const header = new Uint8Array(8);
      new DataView(header.buffer).setUint32(0, ikey.length, true);
      new DataView(header.buffer).setUint32(4, v.length, true);
      parts.push(header, ikey, v);
    }
    const expected = Buffer.concat(parts);
    // Inserted in key order: the export in insertion order is the sorted one.
    const run = mem.exportRun();
    expect(run.bytes.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(Buffer.from(run.bytes).equals(expected)).toBe(true);
    expect(Buffer.from((await mem.exportRunYielding()).bytes).equals(expected)).toBe(true);
    settleByWalk(mem);
    const sorted = mem.exportRun();
    expect(sorted.sorted).toBe(true);
    expect(Buffer.from(sorted.bytes).equals(expected)).toBe(true);
    mem.unref();
  });

  it('an unsorted export that a walk interrupts between slices starts over sorted', async () => {
    const mem = new Memtable(1);
    const value = new Uint8Array(1000).fill(7);
    const keys: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Descending keys: insertion order is the reverse of sorted order.
      const key = `k${String(3000 - i).padStart(6, '0')}`;
      keys.push(key);
      const batch = new WriteBatch().put(new TextEncoder().encode(key), value).setSequence(i + 1);
      mem.insertBatchAt(batch.ptr, batch.len);
      batch.release();
    }
    // The first slice (1 MiB of a 3 MB run) is written before exportRunYielding first yields.
    const exporting = mem.exportRunYielding();
    settleByWalk(mem);
    const run = await exporting;
    expect(run.sorted).toBe(true);
    expect(parseRun(run.bytes).length).toBe(3000);
    // Sorted: the last key inserted comes first.
    expect(new TextDecoder().decode(run.bytes.subarray(8, 8 + 7))).toBe(keys.at(-1));
    expect(Buffer.from(run.bytes).equals(mem.exportRun().bytes)).toBe(true);
    mem.unref();
  });

  it('a run with a key under 8 bytes or a truncated entry is CorruptionError when sorted', () => {
    const entry = (keyLength: number, valueLength: number, have: number): Uint8Array => {
      const bytes = new Uint8Array(8 + have);
      new DataView(bytes.buffer).setUint32(0, keyLength, true);
      new DataView(bytes.buffer).setUint32(4, valueLength, true);
      return bytes;
    };
    const use = () => 0;
    expect(() => withSortedRun(entry(7, 0, 7), use)).toThrow(/malformed run: a key under 8 bytes/);
    expect(() => withSortedRun(entry(9, 4, 12), use)).toThrow(CorruptionError);
    expect(() => withSortedRun(Uint8Array.of(9, 0, 0), use)).toThrow(/malformed run: truncated/);
    expect(withSortedRun(new Uint8Array(0), (_ptr, len) => len)).toBe(0);
  });

  it('the export kernel refuses a destination that is too small or outside memory', () => {
    const list = new SkipList();
    list.put(Uint8Array.of(1, 2, 3), 1, Kind.Value, Uint8Array.of(9));
    expect(list.exportSize).toBe(8 + 11 + 1);
    const ptr = heap.alloc(64);
    expect(list.exportPendingSlice(0, ptr, 19)).toEqual({ written: -1, next: 0 });
    expect(list.exportPendingSlice(0, ptr, 64)).toEqual({ written: 20, next: 1 });
    expect(() => list.exportPendingSlice(0, 0, 20)).toThrow(InvalidArgumentError);
    const first = list.cursor();
    first.first();
    expect(list.exportSlice(0, ptr, 19)).toEqual({ written: -1, next: first.node });
    // The walk linked the node: the pending export refuses.
    expect(list.exportPendingSlice(0, ptr, 64).written).toBe(-2);
    expect(list.exportSlice(0, ptr, 64)).toEqual({ written: 20, next: 0 });
    expect(() => list.exportSlice(0, heap.u8().length - 4, 19)).toThrow(InvalidArgumentError);
    expect(() => list.exportSlice(0, 0, 20)).toThrow(InvalidArgumentError);
    heap.free(ptr);
    list.destroy();
  });

  it('rejects log numbers that are not sequence-like integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => new Memtable(bad)).toThrow(InvalidArgumentError);
    const mem = new Memtable(MAX_SEQUENCE);
    expect(mem.logNumber).toBe(MAX_SEQUENCE);
    mem.unref();
  });
});
