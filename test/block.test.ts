import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptionError, InvalidArgumentError, MAX_SEQUENCE, compareInternalKeys, makeInternalKey, makeSeekKey } from '../src/index.js';
import { BlockBuilder, BlockCursor, DecodedBlock, Region, checkRestarts, heap } from '../src/wasm/index.js';
import { randomBytes } from './support/random.js';

type Entry = { key: Uint8Array; value: Uint8Array };

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Byte equality without vitest's slow deep compare; shows hex on failure. */
function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (!sameBytes(actual, expected)) expect(hex(actual), what).toBe(hex(expected));
}

/** A plain assertion for hot loops, where vitest's expect is too slow. */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

// ---------------------------------------------------------------------------
// The model: entries sorted by the JS internal-key comparator, and a
// straightforward encoder of the documented format.

function lowerBound(entries: Entry[], target: Uint8Array): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareInternalKeys(entries[mid]!.key, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A growable byte array for the reference encoder. */
class Bytes {
  buf = new Uint8Array(256);
  length = 0;
  #room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.#room(1);
    this.buf[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.byte(v);
  }
  u32(v: number): void {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
    this.byte((v >>> 16) & 0xff);
    this.byte(v >>> 24);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** The documented format, written the obvious way. */
function encodeReference(entries: Entry[], interval: number): Uint8Array {
  const out = new Bytes();
  const restarts = [0];
  let prev: Uint8Array = new Uint8Array(0);
  entries.forEach(({ key, value }, i) => {
    let shared = 0;
    if (i > 0 && i % interval === 0) restarts.push(out.length);
    else while (shared < Math.min(prev.length, key.length) && prev[shared] === key[shared]) shared++;
    out.varint(shared);
    out.varint(key.length - shared);
    out.varint(value.length);
    out.bytes(key.subarray(shared));
    out.bytes(value);
    prev = key;
  });
  for (const r of restarts) out.u32(r);
  out.u32(restarts.length);
  return out.done();
}

/** Restart offsets followed by their count, after `body`. */
function withRestarts(body: Uint8Array, restarts: number[]): Uint8Array {
  const out = new Bytes();
  out.bytes(body);
  for (const r of restarts) out.u32(r);
  out.u32(restarts.length);
  return out.done();
}

// ---------------------------------------------------------------------------
// Generators

const PREFIXES = [[], [0x00], [0xff, 0xff], [...new TextEncoder().encode('user/profile/')], Array.from({ length: 40 }, (_, i) => i)];

const userKeyArb = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 3, max: 2 }),
  fc.tuple(fc.constantFrom(...PREFIXES), fc.uint8Array({ maxLength: 6 })).map(([p, s]) => new Uint8Array([...p, ...s])),
);
const seqArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 255, 256, 2 ** 24, 2 ** 32, MAX_SEQUENCE), fc.maxSafeNat());
const kindArb = fc.integer({ min: 0, max: 3 });
const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 128, max: 5000 }), fc.nat()).map(([n, s]) => randomBytes(n, s + 1)) },
);
const intervalArb = fc.constantFrom(1, 2, 3, 16, 128);

/** Sorted, distinct internal keys: scattered user keys plus one user key with many sequences. */
const entriesArb = fc
  .tuple(
    fc.array(fc.tuple(userKeyArb, seqArb, kindArb), { maxLength: 120 }),
    userKeyArb,
    fc.array(fc.tuple(seqArb, kindArb), { maxLength: 50 }),
    fc.array(valueArb, { minLength: 32, maxLength: 32 }),
  )
  .map(([scattered, hotKey, hotVersions, values]) => {
    const keys = [...scattered.map(([u, s, k]) => makeInternalKey(u, s, k)), ...hotVersions.map(([s, k]) => makeInternalKey(hotKey, s, k))];
    keys.sort(compareInternalKeys);
    const distinct = keys.filter((k, i) => i === 0 || compareInternalKeys(keys[i - 1]!, k) !== 0);
    return distinct.map((key, i) => ({ key, value: values[i % values.length]! }));
  });

/** Targets: existing keys, seek keys of present user keys at snapshots, arbitrary keys, and the extremes. */
function targetsArb(entries: Entry[]): fc.Arbitrary<Uint8Array[]> {
  const existing = entries.length > 0 ? [fc.constantFrom(...entries.map((e) => e.key))] : [];
  const snapshot =
    entries.length > 0
      ? [fc.tuple(fc.constantFrom(...entries.map((e) => e.key.subarray(0, e.key.length - 8))), seqArb).map(([u, s]) => makeSeekKey(u, s))]
      : [];
  const arbitrary = fc.tuple(userKeyArb, seqArb, fc.integer({ min: 0, max: 255 })).map(([u, s, k]) => makeInternalKey(u, s, k));
  const extremes = fc.constantFrom(makeSeekKey(new Uint8Array(0), MAX_SEQUENCE), makeInternalKey(new Uint8Array(64).fill(0xff), 0, 0));
  return fc.array(fc.oneof(...existing, ...snapshot, arbitrary, extremes), { minLength: 1, maxLength: 40 });
}

// ---------------------------------------------------------------------------
// Shared WASM objects (one of each, reused, freed at the end)

const builder = new BlockBuilder();
const cursor = new BlockCursor();
/** Attached to blocks that passed checkRestarts, as table readers attach to cached blocks. */
const attached = new BlockCursor();
const buffers: Region[] = [];
afterAll(() => {
  builder.destroy();
  cursor.destroy();
  attached.destroy();
  for (const r of buffers) r.release();
});

function build(entries: Entry[], interval: number): BlockBuilder {
  const b = new BlockBuilder(interval);
  for (const { key, value } of entries) b.add(key, value);
  return b;
}

/** Copies bytes into a fresh region that lives until the end of the file. */
function place(bytes: Uint8Array): number {
  const region = new Region(bytes.length);
  buffers.push(region);
  return region.load(bytes);
}

function expectAt(c: BlockCursor, entries: Entry[], i: number): void {
  if (i < 0 || i >= entries.length) {
    check(!c.valid, `cursor past the ends (model index ${i})`);
    return;
  }
  check(c.valid, `cursor positioned at entry ${i}`);
  expectBytes(c.key(), entries[i]!.key, `key ${i}`);
  expectBytes(c.value(), entries[i]!.value, `value ${i}`);
}

// ---------------------------------------------------------------------------

describe('block builder', () => {
  it('encodes exactly the documented format and predicts its size', () => {
    fc.assert(
      fc.property(entriesArb, intervalArb, (entries, interval) => {
        const b = build(entries, interval);
        const estimate = b.estimatedSize;
        const bytes = b.finishCopy();
        expectBytes(bytes, encodeReference(entries, interval), 'block bytes');
        expect(estimate).toBe(bytes.length);
        expect(b.entryCount).toBe(entries.length);
        expectBytes(b.finishCopy(), bytes, 'second finish');
        b.reset();
        for (const { key, value } of entries) b.add(key, value);
        expectBytes(b.finishCopy(), bytes, 'after reset');
        b.destroy();
      }),
      { numRuns: 150 },
    );
  });

  it('encodes an empty block as restart 0 and count 1', () => {
    builder.reset();
    expect(builder.estimatedSize).toBe(8);
    expect([...builder.finishCopy()]).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
  });

  it('rejects keys that do not increase, leaving the builder unchanged', () => {
    const k = (user: string, seq: number) => makeInternalKey(new TextEncoder().encode(user), seq, 1);
    const v = new Uint8Array([7]);
    builder.reset();
    builder.add(k('b', 5), v);
    expect(() => builder.add(k('b', 5), v)).toThrow(InvalidArgumentError); // duplicate
    expect(() => builder.add(k('a', 9), v)).toThrow(InvalidArgumentError); // smaller user key
    expect(() => builder.add(k('b', 6), v)).toThrow(InvalidArgumentError); // newer version after older
    expect(() => builder.add(new Uint8Array(7), v)).toThrow(InvalidArgumentError); // no trailer
    expect(builder.entryCount).toBe(1);
    builder.add(k('b', 4), v);
    builder.add(k('c', 9), v);
    const entries = [k('b', 5), k('b', 4), k('c', 9)].map((key) => ({ key, value: v }));
    expect(builder.finishCopy()).toEqual(encodeReference(entries, 16));
    expect(() => builder.add(k('d', 1), v)).toThrow(InvalidArgumentError); // finished
  });

  it('rejects restart intervals that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31]) expect(() => new BlockBuilder(bad)).toThrow(InvalidArgumentError);
  });

  it('adds a descriptor table in one call, stopping at the first bad row', () => {
    fc.assert(
      fc.property(entriesArb, intervalArb, fc.nat(), (entries, interval, cut) => {
        fc.pre(entries.length > 0);
        const bytes = entries.reduce((n, e) => n + e.key.length + e.value.length, 0);
        const data = new Region(bytes);
        const table = new Region(entries.length * 16);
        // Swap one row with its predecessor to make it out of order (when there is one).
        const bad = entries.length > 1 ? 1 + (cut % (entries.length - 1)) : -1;
        const order = entries.map((_, i) => (i === bad ? i - 1 : i === bad - 1 ? i + 1 : i));
        let at = data.ptr;
        const rows = new Uint32Array(entries.length * 4);
        const mem = heap.u8();
        entries.forEach(({ key, value }, i) => {
          mem.set(key, at);
          mem.set(value, at + key.length);
          rows.set([at, key.length, at + key.length, value.length], order.indexOf(i) * 4);
          at += key.length + value.length;
        });
        heap.u8().set(new Uint8Array(rows.buffer), table.ptr);

        const b = new BlockBuilder(interval);
        if (bad < 0) {
          b.addBatch(table.ptr, entries.length);
          expectBytes(b.finishCopy(), encodeReference(entries, interval), 'batch block');
        } else {
          expect(() => b.addBatch(table.ptr, entries.length)).toThrow(InvalidArgumentError);
          expect(b.entryCount).toBe(bad);
          expectBytes(b.finishCopy(), encodeReference(entries.slice(0, bad - 1).concat(entries[bad]!), interval), 'partial batch block');
        }
        b.destroy();
        data.release();
        table.release();
      }),
      { numRuns: 100 },
    );
  });
});

describe('block cursor and decoded block', () => {
  it('read back every entry forward and backward, and decode the same', () => {
    fc.assert(
      fc.property(entriesArb, intervalArb, (entries, interval) => {
        const b = build(entries, interval);
        const { ptr, len } = b.finish();
        cursor.init(ptr, len);
        expect(cursor.valid).toBe(false);
        let i = 0;
        for (let ok = cursor.first(); ok; ok = cursor.next()) expectAt(cursor, entries, i++);
        expect(i).toBe(entries.length);
        expect(cursor.next()).toBe(false);
        i = entries.length - 1;
        for (let ok = cursor.last(); ok; ok = cursor.prev()) expectAt(cursor, entries, i--);
        expect(i).toBe(-1);

        const decoded = DecodedBlock.decode(ptr, len);
        expect(decoded.count).toBe(entries.length);
        entries.forEach((e, j) => {
          expectBytes(decoded.key(j), e.key, `decoded key ${j}`);
          expectBytes(decoded.value(j), e.value, `decoded value ${j}`);
          check(decoded.valuePtr(j) >= ptr && decoded.valuePtr(j) + decoded.valueLen(j) <= ptr + len, 'decoded value inside the block');
        });
        decoded.release();
        b.destroy();
      }),
      { numRuns: 150 },
    );
  });

  it('seek lands where the model says, then steps correctly', () => {
    const arb = fc
      .tuple(entriesArb, intervalArb)
      .chain(([entries, interval]) => fc.tuple(fc.constant(entries), fc.constant(interval), targetsArb(entries)));
    fc.assert(
      fc.property(arb, ([entries, interval, targets]) => {
        const b = build(entries, interval);
        const { ptr, len } = b.finish();
        cursor.init(ptr, len);
        checkRestarts(ptr, len);
        attached.attach(ptr, len);
        const decoded = DecodedBlock.decode(ptr, len);
        for (const target of targets) {
          const want = lowerBound(entries, target);
          check(cursor.seek(target) === want < entries.length, 'seek result');
          expectAt(cursor, entries, want);
          check(attached.seek(target) === want < entries.length, 'attached seek result');
          expectAt(attached, entries, want);
          check(decoded.seek(target) === want, `decoded seek ${want}`);
          if (want < entries.length) {
            cursor.prev();
            expectAt(cursor, entries, want - 1);
            cursor.seek(target);
            cursor.next();
            expectAt(cursor, entries, want + 1);
          }
        }
        // The batch seek over the decoded block agrees too.
        const region = new Region(targets.reduce((n, t) => n + t.length, 0) + targets.length * 12);
        const rows = new Uint32Array(targets.length * 2);
        let at = region.ptr + targets.length * 12;
        targets.forEach((t, j) => {
          heap.write(at, t);
          rows[2 * j] = at;
          rows[2 * j + 1] = t.length;
          at += t.length;
        });
        heap.write(region.ptr, new Uint8Array(rows.buffer));
        const out = region.ptr + targets.length * 8;
        decoded.seekBatch(region.ptr, targets.length, out);
        const got = targets.map((_, j) => heap.view().getUint32(out + 4 * j, true));
        expect(got).toEqual(targets.map((t) => lowerBound(entries, t)));
        region.release();
        decoded.release();
        b.destroy();
      }),
      { numRuns: 150 },
    );
  });

  it('decoded seek agrees with the model where every key shares a prefix (the search prefixes start after it)', () => {
    // Keys: one random common prefix, then suffixes of 0..12 bytes from a small alphabet (zero included, so a key
    // and its zero-padded extension tie on their prefix), some user keys in several versions. Targets: the keys,
    // seek keys, proper prefixes of the common prefix, keys that leave it below or above, and random suffixes.
    const suffixArb = fc.uint8Array({ maxLength: 12, max: 3 });
    const arb = fc
      .tuple(fc.uint8Array({ maxLength: 20 }), fc.array(fc.tuple(suffixArb, fc.array(seqArb, { minLength: 1, maxLength: 3 }), kindArb), { maxLength: 60 }), intervalArb)
      .chain(([prefix, specs, interval]) => {
        const keys = specs.flatMap(([suffix, seqs, kind]) => seqs.map((seq) => makeInternalKey(new Uint8Array([...prefix, ...suffix]), seq, kind)));
        keys.sort(compareInternalKeys);
        const entries = keys.filter((k, i) => i === 0 || compareInternalKeys(keys[i - 1]!, k) !== 0).map((key) => ({ key, value: new Uint8Array(1) }));
        const within = fc.tuple(suffixArb, seqArb).map(([suffix, seq]) => makeSeekKey(new Uint8Array([...prefix, ...suffix]), seq));
        const short = fc.tuple(fc.nat(), seqArb).map(([n, seq]) => makeSeekKey(prefix.subarray(0, prefix.length === 0 ? 0 : n % prefix.length), seq));
        const leaving = fc.tuple(fc.nat(), fc.boolean(), suffixArb).map(([n, up, suffix]) => {
          const user = new Uint8Array([...prefix, ...suffix]);
          if (prefix.length > 0) {
            const at = n % prefix.length;
            user[at] = up ? Math.min(255, user[at]! + 1) : Math.max(0, user[at]! - 1);
          }
          return makeSeekKey(user, 0);
        });
        const existing = entries.length > 0 ? [fc.constantFrom(...entries.map((e) => e.key))] : [];
        return fc.tuple(fc.constant(entries), fc.constant(interval), fc.array(fc.oneof(...existing, within, short, leaving), { minLength: 1, maxLength: 40 }));
      });
    fc.assert(
      fc.property(arb, ([entries, interval, targets]) => {
        const b = build(entries, interval);
        const { ptr, len } = b.finish();
        const decoded = DecodedBlock.decode(ptr, len);
        for (const target of targets) expect(decoded.seek(target)).toBe(lowerBound(entries, target));
        decoded.release();
        b.destroy();
      }),
      { numRuns: 300 },
    );
  });

  it('follows a random walk of seeks and steps like the model', () => {
    const op = fc.oneof(
      fc.constantFrom('first', 'last', 'next', 'prev', 'next', 'prev'),
      fc.tuple(userKeyArb, seqArb).map(([u, s]) => makeSeekKey(u, s)),
    );
    fc.assert(
      fc.property(entriesArb, intervalArb, fc.array(op, { maxLength: 60 }), (entries, interval, ops) => {
        const b = build(entries, interval);
        const { ptr, len } = b.finish();
        cursor.init(ptr, len);
        let at = -1; // model position; -1 or entries.length mean not positioned
        for (const o of ops) {
          const positioned = at >= 0 && at < entries.length;
          if (o === 'first') at = 0;
          else if (o === 'last') at = entries.length - 1;
          else if (o === 'next') at = positioned ? at + 1 : at;
          else if (o === 'prev') at = positioned ? at - 1 : at;
          else at = lowerBound(entries, o);
          const ok =
            o === 'first' ? cursor.first() : o === 'last' ? cursor.last() : o === 'next' ? cursor.next() : o === 'prev' ? cursor.prev() : cursor.seek(o);
          check(ok === (at >= 0 && at < entries.length), `walk result at ${at}`);
          expectAt(cursor, entries, at);
        }
        b.destroy();
      }),
      { numRuns: 150 },
    );
  });

  it('handles the empty block', () => {
    const ptr = place(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]));
    cursor.init(ptr, 8);
    const target = makeSeekKey(new Uint8Array(0), MAX_SEQUENCE);
    expect(cursor.first()).toBe(false);
    expect(cursor.last()).toBe(false);
    expect(cursor.seek(target)).toBe(false);
    expect(cursor.next()).toBe(false);
    expect(cursor.prev()).toBe(false);
    expect(() => cursor.key()).toThrow(InvalidArgumentError);
    const decoded = DecodedBlock.decode(ptr, 8);
    expect(decoded.count).toBe(0);
    expect(decoded.seek(target)).toBe(0);
    decoded.release();
  });

  it('exposes the current entry zero-copy, the value inside the block', () => {
    const entries = [1, 2, 3].map((n) => ({ key: makeInternalKey(new Uint8Array([n]), n, 1), value: new Uint8Array(n).fill(n) }));
    const b = build(entries, 2);
    const { ptr, len } = b.finish();
    cursor.init(ptr, len);
    cursor.seek(entries[1]!.key);
    expect(cursor.valuePtr).toBeGreaterThanOrEqual(ptr);
    expect(cursor.valuePtr + cursor.valueLen).toBeLessThanOrEqual(ptr + len);
    expect(heap.u8().slice(cursor.keyPtr, cursor.keyPtr + cursor.keyLen)).toEqual(entries[1]!.key);
    expect(heap.u8().slice(cursor.valuePtr, cursor.valuePtr + cursor.valueLen)).toEqual(entries[1]!.value);
    b.destroy();
  });

  it('rejects seek targets without a trailer', () => {
    const ptr = place(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]));
    cursor.init(ptr, 8);
    expect(() => cursor.seek(new Uint8Array(7))).toThrow(InvalidArgumentError);
    const decoded = DecodedBlock.decode(ptr, 8);
    expect(() => decoded.seek(new Uint8Array(3))).toThrow(InvalidArgumentError);
    decoded.release();
  });
});

describe('hand-made blocks', () => {
  const key1 = makeInternalKey(new Uint8Array([0x61]), 1, 1);
  const key2 = makeInternalKey(new Uint8Array([0x62]), 1, 1);
  /** Entries for key1 -> [0x11] and key2 -> [0x22], each 13 bytes, both restart points. */
  function body(opts: { shared2?: number; valueLength1?: number[] } = {}): Uint8Array {
    const out = new Bytes();
    out.bytes(new Uint8Array([0, 9, ...(opts.valueLength1 ?? [1])]));
    out.bytes(key1);
    out.byte(0x11);
    out.bytes(new Uint8Array([opts.shared2 ?? 0, 9, 1]));
    out.bytes(key2);
    out.byte(0x22);
    return out.done();
  }
  const expectCorrupt = (bytes: Uint8Array, run: (c: BlockCursor) => unknown): void => {
    const ptr = place(bytes);
    expect(() => {
      cursor.init(ptr, bytes.length);
      run(cursor);
    }).toThrow(CorruptionError);
    expect(() => DecodedBlock.decode(ptr, bytes.length)).toThrow(CorruptionError);
  };

  it('reads the well-formed original', () => {
    const bytes = withRestarts(body(), [0, 13]);
    expect(bytes).toEqual(encodeReference([{ key: key1, value: new Uint8Array([0x11]) }, { key: key2, value: new Uint8Array([0x22]) }], 1));
    const ptr = place(bytes);
    cursor.init(ptr, bytes.length);
    expect(cursor.seek(key2)).toBe(true);
    expect(cursor.value()).toEqual(new Uint8Array([0x22]));
  });

  it('rejects malformed restart arrays', () => {
    const b = body();
    const cases = [
      new Uint8Array([0, 0, 0, 0]), // shorter than a count and one restart
      withRestarts(b, []), // count 0
      withRestarts(b, [0, 13, 13]), // not increasing
      withRestarts(b, [0, 26]), // past the entries
      withRestarts(b, [13]), // first restart not at 0
      withRestarts(new Uint8Array(0), [0, 0]), // empty block with two restarts
    ];
    const huge = withRestarts(b, [0]);
    huge[huge.length - 4] = 0xe8; // count 1000: more restarts than bytes
    huge[huge.length - 3] = 0x03;
    cases.push(huge);
    for (const bytes of cases) {
      expectCorrupt(bytes, () => undefined);
      expect(() => checkRestarts(place(bytes), bytes.length)).toThrow(CorruptionError);
    }
    const good = withRestarts(b, [0, 13]);
    expect(() => checkRestarts(place(good), good.length)).not.toThrow();
  });

  it('rejects a restart entry that shares a prefix, and stays failed until init', () => {
    const bytes = withRestarts(body({ shared2: 1 }), [0, 13]);
    expectCorrupt(bytes, (c) => c.seek(key2));
    expect(cursor.valid).toBe(false);
    expect(() => cursor.first()).toThrow(CorruptionError);
    expect(() => cursor.next()).toThrow(CorruptionError);
    const good = withRestarts(body(), [0, 13]);
    cursor.init(place(good), good.length);
    expect(cursor.first()).toBe(true);
  });

  it('accepts a padded varint and rejects one that overflows 32 bits', () => {
    const padded = withRestarts(body({ valueLength1: [0x81, 0x80, 0x80, 0x80, 0x00] }), [0, 17]);
    const ptr = place(padded);
    cursor.init(ptr, padded.length);
    expect(cursor.first()).toBe(true);
    expect(cursor.value()).toEqual(new Uint8Array([0x11]));
    expect(cursor.next()).toBe(true);
    expect(cursor.key()).toEqual(key2);
    expectCorrupt(withRestarts(body({ valueLength1: [0x81, 0x80, 0x80, 0x80, 0x10] }), [0, 17]), (c) => c.first());
  });

  it('rejects keys shorter than the trailer', () => {
    expectCorrupt(withRestarts(new Uint8Array([0, 3, 0, 1, 2, 3]), [0]), (c) => c.first());
  });

  it('lets decodeAll reject keys out of order, which the cursor does not check', () => {
    const out = new Bytes();
    for (const key of [key2, key1]) {
      out.bytes(new Uint8Array([0, 9, 0]));
      out.bytes(key);
    }
    const bytes = withRestarts(out.done(), [0]);
    const ptr = place(bytes);
    expect(() => DecodedBlock.decode(ptr, bytes.length)).toThrow(CorruptionError);
    cursor.init(ptr, bytes.length);
    expect(cursor.first() && cursor.next()).toBe(true);
  });

  it('grows its buffers for long keys and large values', () => {
    const entries = [3, 70, 700, 3000].map((n, i) => ({
      key: makeInternalKey(randomBytes(n, i + 1), 5, 1),
      value: randomBytes(70_000 + i, i + 9),
    }));
    entries.sort((a, b) => compareInternalKeys(a.key, b.key));
    const b = build(entries, 2);
    const { ptr, len } = b.finish();
    expectBytes(heap.u8().slice(ptr, ptr + len), encodeReference(entries, 2), 'large block');
    const fresh = new BlockCursor();
    fresh.init(ptr, len);
    let i = entries.length;
    for (let ok = fresh.last(); ok; ok = fresh.prev()) expectAt(fresh, entries, --i);
    expect(i).toBe(0);
    fresh.destroy();
    b.destroy();
  });
});

// ---------------------------------------------------------------------------
// Corruption: whatever the bytes, the readers return errors or well-formed
// results, never trap, and never read outside the block. The last is checked
// by running every trace twice with different bytes around the block: any
// read outside it would show up as a difference.

const PAD = 64;
const arena = new Region(1 << 16);
buffers.push(arena);

const probeTargets = [
  makeSeekKey(new Uint8Array(0), MAX_SEQUENCE),
  makeSeekKey(new TextEncoder().encode('key0050'), 10),
  makeInternalKey(new TextEncoder().encode('key0100'), 0, 0),
  makeInternalKey(new Uint8Array(64).fill(0xff), 0, 0),
];

/** Runs every reader over the block at ptr and records what it saw. */
function trace(ptr: number, len: number): string[] {
  const out: string[] = [];
  const attempt = (label: string, fn: () => string): boolean => {
    try {
      out.push(`${label}:${fn()}`);
      return true;
    } catch (e) {
      if (!(e instanceof CorruptionError)) throw e;
      out.push(`${label}:corrupt:${e.message}`);
      return false;
    }
  };
  const entry = (): string => {
    if (!cursor.valid) return 'end';
    check(cursor.valuePtr >= ptr && cursor.valuePtr + cursor.valueLen <= ptr + len, 'value inside the block');
    check(cursor.keyLen <= len, 'key no longer than the block');
    return `${hex(cursor.key())}=${hex(cursor.value())}`;
  };
  const walk = (label: string, start: () => boolean, step: () => boolean): void => {
    if (!attempt(label, () => (start(), entry()))) return;
    // Each entry takes >= 3 bytes, so a longer walk would be a loop.
    for (let n = 0; cursor.valid; n++) {
      check(n < len / 3 + 1, 'walk ends');
      if (!attempt(label, () => (step(), entry()))) return;
    }
  };

  if (!attempt('init', () => (cursor.init(ptr, len), 'ok'))) return out;
  walk('forward', () => cursor.first(), () => cursor.next());
  cursor.init(ptr, len);
  walk('backward', () => cursor.last(), () => cursor.prev());
  for (const t of probeTargets) {
    cursor.init(ptr, len);
    attempt('seek', () => (cursor.seek(t), entry()));
  }
  let decoded: DecodedBlock | undefined;
  attempt('decode', () => {
    decoded = DecodedBlock.decode(ptr, len);
    return String(decoded.count);
  });
  if (decoded) {
    const d = decoded;
    const entries: Entry[] = [];
    for (let i = 0; i < d.count; i++) {
      check(d.valuePtr(i) >= ptr && d.valuePtr(i) + d.valueLen(i) <= ptr + len, 'decoded value inside the block');
      entries.push({ key: d.key(i), value: d.value(i) });
    }
    out.push(`decoded:${entries.map((e) => `${hex(e.key)}=${hex(e.value)}`).join(',')}`);
    for (const t of probeTargets) out.push(`dseek:${d.seek(t)}`);
    d.release();
    // decodeAll checks more than the cursor, so on a block it accepts the
    // cursor must read the same entries in both directions and seek alike.
    cursor.init(ptr, len);
    let i = 0;
    for (let ok = cursor.first(); ok; ok = cursor.next()) expectAt(cursor, entries, i++);
    check(i === entries.length, 'cursor reads as many entries as decodeAll');
    for (let ok = cursor.last(); ok; ok = cursor.prev()) expectAt(cursor, entries, --i);
    check(i === 0, 'cursor reads back as many entries as decodeAll');
    for (const t of probeTargets) {
      cursor.seek(t);
      expectAt(cursor, entries, lowerBound(entries, t));
    }
  }
  return out;
}

/** Traces the block with two different surroundings; they must agree. */
function probe(bytes: Uint8Array): string[] {
  const region = arena.ensure(bytes.length + 2 * PAD);
  const ptr = region + PAD;
  const traces: string[][] = [];
  for (const fill of [0x00, 0xa5]) {
    const mem = heap.u8();
    mem.fill(fill, region, region + bytes.length + 2 * PAD);
    mem.set(bytes, ptr);
    traces.push(trace(ptr, bytes.length));
  }
  if (traces[1]!.join('\n') !== traces[0]!.join('\n')) expect(traces[1]).toEqual(traces[0]);
  return traces[0]!;
}

function sampleEntries(count: number, valueSize: number, seed: number): Entry[] {
  const enc = new TextEncoder();
  return Array.from({ length: count }, (_, i) => ({
    key: makeInternalKey(enc.encode(`key${String(i * 3).padStart(4, '0')}`), 1000 - i, 1),
    value: randomBytes(valueSize + (i % 5), seed + i),
  }));
}

const BASE_BLOCKS = [
  encodeReference(sampleEntries(40, 6, 1), 16),
  encodeReference(sampleEntries(20, 3, 2), 1),
  encodeReference(sampleEntries(30, 0, 3), 3),
  encodeReference(sampleEntries(4, 200, 4), 2),
  encodeReference([], 16),
];

describe('block readers on corrupt bytes', () => {
  it('accept the uncorrupted base blocks', () => {
    for (const block of BASE_BLOCKS) {
      const t = probe(block);
      expect(t.some((line) => line.includes('corrupt'))).toBe(false);
    }
  });

  it('survive random bit flips', () => {
    fc.assert(
      fc.property(fc.nat(BASE_BLOCKS.length - 1), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (which, flips) => {
        const block = BASE_BLOCKS[which]!.slice();
        for (const f of flips) block[(f >>> 3) % block.length]! ^= 1 << (f & 7);
        probe(block);
      }),
      { numRuns: 3000 },
    );
  });

  it('survive every truncation', () => {
    for (const block of BASE_BLOCKS.slice(1)) {
      for (let n = 0; n < block.length; n++) probe(block.subarray(0, n));
    }
  });

  it('survive random bytes, bare or behind a plausible restart array', () => {
    const restarts = fc.array(fc.nat(80), { minLength: 1, maxLength: 4 }).map((r) => [0, ...r.sort((a, b) => a - b)]);
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.tuple(fc.uint8Array({ maxLength: 120 }), restarts).map(([body, rs]) => withRestarts(body, rs)),
      // Bytes below 25 read as small varints, so entries decode further.
      fc.tuple(fc.uint8Array({ maxLength: 120, max: 24 }), restarts).map(([body, rs]) => withRestarts(body, rs)),
    );
    fc.assert(
      fc.property(arb, (bytes) => {
        probe(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});
