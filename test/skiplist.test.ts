import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptionError, InvalidArgumentError } from '../src/errors.js';
import { WriteBatch } from '../src/batch.js';
import { Kind, MAX_SEQUENCE } from '../src/keys.js';
import { Arena, SkipList, type SkipListCursor, heap, raw, skiplistNode } from '../src/wasm/index.js';
import { randomBytes } from './support/random.js';

// ---- The model: a sorted array of entries in internal-key order ----

interface Rec {
  key: Uint8Array;
  seq: number;
  kind: number;
  value: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** User key ascending, then (seq, kind) descending: the trailer order. */
function compareTo(e: Rec, key: Uint8Array, seq: number, kind: number): number {
  const c = compareBytes(e.key, key);
  if (c !== 0) return c;
  if (e.seq !== seq) return e.seq > seq ? -1 : 1;
  return kind - e.kind;
}

class Model {
  entries: Rec[] = [];

  /** Index of the first entry >= (key, seq, kind). */
  lowerBound(key: Uint8Array, seq: number, kind: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareTo(this.entries[mid]!, key, seq, kind) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(r: Rec): void {
    this.entries.splice(this.lowerBound(r.key, r.seq, r.kind), 0, r);
  }

  get(key: Uint8Array, snapshot: number): Rec | undefined {
    const e = this.entries[this.lowerBound(key, snapshot, 0xff)];
    return e && compareBytes(e.key, key) === 0 ? e : undefined;
  }
}

// ---- Helpers ----

/** Deterministic generator (xorshift32) so a failure reproduces. */
class Rng {
  constructor(private x: number) {}
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(len: number, alphabet?: number[]): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = alphabet ? alphabet[this.int(alphabet.length)]! : this.int(256);
    return out;
  }
}

const ALPHABET = [0x00, 0x01, 0x61, 0xff];
const LONG_PREFIX = new TextEncoder().encode('user/00000000/');

/** Mostly short keys over a tiny alphabet (many versions per key), some long shared-prefix ones. */
function randomKey(rng: Rng): Uint8Array {
  if (rng.int(10) === 0) {
    const tail = rng.bytes(rng.int(20), ALPHABET);
    const key = new Uint8Array(LONG_PREFIX.length + tail.length);
    key.set(LONG_PREFIX);
    key.set(tail, LONG_PREFIX.length);
    return key;
  }
  return rng.bytes(rng.int(5), ALPHABET);
}

function internalKey(key: Uint8Array, seq: number, kind: number): Uint8Array {
  const out = new Uint8Array(key.length + 8);
  out.set(key);
  const dv = new DataView(out.buffer);
  dv.setUint32(key.length, ((seq % 0x1000000) * 256 + kind) >>> 0, true);
  dv.setUint32(key.length + 4, Math.floor(seq / 0x1000000), true);
  return out;
}

function sameRec(a: Rec | undefined, b: Rec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.seq === b.seq && a.kind === b.kind && compareBytes(a.key, b.key) === 0 && compareBytes(a.value, b.value) === 0;
}

/** Compares record lists cheaply; on a mismatch, lets expect print the first differing pair. */
function expectSameRecs(got: Rec[], want: Rec[]): void {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (!sameRec(got[i], want[i])) expect({ index: i, entry: got[i] }).toEqual({ index: i, entry: want[i] });
  }
}

function current(c: SkipListCursor): Rec {
  return { key: c.key(), seq: c.seq, kind: c.kind, value: c.value() };
}

function scanForward(list: SkipList): Rec[] {
  const out: Rec[] = [];
  const c = list.cursor();
  for (let ok = c.first(); ok; ok = c.next()) out.push(current(c));
  return out;
}

function scanBackward(list: SkipList): Rec[] {
  const out: Rec[] = [];
  const c = list.cursor();
  for (let ok = c.last(); ok; ok = c.prev()) out.push(current(c));
  return out;
}

/**
 * Checks every level of the list through the documented layout: the head's
 * next[i] at handle + 96 - 4i, a node's at node - 4(i+1), its height at
 * node + 12. Each level must visit, in level-0 order, exactly the nodes
 * taller than it. Lookups stay correct even when upper levels are out of
 * order, so only this check sees such a bug. A first() links the pending
 * nodes beforehand.
 */
function checkStructure(list: SkipList): void {
  list.cursor().first();
  const dv = heap.view();
  const rank = new Map<number, number>();
  const heights: number[] = [];
  for (let n = dv.getUint32(list.handle + 96, true); n !== 0; n = dv.getUint32(n - 4, true)) {
    rank.set(n, rank.size);
    heights.push(dv.getUint32(n + 12, true));
  }
  for (let level = 1; level < 12; level++) {
    const want = heights.flatMap((h, i) => (h > level ? [i] : []));
    const got: number[] = [];
    for (let n = dv.getUint32(list.handle + 96 - 4 * level, true); n !== 0; n = dv.getUint32(n - 4 * (level + 1), true)) {
      got.push(rank.get(n) ?? -1);
      if (got.length > want.length) break;
    }
    if (got.join() !== want.join()) expect({ level, got: got.slice(0, 20) }).toEqual({ level, got: want.slice(0, 20) });
  }
}

function batchOf(records: Rec[], first: number): WriteBatch {
  const b = new WriteBatch();
  b.setSequence(first);
  for (const r of records) b.putWithKind(r.kind, r.key, r.value);
  return b;
}

const EMPTY = new Uint8Array(0);
const LIST_BASE_BYTES = 288; // list struct 120 + two arena structs of 20 + 32 pending slots of 4 (chunks of 4096 bytes); no chunks, no index

/** The user-key index's slots through the documented layout: address at handle + 24, slot count - 1 at + 28 (0 slots without an index). */
function indexSlots(list: SkipList): { at: number; slots: number; keys: number } {
  const dv = heap.view();
  const at = dv.getUint32(list.handle + 24, true);
  return { at, slots: at === 0 ? 0 : dv.getUint32(list.handle + 28, true) + 1, keys: dv.getUint32(list.handle + 32, true) };
}

/**
 * Checks the index against the model: exactly one slot per distinct user
 * key, holding the node of its newest entry, at most 3/4 of the slots used.
 */
function checkIndex(list: SkipList, model: Model): void {
  const { at, slots, keys } = indexSlots(list);
  if (at === 0) return;
  const dv = heap.view();
  const newest = new Map<string, Rec>();
  for (const e of model.entries) if (!newest.has(e.key.join())) newest.set(e.key.join(), e); // internal order: newest first
  const seen = new Set<string>();
  for (let i = 0; i < slots; i++) {
    const node = dv.getUint32(at + 8 * i + 4, true);
    if (node === 0) continue;
    const userKeyLen = dv.getUint32(node + 4, true) - 8;
    const key = new Uint8Array(dv.buffer, node + 20, userKeyLen).join();
    const want = newest.get(key);
    const seq = Number(dv.getBigUint64(node + 20 + userKeyLen, true) >> 8n);
    if (want === undefined || want.seq !== seq || seen.has(key)) expect({ key, seq, twice: seen.has(key) }).toEqual({ key, seq: want?.seq, twice: false });
    seen.add(key);
  }
  expect(seen.size).toBe(newest.size);
  expect(keys).toBe(newest.size);
  expect(keys * 4).toBeLessThanOrEqual(slots * 3);
}

// ---- Tests ----

describe('skip list against a sorted-array model', () => {
  // Without a user-key index, with one that starts at one slot (so it grows from the first key), and with a larger one.
  it.each([0, 1, 64])('agrees over 100,000 random operations (index of %i slots to start)', (startSlots) => {
    const rng = new Rng(0x5eed1234);
    const list = new SkipList(4096, startSlots);
    let model = new Model();
    let seq = 1;
    let resets = 0;
    const knownKeys: Uint8Array[] = [];
    const pickKey = () => (knownKeys.length > 0 && rng.int(4) !== 0 ? knownKeys[rng.int(knownKeys.length)]! : randomKey(rng));
    const randomRecord = (): Rec => {
      const kind = [Kind.Value, Kind.Value, Kind.Deletion, Kind.ValueWithExpiry, Kind.RangeDeletion][rng.int(5)]!;
      const key = pickKey();
      if (knownKeys.length < 2000) knownKeys.push(key);
      return { key, seq: 0, kind, value: kind === Kind.Deletion ? EMPTY : rng.bytes(rng.int(40)) };
    };

    for (let op = 0; op < 100_000; op++) {
      const r = rng.int(100);
      if (r < 30) {
        const rec = randomRecord();
        rec.seq = seq;
        seq += 1 + (rng.int(8) === 0 ? rng.int(1000) : 0);
        list.put(rec.key, rec.seq, rec.kind, rec.value);
        model.insert(rec);
      } else if (r < 40) {
        const recs = Array.from({ length: rng.int(20) }, randomRecord);
        const batch = batchOf(recs, seq);
        expect(list.insertBatch(batch)).toBe(recs.length);
        batch.release();
        recs.forEach((rec, i) => model.insert({ ...rec, seq: seq + i }));
        seq += recs.length + 1;
      } else if (r < 65) {
        const key = pickKey();
        const snapshot = rng.int(4) === 0 ? MAX_SEQUENCE : rng.int(seq + 2);
        const want = model.get(key, snapshot);
        const got = list.get(key, snapshot);
        if (!sameRec(got && { key, ...got }, want)) expect(got).toEqual(want && { kind: want.kind, seq: want.seq, value: want.value });
      } else if (r < 85) {
        const key = pickKey();
        const snapshot = rng.int(seq + 2);
        const c = list.cursor();
        const internal = rng.int(2) === 0;
        const kind = internal ? rng.int(256) : 0xff;
        if (internal) c.seekInternal(internalKey(key, snapshot, kind));
        else c.seek(key, snapshot);
        let i = model.lowerBound(key, snapshot, kind);
        if (c.valid !== i < model.entries.length) expect(c.valid).toBe(i < model.entries.length);
        const forward = rng.int(2) === 0;
        const steps = 1 + rng.int(10);
        for (let step = 0; step < steps && c.valid; step++) {
          expectSameRecs([current(c)], [model.entries[i]!]);
          i += forward ? 1 : -1;
          const ok = forward ? c.next() : c.prev();
          const want = i >= 0 && i < model.entries.length;
          if (ok !== want) expect(ok).toBe(want);
        }
      } else if (r < 86 && rng.int(30) === 0) {
        list.reset();
        model = new Model();
        knownKeys.length = 0;
        resets++;
        expect(list.count).toBe(0);
        expect(list.exportSize).toBe(0);
        // Reset keeps the index's slots, emptied.
        expect(list.bytes).toBe(LIST_BASE_BYTES + 8 * indexSlots(list).slots);
        expect(indexSlots(list).keys).toBe(0);
      }
      if (op % 5000 === 4999) {
        expect(list.count).toBe(model.entries.length);
        // The run's length, kept as nodes are linked: 8 + internal key + value per entry.
        expect(list.exportSize).toBe(model.entries.reduce((n, e) => n + 8 + e.key.length + 8 + e.value.length, 0));
        expectSameRecs(scanForward(list), model.entries);
        expectSameRecs(scanBackward(list), [...model.entries].reverse());
        checkStructure(list);
        checkIndex(list, model);
      }
    }
    expect(resets).toBeGreaterThan(3);
    list.destroy();
  }, 60_000);
});

describe('user-key index', () => {
  it('holds each key\'s newest node, answers get from it, and grows past 3/4 full', () => {
    const list = new SkipList(4096, 4);
    const keys = Array.from({ length: 100 }, (_, i) => new TextEncoder().encode(`key-${i}`));
    keys.forEach((k, i) => list.put(k, i + 1, Kind.Value, k));
    keys.forEach((k, i) => list.put(k, 1000 + i, Kind.Value, new Uint8Array([i])));
    expect(indexSlots(list)).toMatchObject({ slots: 256, keys: 100 }); // 4 doubled to 256: 100 keys fit in 192
    expect(list.get(keys[7]!, MAX_SEQUENCE)?.value).toEqual(new Uint8Array([7]));
    // An older snapshot than the newest node searches the list.
    expect(list.get(keys[7]!, 500)?.value).toEqual(keys[7]);
    // With its slots emptied, get answers from the index alone: the key reads as absent, while a seek still finds it.
    const { at, slots } = indexSlots(list);
    new Uint8Array(heap.view().buffer, at, 8 * slots).fill(0);
    expect(list.get(keys[7]!, MAX_SEQUENCE)).toBeUndefined();
    const c = list.cursor();
    c.seek(keys[7]!, MAX_SEQUENCE);
    expect(c.valid).toBe(true);
    list.destroy();
  });

  it('refuses a start that is not 0 or a power of two up to 2^25', () => {
    expect(() => new SkipList(4096, 3)).toThrow(/index slots/);
    expect(() => new SkipList(4096, 2 ** 26)).toThrow(/index slots/);
    expect(() => new SkipList(4096, -1)).toThrow(/index slots/);
  });
});

describe('skip list properties', () => {
  const keyArb = fc.uint8Array({ maxLength: 6 }).map((k) => k.map((b) => ALPHABET[b % ALPHABET.length]!));
  const recArb = fc
    .record({ key: keyArb, kind: fc.integer({ min: 0, max: 3 }), value: fc.uint8Array({ maxLength: 24 }) })
    .map((r) => ({ ...r, seq: 0, value: r.kind === Kind.Deletion ? EMPTY : r.value }));
  // Each step inserts one record singly or a group as one batch.
  const stepsArb = fc.array(fc.oneof(recArb.map((r) => [r]), fc.array(recArb, { maxLength: 12 })), { maxLength: 40 });

  function build(steps: Rec[][], asBatch: (i: number) => boolean): { list: SkipList; model: Model; lastSeq: number } {
    const list = new SkipList(1024, 2);
    const model = new Model();
    let seq = 1;
    steps.forEach((group, i) => {
      if (asBatch(i)) {
        const b = batchOf(group, seq);
        expect(list.insertBatch(b)).toBe(group.length);
        b.release();
      } else {
        group.forEach((r, j) => list.put(r.key, seq + j, r.kind, r.value));
      }
      group.forEach((r, j) => model.insert({ ...r, seq: seq + j }));
      seq += group.length + 1;
    });
    return { list, model, lastSeq: seq };
  }

  it('iterates in internal-key order both ways and gets what the model gets at every snapshot', () => {
    fc.assert(
      fc.property(stepsArb, fc.array(fc.tuple(keyArb, fc.nat()), { maxLength: 30 }), (steps, probes) => {
        const { list, model, lastSeq } = build(steps, (i) => i % 2 === 0);
        expect(list.count).toBe(model.entries.length);
        expectSameRecs(scanForward(list), model.entries);
        expectSameRecs(scanBackward(list), [...model.entries].reverse());
        checkStructure(list);
        checkIndex(list, model);
        for (const [key, s] of probes) {
          const snapshot = s % (lastSeq + 1);
          const got = list.get(key, snapshot);
          expect(got && { key, ...got }).toEqual(model.get(key, snapshot));
        }
        for (const e of model.entries) expect(list.get(e.key, e.seq)?.seq).toBe(model.get(e.key, e.seq)!.seq);
        list.destroy();
      }),
      { numRuns: 200 },
    );
  });

  it('a batch inserts exactly what the same records inserted one by one do', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const a = build(steps, () => true);
        const b = build(steps, () => false);
        expectSameRecs(scanForward(a.list), scanForward(b.list));
        expect(a.list.count).toBe(b.list.count);
        a.list.destroy();
        b.list.destroy();
      }),
      { numRuns: 100 },
    );
  });

  it('finger search over ascending batches interleaved with a large list', () => {
    const list = new SkipList();
    const model = new Model();
    const key = (n: number) => new TextEncoder().encode(String(n).padStart(8, '0'));
    let seq = 1;
    // Even keys one by one, linked by a walk; then odd keys in ascending batches with gaps, and a descending
    // batch, each settled (as its pending slots fill) by finger search: they are few against the linked nodes.
    for (let n = 0; n < 40_000; n += 2) {
      list.put(key(n), seq, Kind.Value, key(n));
      model.insert({ key: key(n), seq: seq++, kind: Kind.Value, value: key(n) });
    }
    list.cursor().first();
    const groups = [
      Array.from({ length: 1000 }, (_, i) => 1 + 2 * i),
      Array.from({ length: 1000 }, (_, i) => 5001 + 34 * i),
      Array.from({ length: 1000 }, (_, i) => 39_999 - 2 * i),
      Array.from({ length: 500 }, (_, i) => 40_000 + i),
    ];
    for (const g of groups) {
      const recs = g.map((n) => ({ key: key(n), seq: 0, kind: Kind.Value, value: key(n) }));
      const b = batchOf(recs, seq);
      list.insertBatch(b);
      b.release();
      recs.forEach((r, i) => model.insert({ ...r, seq: seq + i }));
      seq += recs.length;
    }
    expect(list.count).toBe(model.entries.length);
    expectSameRecs(scanForward(list), model.entries);
    expectSameRecs(scanBackward(list), [...model.entries].reverse());
    checkStructure(list);
    list.destroy();
  });

  const actionArb = fc.oneof(
    fc.integer({ min: 1, max: 40 }).map((budget) => ({ budget })),
    recArb.map((rec) => ({ rec })),
    keyArb.map((get) => ({ get })),
  );

  it('settles in steps of any size, between inserts and gets, to the list the model holds', () => {
    fc.assert(
      fc.property(stepsArb, fc.array(actionArb, { maxLength: 80 }), (steps, actions) => {
        // Only written to so far: every node is pending, so the steps sort and append them.
        const { list, model, lastSeq } = build(steps, (i) => i % 2 === 0);
        let seq = lastSeq;
        for (const a of actions) {
          if ('budget' in a) {
            list.settleStep(a.budget);
          } else if ('rec' in a) {
            // An insert finishes a settle in progress first.
            list.put(a.rec.key, seq, a.rec.kind, a.rec.value);
            model.insert({ ...a.rec, seq: seq++ });
          } else {
            const want = model.get(a.get, MAX_SEQUENCE);
            const got = list.get(a.get, MAX_SEQUENCE);
            if (!sameRec(got && { key: a.get, ...got }, want)) expect(got).toEqual(want && { kind: want.kind, seq: want.seq, value: want.value });
          }
        }
        expectSameRecs(scanForward(list), model.entries);
        expectSameRecs(scanBackward(list), [...model.entries].reverse());
        checkStructure(list);
        list.destroy();
      }),
      { numRuns: 300 },
    );
  });

  it('a settle in steps runs to its end on its own, and then has nothing to do', () => {
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 1, max: 100 }), (steps, budget) => {
        const { list, model } = build(steps, () => true);
        let calls = 0;
        while (list.settleStep(budget)) calls++;
        expect(calls).toBeLessThan(10 * (model.entries.length + 8));
        expect(list.settleStep(budget)).toBe(false);
        checkStructure(list);
        expectSameRecs(scanForward(list), model.entries);
        list.destroy();
      }),
      { numRuns: 200 },
    );
  });
});

describe('settling without memory to sort', () => {
  /** Takes every free block of linear memory down to 16 bytes; returns them for freeing. */
  function exhaustMemory(): number[] {
    const held: number[] = [];
    for (const size of [256 << 20, 16 << 20, 1 << 20, 64 << 10, 4096, 256, 16]) {
      for (let p = raw.alloc(size) as number; p !== 0; p = raw.alloc(size) as number) held.push(p);
    }
    return held;
  }

  it('links the pending nodes one by one, in order, when neither a sort nor more pending slots can get memory', () => {
    const rng = new Rng(99);
    let seq = 1;
    const fill = (list: SkipList, model: Model, count: number) => {
      for (let i = 0; i < count; i++) {
        const rec = { key: randomKey(rng), seq: seq++, kind: Kind.Value, value: rng.bytes(8) };
        list.put(rec.key, rec.seq, rec.kind, rec.value);
        model.insert(rec);
      }
    };
    // Chunks of 16 KiB: 128 pending slots, and room in the first chunk for every node below.
    const a = { list: new SkipList(16384), model: new Model() };
    const b = { list: new SkipList(16384), model: new Model() };
    fill(a.list, a.model, 128); // the slots are full, nothing linked
    fill(b.list, b.model, 50);
    const held = exhaustMemory();
    try {
      expect(raw.alloc(1024)).toBe(0);
      // No memory for the state of a settle in steps: the step settles at once, unsorted.
      expect(b.list.settleStep(8)).toBe(false);
      // The slots cannot grow: the next insert settles first, unsorted; the later ones wait in the slots.
      fill(a.list, a.model, 72);
      expect(a.list.settleStep(8)).toBe(false);
    } finally {
      for (const p of held) raw.free(p);
    }
    for (const { list, model } of [a, b]) {
      expectSameRecs(scanForward(list), model.entries);
      expectSameRecs(scanBackward(list), [...model.entries].reverse());
      checkStructure(list);
      list.destroy();
    }
  });
});

describe('write batch format', () => {
  it('encodes the documented bytes', () => {
    const b = new WriteBatch();
    b.setSequence(0x0102030405);
    b.put(new Uint8Array([0x61]), new Uint8Array(200).fill(7));
    b.del(new Uint8Array([0x62, 0x63]));
    b.putWithKind(Kind.ValueWithExpiry, EMPTY, new Uint8Array([9]));
    const expected = [
      0x05, 0x04, 0x03, 0x02, 0x01, 0, 0, 0, // first sequence u64 LE
      3, 0, 0, 0, // count u32 LE
      1, 1, 0x61, 0xc8, 0x01, ...new Array(200).fill(7), // value: kind, key len, key, varint 200, value
      0, 2, 0x62, 0x63, // deletion: no value
      2, 0, 1, 9, // value with expiry, empty key
    ];
    expect([...b.bytes()]).toEqual(expected);
    expect(b.len).toBe(expected.length);
    expect(b.count).toBe(3);
    expect(b.sequence).toBe(0x0102030405);
    b.clear();
    expect([...b.bytes()]).toEqual([5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0]);
    b.release();
  });

  it('grows in linear memory keeping what it holds', () => {
    const b = new WriteBatch(16);
    const model: Rec[] = [];
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(i % 37, i + 1);
      const value = randomBytes((i * 97) % 3000, i + 1000);
      b.put(key, value);
      model.push({ key, seq: 50 + i, kind: Kind.Value, value });
    }
    b.setSequence(50);
    const list = new SkipList();
    expect(list.insertBatch(b)).toBe(300);
    const m = new Model();
    model.forEach((r) => m.insert(r));
    expectSameRecs(scanForward(list), m.entries);
    list.destroy();
    b.release();
  });

  it('rejects bad arguments', () => {
    const b = new WriteBatch();
    expect(() => b.setSequence(-1)).toThrow(InvalidArgumentError);
    expect(() => b.setSequence(2 ** 53)).toThrow(InvalidArgumentError);
    expect(() => b.setSequence(1.5)).toThrow(InvalidArgumentError);
    expect(() => b.putWithKind(4, EMPTY, EMPTY)).toThrow(InvalidArgumentError);
    expect(() => b.putWithKind(Kind.Deletion, EMPTY, new Uint8Array(1))).toThrow(InvalidArgumentError);
    b.release();
    expect(() => b.put(EMPTY, EMPTY)).toThrow(InvalidArgumentError);
    expect(() => b.setSequence(1)).toThrow(InvalidArgumentError);
  });
});

describe('malformed batches', () => {
  /** A fresh list holding one entry, so "nothing inserted" is observable against a non-empty list. */
  function seededList(): SkipList {
    const list = new SkipList(1024);
    list.put(new Uint8Array([1]), 1, Kind.Value, new Uint8Array([1]));
    return list;
  }

  function sampleBatch(): WriteBatch {
    const b = new WriteBatch();
    b.setSequence(100);
    b.put(new Uint8Array([0x61, 0x62]), new Uint8Array(130).fill(3)); // value length takes a 2-byte varint
    b.del(new Uint8Array([0x63]));
    b.putWithKind(Kind.RangeDeletion, new Uint8Array([0x64]), new Uint8Array([0x65]));
    return b;
  }

  /** Inserts raw bytes as a batch; returns the error, checking that nothing changed. */
  function rejects(bytes: Uint8Array | number[]): CorruptionError {
    const list = seededList();
    const before = { count: list.count, bytes: list.bytes, scan: scanForward(list) };
    const region = new heap.Region(bytes.length + 1);
    heap.u8().set(bytes, region.ptr);
    let error: unknown;
    try {
      list.insertBatchAt(region.ptr, bytes.length);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CorruptionError);
    expect(list.count).toBe(before.count);
    expect(list.bytes).toBe(before.bytes);
    expectSameRecs(scanForward(list), before.scan);
    region.release();
    list.destroy();
    return error as CorruptionError;
  }

  const header = (seq: number, count: number) => {
    const h = new Uint8Array(12);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, seq % 2 ** 32, true);
    dv.setUint32(4, Math.floor(seq / 2 ** 32), true);
    dv.setUint32(8, count, true);
    return [...h];
  };

  it('rejects every truncation of a valid batch', () => {
    const b = sampleBatch();
    const bytes = b.bytes().slice();
    b.release();
    for (let len = 0; len < bytes.length; len++) rejects(bytes.subarray(0, len));
  });

  it('rejects trailing bytes, and a count that disagrees with the records', () => {
    const b = sampleBatch();
    const bytes = [...b.bytes()];
    b.release();
    expect(rejects([...bytes, 0]).message).toMatch(/after the last record/);
    const more = bytes.slice();
    more[8] = 4;
    expect(rejects(more).message).toMatch(/truncated/);
    const fewer = bytes.slice();
    fewer[8] = 2;
    expect(rejects(fewer).message).toMatch(/after the last record/);
  });

  it('rejects unknown kinds, malformed varints and sequence overflow', () => {
    expect(rejects([...header(1, 1), 4, 1, 0x61, 1, 0x62]).message).toMatch(/kind/);
    expect(rejects([...header(1, 2), 0, 1, 0x61, 0xff, 0]).message).toMatch(/kind/);
    // 0x80 0x00 is 0 written in two bytes; five bytes may carry only 32 bits.
    expect(rejects([...header(1, 1), 0, 0x80, 0x00]).message).toMatch(/varint/);
    expect(rejects([...header(1, 1), 0, 0x80, 0x80, 0x80, 0x80, 0x10]).message).toMatch(/varint/);
    expect(rejects([...header(1, 1), 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).message).toMatch(/varint/);
    // A key length near 4 GiB cannot fit.
    expect(rejects([...header(1, 1), 0, 0xff, 0xff, 0xff, 0xff, 0x0f]).message).toMatch(/too large|truncated/);
    expect(rejects([...header(2 ** 53 - 1, 2), 0, 0, 0, 0]).message).toMatch(/sequence/);
    expect(rejects([...header(2 ** 53, 0)]).message).toMatch(/sequence/);
    // The last valid sequence is accepted.
    const list = new SkipList(1024);
    const region = new heap.Region(16);
    heap.u8().set([...header(2 ** 53 - 1, 1), 0, 0], region.ptr);
    expect(list.insertBatchAt(region.ptr, 14)).toBe(1);
    expect(list.get(EMPTY)).toEqual({ kind: Kind.Deletion, seq: 2 ** 53 - 1, value: EMPTY });
    region.release();
    list.destroy();
  });

  it('a corrupted batch is rejected whole or inserted whole, never in part', () => {
    const b = sampleBatch();
    const good = b.bytes().slice();
    b.release();
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bytes = good.slice();
        bytes[at]! ^= flip;
        const list = seededList();
        const region = new heap.Region(bytes.length);
        heap.u8().set(bytes, region.ptr);
        const count = new DataView(bytes.buffer).getUint32(8, true);
        try {
          expect(list.insertBatchAt(region.ptr, bytes.length)).toBe(count);
          expect(list.count).toBe(1 + count);
        } catch (e) {
          if (!(e instanceof CorruptionError)) throw e;
          expect(list.count).toBe(1);
        }
        region.release();
        list.destroy();
      }),
      { numRuns: 500 },
    );
  });

  it('an empty batch inserts nothing and succeeds', () => {
    const list = new SkipList(1024);
    const b = new WriteBatch();
    b.setSequence(9);
    expect(list.insertBatch(b)).toBe(0);
    expect(list.count).toBe(0);
    b.release();
    list.destroy();
  });
});

describe('single inserts and lookups', () => {
  it('rejects bad kinds and sequences', () => {
    const list = new SkipList(1024);
    expect(() => list.put(EMPTY, 1, 4)).toThrow(InvalidArgumentError);
    expect(() => list.put(EMPTY, -1, 1)).toThrow(InvalidArgumentError);
    expect(() => list.put(EMPTY, 2 ** 53, 1)).toThrow(InvalidArgumentError);
    expect(() => list.put(EMPTY, NaN, 1)).toThrow(InvalidArgumentError);
    expect(() => list.get(EMPTY, -1)).toThrow(InvalidArgumentError);
    expect(() => list.cursor().seekInternal(new Uint8Array(7))).toThrow(InvalidArgumentError);
    // The kernel checks too, for callers that skip the wrapper.
    const insert = raw.skiplistInsert as (...a: number[]) => number;
    expect(insert(list.handle, 0, 0, 1, 4, 0, 0)).toBe(-2);
    expect(insert(list.handle, 0, 0, 2 ** 53, 1, 0, 0)).toBe(-5);
    expect(insert(list.handle, 0, 0, 0.5, 1, 0, 0)).toBe(-5);
    expect((raw.skiplistSeek as (...a: number[]) => number)(list.handle, 0, 7)).toBe(-7);
    expect(list.count).toBe(0);
    list.destroy();
  });

  it('keeps a duplicate internal key, the later insertion first', () => {
    const list = new SkipList(1024);
    const k = new Uint8Array([5]);
    list.put(k, 7, Kind.Value, new Uint8Array([1]));
    list.put(k, 7, Kind.Value, new Uint8Array([2]));
    expect(list.count).toBe(2);
    expect(list.get(k)?.value).toEqual(new Uint8Array([2]));
    expect(scanForward(list).map((r) => r.value[0])).toEqual([2, 1]);
    // Two more while the first two are linked: both pending, linked by one settle.
    list.put(k, 7, Kind.Value, new Uint8Array([3]));
    list.put(k, 7, Kind.Value, new Uint8Array([4]));
    expect(list.get(k)?.value).toEqual(new Uint8Array([4]));
    expect(scanForward(list).map((r) => r.value[0])).toEqual([4, 3, 2, 1]);
    checkStructure(list);
    list.destroy();
  });

  it('holds empty keys, empty values and 1 MiB values', () => {
    const list = new SkipList();
    const big = randomBytes(1 << 20, 77);
    const big2 = randomBytes((1 << 20) + 3, 78);
    list.put(EMPTY, 1, Kind.Value, big);
    list.put(new Uint8Array([0]), 2, Kind.Value, EMPTY);
    const b = new WriteBatch();
    b.setSequence(3).put(EMPTY, big2).put(new Uint8Array([1]), big);
    expect(list.insertBatch(b)).toBe(2);
    b.release();
    expect(list.bytes).toBeGreaterThan(3 * (1 << 20));
    // Large values are compared with compareBytes: vitest's deep equality is slow on 1 MiB arrays.
    const same = (e: { kind: number; seq: number; value: Uint8Array } | undefined, seq: number, value: Uint8Array) =>
      e !== undefined && e.kind === Kind.Value && e.seq === seq && compareBytes(e.value, value) === 0;
    expect(same(list.get(EMPTY), 3, big2)).toBe(true);
    expect(same(list.get(EMPTY, 2), 1, big)).toBe(true);
    expect(list.get(EMPTY, 0)).toBeUndefined();
    expect(list.get(new Uint8Array([0]))).toEqual({ kind: Kind.Value, seq: 2, value: EMPTY });
    expect(same(list.get(new Uint8Array([1])), 4, big)).toBe(true);
    expect(scanForward(list).map((r) => [r.key.length, r.seq, r.value.length])).toEqual([
      [0, 3, (1 << 20) + 3],
      [0, 1, 1 << 20],
      [1, 2, 0],
      [1, 4, 1 << 20],
    ]);
    list.destroy();
  });

  it('node readers agree with the kernel exports and the documented layout', () => {
    const list = new SkipList(1024);
    const rng = new Rng(99);
    for (let i = 0; i < 500; i++) list.put(rng.bytes(rng.int(10)), i + 1, rng.int(4), rng.bytes(rng.int(10)));
    const next = raw.skiplistNext as (n: number) => number;
    const prev = raw.skiplistPrev as (n: number) => number;
    const c = list.cursor();
    let count = 0;
    let before = 0;
    const dv = heap.view();
    for (let ok = c.first(); ok; ok = c.next()) {
      const n = c.node;
      expect(skiplistNode.next(n)).toBe(next(n));
      expect(skiplistNode.prev(n)).toBe(prev(n));
      expect(prev(n)).toBe(before);
      const height = dv.getUint32(n + 12, true);
      expect(height).toBeGreaterThanOrEqual(1);
      expect(height).toBeLessThanOrEqual(12);
      // Every forward pointer at a level leads to a later node of at least that height.
      for (let level = 0; level < height; level++) {
        const to = dv.getUint32(n - 4 * (level + 1), true);
        if (to !== 0) expect(dv.getUint32(to + 12, true)).toBeGreaterThan(level);
      }
      const keyLength = dv.getUint32(n + 4, true);
      expect(keyLength).toBe(c.keyLength + 8);
      expect(c.keyPtr).toBe(n + 20);
      expect(c.valuePtr).toBe(dv.getUint32(n + 16, true));
      expect(dv.getUint32(n + 8, true)).toBe(c.valueLength);
      expect(dv.getUint8(n + 20 + keyLength - 8)).toBe(c.kind);
      before = n;
      count++;
    }
    expect(count).toBe(500);
    expect((raw.skiplistLast as (l: number) => number)(list.handle)).toBe(before);
    list.destroy();
  });

  it('cursors refuse to run after reset or destroy', () => {
    const list = new SkipList(1024);
    list.put(new Uint8Array([1]), 1, Kind.Value);
    const c = list.cursor();
    expect(c.first()).toBe(true);
    list.reset();
    expect(() => c.key()).toThrow(InvalidArgumentError);
    expect(() => c.next()).toThrow(InvalidArgumentError);
    expect(list.cursor().first()).toBe(false);
    list.destroy();
    expect(() => list.count).toThrow(InvalidArgumentError);
    expect(() => list.cursor().first()).toThrow(InvalidArgumentError);
  });
});

describe('memory accounting', () => {
  it('list bytes grow with inserts and reset brings them back down', () => {
    const list = new SkipList(4096);
    expect(list.bytes).toBe(LIST_BASE_BYTES);
    let last = list.bytes;
    let grew = 0;
    for (let i = 0; i < 2000; i++) {
      list.put(randomBytes(16, i + 1), i + 1, Kind.Value, randomBytes(100, i + 7));
      expect(list.bytes).toBeGreaterThanOrEqual(last);
      if (list.bytes > last) grew++;
      last = list.bytes;
    }
    // About 140 bytes a node: 2000 nodes fill ~70 chunks of 4 KiB.
    expect(grew).toBeGreaterThan(50);
    expect(list.bytes).toBeGreaterThan(2000 * (16 + 8 + 100 + 16 + 4));
    expect(list.bytes).toBeLessThan(2000 * 200);
    list.reset();
    expect(list.bytes).toBe(LIST_BASE_BYTES);
    expect(list.count).toBe(0);
    // Usable again after a reset.
    list.put(new Uint8Array([1]), 1, Kind.Value, new Uint8Array([2]));
    expect(list.get(new Uint8Array([1]))?.value).toEqual(new Uint8Array([2]));
    list.destroy();
  });

  it('arena: aligned, non-overlapping allocations; large ones get their own chunk; reset frees all', () => {
    const chunk = 1024;
    const arena = new Arena(chunk);
    const base = arena.bytes;
    expect(base).toBe(20);
    const rng = new Rng(5);
    const spans: Array<[number, number, number]> = [];
    for (let i = 0; i < 3000; i++) {
      const size = rng.int(8) === 0 ? chunk / 4 + 1 + rng.int(3000) : rng.int(chunk / 4 + 1);
      const align = [1, 2, 4, 8, 16][rng.int(5)]!;
      const before = arena.bytes;
      const ptr = arena.alloc(size, align);
      expect(ptr % align).toBe(0);
      const grown = arena.bytes - before;
      // Either it fit in the current chunk, or a chunk of exactly the documented size was taken.
      if (size > chunk / 4) expect([0, size + 16]).toContain(grown);
      else expect([0, chunk + 16]).toContain(grown);
      heap.u8().fill(i & 0xff, ptr, ptr + size);
      spans.push([ptr, size, i & 0xff]);
    }
    const bytes = heap.u8();
    for (const [ptr, size, fill] of spans) {
      for (let j = 0; j < size; j += 61) if (bytes[ptr + j] !== fill) expect(bytes[ptr + j]).toBe(fill);
    }
    expect(arena.bytes).toBeGreaterThan(base + 3000 * 100);
    arena.reset();
    expect(arena.bytes).toBe(base);
    expect(arena.alloc(10, 16) % 16).toBe(0);
    expect(() => arena.alloc(1, 3)).toThrow(InvalidArgumentError);
    expect(() => new Arena(10)).toThrow(InvalidArgumentError);
    arena.destroy();
  });
});
