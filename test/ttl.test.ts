// Values with expiry (TTL): the batch encoding of kind 2, the API and its
// validation, reads against a Map model under a fake clock through flushes,
// compactions, snapshots and reopen, and what compaction keeps and drops.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, InvalidArgumentError, WriteBatch, open, type Database, type Snapshot } from '../src/index.js';
import { Kind } from '../src/keys.js';
import { Memtable } from '../src/memtable/memtable.js';
import { DbIterator } from '../src/iterator/db-iterator.js';
import { compact, type CompactionRequest } from '../src/compaction/compactor.js';
import { TableBuilder } from '../src/table/builder.js';
import { readVarint } from '../src/varint.js';
import { NOW, compareRecs, hex, ikeyOf, insertRecs, withExpiry, type Rec } from './support/internal-model.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('ttl');
const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : dec.decode(b));

/** A clock the test moves by hand. */
class FakeClock {
  t = NOW;
  now(): number {
    return this.t;
  }
}

function tableBytes(dir: string): number {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.vt'))
    .reduce((n, t) => n + statSync(join(dir, t)).size, 0);
}

async function entries(db: Database, options = {}): Promise<Array<[string, string]>> {
  return (await db.iterator(options).all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
}

// ---------------------------------------------------------------------------

describe('write batch encoding of values with expiry', () => {
  it('round-trips: kind 2, value length 8 + n, the expiry as two LE u32 halves, then the value; the memtable returns it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 300 }), fc.maxSafeNat(), fc.integer({ min: 0, max: 2 ** 53 - 3 }), (key, value, expiresAt, seq) => {
        const batch = new WriteBatch(16);
        try {
          batch.setSequence(seq).put(Uint8Array.of(9), Uint8Array.of(7)).putWithExpiry(key, value, expiresAt);
          const bytes = batch.bytes().slice();
          const dv = new DataView(bytes.buffer);
          expect(dv.getUint32(8, true)).toBe(2);
          // Skip the plain put (kind 1, key [9], value [7]).
          let pos = 12;
          expect([...bytes.subarray(pos, pos + 5)]).toEqual([1, 1, 9, 1, 7]);
          pos += 5;
          expect(bytes[pos++]).toBe(Kind.ValueWithExpiry);
          const keyLen = readVarint(bytes, pos, bytes.length)!;
          pos = keyLen.next;
          expect(hex(bytes.subarray(pos, pos + keyLen.value))).toBe(hex(key));
          pos += keyLen.value;
          const valueLen = readVarint(bytes, pos, bytes.length)!;
          pos = valueLen.next;
          expect(valueLen.value).toBe(8 + value.length);
          expect(dv.getUint32(pos, true) + dv.getUint32(pos + 4, true) * 2 ** 32).toBe(expiresAt);
          expect(hex(bytes.subarray(pos + 8))).toBe(hex(value));
          expect(pos + 8 + value.length).toBe(bytes.length);

          const mem = new Memtable(1, 4096);
          try {
            mem.insertBatchAt(batch.ptr, batch.len);
            const got = mem.get(key, seq + 1);
            expect(got?.kind).toBe(Kind.ValueWithExpiry);
            expect(got?.seq).toBe(seq + 1);
            expect(hex(got!.value)).toBe(hex(withExpiry(expiresAt, value)));
          } finally {
            mem.unref();
          }
        } finally {
          batch.release();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an expiry that is not an integer in 0..2^53-1', () => {
    const batch = new WriteBatch();
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) expect(() => batch.putWithExpiry(Uint8Array.of(1), Uint8Array.of(2), bad)).toThrow(InvalidArgumentError);
    expect(batch.count).toBe(0);
    batch.release();
  });
});

describe('reading a stored value with expiry', () => {
  it('a kind-2 value shorter than 8 bytes is corruption, in iterators', () => {
    const mem = new Memtable(1, 4096);
    const recs: Rec[] = [{ key: Uint8Array.of(1), seq: 1, kind: Kind.ValueWithExpiry, value: Uint8Array.of(1, 2, 3, 4, 5, 6, 7) }];
    insertRecs(mem, recs);
    for (const reverse of [false, true]) {
      const it = new DbIterator(mem.iterator(), { snapshot: 5, now: NOW, reverse });
      expect(() => it.next()).toThrow(CorruptionError);
      it.close();
    }
    mem.unref();
  });
});

// ---------------------------------------------------------------------------

describe('TTL API', () => {
  it('a value lapses at its expiry for every read, hides older versions, and getEntry reports the expiry', async () => {
    const clock = new FakeClock();
    const db = await open(newDir(), { clock });
    await db.put('k', 'old');
    await db.put('k', 'new', { ttl: 1000 });
    await db.put('other', 'x', { expiresAt: NOW + 5000 });
    expect(await db.getEntry('k')).toEqual({ value: enc.encode('new'), expiresAt: NOW + 1000 });
    expect(db.getEntrySync('other')).toEqual({ value: enc.encode('x'), expiresAt: NOW + 5000 });
    expect(await db.getEntry('missing')).toBeUndefined();
    const snap = db.snapshot();
    clock.t = NOW + 999;
    expect(text(await db.get('k'))).toBe('new');
    expect(await entries(db)).toEqual([['k', 'new'], ['other', 'x']]);
    clock.t = NOW + 1000; // expired: expiry <= now
    for (const options of [{}, { snapshot: snap }]) {
      expect(await db.get('k', options)).toBeUndefined();
      expect(db.getSync('k', options)).toBeUndefined();
      expect(await db.getEntry('k', options)).toBeUndefined();
      expect(await db.has('k', options)).toBe(false);
      expect((await db.getMany(['k', 'other'], options)).map(text)).toEqual([undefined, 'x']);
      expect(await entries(db, options)).toEqual([['other', 'x']]);
      expect(await entries(db, { ...options, reverse: true })).toEqual([['other', 'x']]);
    }
    // Persist: rewriting without an expiry.
    await db.put('k', 'kept');
    expect(await db.getEntry('k')).toEqual({ value: enc.encode('kept'), expiresAt: undefined });
    // An expiry in the past writes a value that is already gone.
    await db.batch([{ type: 'put', key: 'past', value: 'p', expiresAt: NOW - 1 }, { type: 'put', key: 'b', value: 'B', ttl: 10 }]);
    expect(await db.get('past')).toBeUndefined();
    expect(await db.getEntry('b')).toEqual({ value: enc.encode('B'), expiresAt: NOW + 1010 });
    snap.release();
    await db.close();
  });

  it('an iterator judges expiry by the clock when it was created', async () => {
    const clock = new FakeClock();
    const db = await open(newDir(), { clock });
    await db.put('a', '1', { ttl: 10 });
    await db.put('b', '2', { ttl: 10 });
    const it = db.iterator();
    clock.t += 10;
    expect((await it.all()).map(([k]) => dec.decode(k))).toEqual(['a', 'b']);
    expect(await entries(db)).toEqual([]);
    await db.close();
  });

  it('refuses bad ttl, expiresAt and clock arguments', async () => {
    const clock = new FakeClock();
    const db = await open(newDir(), { clock });
    await expect(db.put('k', 'v', { ttl: 10, expiresAt: NOW + 10 })).rejects.toThrow(InvalidArgumentError);
    for (const ttl of [0, -1, 1.5, Number.NaN, '10']) await expect(db.put('k', 'v', { ttl: ttl as number })).rejects.toThrow(InvalidArgumentError);
    for (const expiresAt of [-1, 1.5, 2 ** 53, '1']) await expect(db.put('k', 'v', { expiresAt: expiresAt as number })).rejects.toThrow(InvalidArgumentError);
    await expect(db.batch([{ type: 'put', key: 'k', value: 'v', ttl: 1, expiresAt: NOW }])).rejects.toThrow(InvalidArgumentError);
    await expect(db.batch([{ type: 'put', key: 'k', value: 'v', ttl: 0 }])).rejects.toThrow(InvalidArgumentError);
    expect(await db.get('k')).toBeUndefined();
    await db.put('t', 'v', { ttl: 1000 });
    clock.t = Number.NaN;
    // A point read consults the clock only for a value with an expiry.
    expect(db.getSync('k')).toBeUndefined();
    expect(() => db.getSync('t')).toThrow(InvalidArgumentError);
    expect(() => db.iterator()).toThrow(InvalidArgumentError);
    await expect(db.put('k', 'v', { ttl: 5 })).rejects.toThrow(InvalidArgumentError);
    clock.t = NOW;
    await db.close();
    await expect(open(newDir(), { clock: {} as never })).rejects.toThrow(InvalidArgumentError);
    await expect(open(newDir(), { clock: Date.now as never })).rejects.toThrow(InvalidArgumentError);
  });

  it('the default clock is the system clock', async () => {
    const db = await open(newDir());
    const before = Date.now();
    await db.put('k', 'v', { ttl: 60_000 });
    const entry = await db.getEntry('k');
    expect(entry!.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(entry!.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    await db.put('gone', 'v', { expiresAt: before - 1 });
    expect(await db.get('gone')).toBeUndefined();
    await db.close();
  });
});

// ---------------------------------------------------------------------------

/** The model: each key's newest write, with its expiry; reads judge expiry by the clock. */
type ModelState = Map<string, { value: string; expiresAt: number | undefined }>;

function modelGet(state: ModelState, key: string, now: number): { value: string; expiresAt: number | undefined } | undefined {
  const e = state.get(key);
  return e === undefined || (e.expiresAt !== undefined && e.expiresAt <= now) ? undefined : e;
}

function modelEntries(state: ModelState, now: number, lo: string, hi: string, reverse: boolean): Array<[string, string]> {
  const rows = [...state.keys()]
    .filter((k) => k >= lo && k < hi && modelGet(state, k, now) !== undefined)
    .sort()
    .map((k): [string, string] => [k, state.get(k)!.value]);
  return reverse ? rows.reverse() : rows;
}

type Cmd =
  | { op: 'put'; key: number; size: number; ttl?: number; at?: number }
  | { op: 'del'; key: number }
  | { op: 'advance'; ms: number }
  | { op: 'snapshot' }
  | { op: 'release' }
  | { op: 'compact' }
  | { op: 'reopen' }
  | { op: 'check'; lo: number; hi: number; reverse: boolean };

const KEYS = 12;
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.nat(KEYS - 1), size: fc.integer({ min: 0, max: 4000 }) }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.nat(KEYS - 1), size: fc.integer({ min: 0, max: 4000 }), ttl: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.nat(KEYS - 1), size: fc.integer({ min: 0, max: 4000 }), at: fc.integer({ min: -1000, max: 3000 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('del' as const), key: fc.nat(KEYS - 1) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
  { weight: 2, arbitrary: fc.constant<Cmd>({ op: 'snapshot' }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'release' }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'compact' }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'reopen' }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('check' as const), lo: fc.nat(KEYS), hi: fc.nat(KEYS), reverse: fc.boolean() }) },
);

const keyName = (i: number) => `key${String(i).padStart(3, '0')}`;

describe('TTL against a Map model with a fake clock', () => {
  it('get, getSync, has, getMany, getEntry and iterators in both directions agree with the model, at snapshots, through flushes, compactions and reopen', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { minLength: 20, maxLength: 90 }), async (cmds) => {
        const dir = newDir();
        const clock = new FakeClock();
        // 64 KiB memtables and values of up to 4 KB: a flush every few dozen puts.
        const options = { clock, memtableSize: 64 * 1024 };
        let db = await open(dir, options);
        const state: ModelState = new Map();
        const snaps: Array<{ snap: Snapshot; state: ModelState }> = [];
        let n = 0;

        const verify = async (view: ModelState, snap: Snapshot | undefined, lo: string, hi: string, reverse: boolean) => {
          const ro = snap === undefined ? {} : { snapshot: snap };
          const now = clock.t;
          const keys = Array.from({ length: KEYS }, (_, i) => keyName(i));
          for (const k of keys) {
            const want = modelGet(view, k, now);
            expect(text(db.getSync(k, ro)), `${k} at ${now}`).toBe(want?.value);
            const entry = await db.getEntry(k, ro);
            expect(entry === undefined ? undefined : { value: dec.decode(entry.value), expiresAt: entry.expiresAt }).toEqual(want);
            expect(await db.has(k, ro)).toBe(want !== undefined);
          }
          expect((await db.getMany(keys, ro)).map(text)).toEqual(keys.map((k) => modelGet(view, k, now)?.value));
          expect(await entries(db, { ...ro, gte: lo, lt: hi, reverse })).toEqual(modelEntries(view, now, lo, hi, reverse));
        };

        try {
          for (const cmd of cmds) {
            switch (cmd.op) {
              case 'put': {
                const k = keyName(cmd.key);
                const value = `v${n++}:`.padEnd(cmd.size, '.');
                if (cmd.ttl !== undefined) {
                  await db.put(k, value, { ttl: cmd.ttl });
                  state.set(k, { value, expiresAt: clock.t + cmd.ttl });
                } else if (cmd.at !== undefined) {
                  await db.batch([{ type: 'put', key: k, value, expiresAt: clock.t + cmd.at }]);
                  state.set(k, { value, expiresAt: clock.t + cmd.at });
                } else {
                  await db.put(k, value);
                  state.set(k, { value, expiresAt: undefined });
                }
                break;
              }
              case 'del':
                await db.del(keyName(cmd.key));
                state.delete(keyName(cmd.key));
                break;
              case 'advance':
                clock.t += cmd.ms;
                break;
              case 'snapshot':
                snaps.push({ snap: db.snapshot(), state: new Map(state) });
                break;
              case 'release':
                snaps.shift()?.snap.release();
                break;
              case 'compact':
                await db.compactRange();
                break;
              case 'reopen':
                await db.close();
                snaps.length = 0; // snapshots do not outlive their database
                db = await open(dir, options);
                break;
              case 'check': {
                const [lo, hi] = [keyName(Math.min(cmd.lo, cmd.hi)), keyName(Math.max(cmd.lo, cmd.hi))];
                await verify(state, undefined, lo, hi, cmd.reverse);
                for (const s of snaps) await verify(s.state, s.snap, lo, hi, cmd.reverse);
                break;
              }
            }
          }
          await verify(state, undefined, '', '~', false);
          await verify(state, undefined, '', '~', true);
          for (const s of snaps) await verify(s.state, s.snap, '', '~', false);
          await db.compactRange();
          for (const s of snaps) await verify(s.state, s.snap, '', '~', true);
          await db.close();
          db = await open(dir, options);
          await verify(state, undefined, '', '~', false);
        } finally {
          await db.close();
        }
      }),
      // Each run opens real databases: report the first failure rather than shrink for minutes.
      { numRuns: 12, endOnFailure: true },
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------

describe('compaction of expired values', () => {
  it('drops expired values nothing needs, shrinking the tables, and keeps them (and what they hide) for an older snapshot', async () => {
    const dir = newDir();
    const clock = new FakeClock();
    const db = await open(dir, { clock, memtableSize: 64 * 1024, compression: 'none' });
    const value = (tag: string, i: number) => `${tag}-${i}`.padEnd(200, '.');
    const put = async (tag: string, ttl?: number) => {
      for (let b = 0; b < 2000; b += 250) {
        const ops = [];
        for (let i = b; i < b + 250; i++) ops.push({ type: 'put' as const, key: keyName(i), value: value(tag, i), ...(ttl === undefined ? {} : { ttl }) });
        await db.batch(ops);
      }
    };
    await put('old');
    const snap = db.snapshot();
    await put('new', 1000);
    clock.t += 1000;
    await db.compactRange();
    const held = tableBytes(dir);
    // Both versions of every key stay: the snapshot reads the old value under the expired one.
    expect(held).toBeGreaterThan(2 * 2000 * 200);
    expect(await db.get(keyName(7))).toBeUndefined();
    expect(text(await db.get(keyName(7), { snapshot: snap }))).toBe(value('old', 7));
    expect(await entries(db)).toEqual([]);
    expect((await db.iterator({ snapshot: snap }).all()).length).toBe(2000);

    snap.release();
    await db.compactRange();
    // Nothing needs the expired values or what they hid: (almost) nothing is left.
    expect(tableBytes(dir)).toBeLessThan(held * 0.05);
    expect(await db.get(keyName(7))).toBeUndefined();
    expect(await entries(db)).toEqual([]);
    await db.close();
  });

  it('an expired value never resurrects an older value held in a deeper level', async () => {
    const dir = newDir();
    const clock = new FakeClock();
    const options = { clock, memtableSize: 64 * 1024 };
    let db = await open(dir, options);
    const keys = 1500;
    const ops = (tag: string, ttl?: number) =>
      Array.from({ length: keys }, (_, i) => ({ type: 'put' as const, key: keyName(i), value: `${tag}-${i}`.padEnd(100, '.'), ...(ttl === undefined ? {} : { ttl }) }));
    await db.batch(ops('old'));
    await db.compactRange(); // the old values now sit in level 2 (level 0 -> 1, then 1 -> 2)
    await db.batch(ops('new', 100));
    clock.t += 100;
    await db.close();
    db = await open(dir, options);
    expect(await entries(db, { gte: 'key', lt: 'kez' })).toEqual([]);
    // Level 0 -> 1 first: the expired values must stay there, since level 2
    // holds the old values; then level 1 -> 2 drops both.
    await db.compactRange();
    for (let i = 0; i < keys; i += 97) expect(await db.get(keyName(i))).toBeUndefined();
    expect(await entries(db, { gte: 'key', lt: 'kez' })).toEqual([]);
    expect(tableBytes(dir)).toBe(0);
    await db.close();
  });
});

describe('compact() with expired values (the decide() rule)', () => {
  const ukey = (i: number) => enc.encode(`k${i}`);
  const table = (recs: Rec[]) => {
    const builder = new TableBuilder({ compression: 'none' });
    for (const r of [...recs].sort(compareRecs)) builder.addBytes(ikeyOf(r), r.value);
    return builder.finish().bytes;
  };
  // k0: an old value under an expired one; k1: a live value with expiry; k2: expired alone.
  const recs: Rec[] = [
    { key: ukey(0), seq: 1, kind: Kind.Value, value: enc.encode('old') },
    { key: ukey(0), seq: 2, kind: Kind.ValueWithExpiry, value: withExpiry(NOW, enc.encode('gone')) },
    { key: ukey(1), seq: 3, kind: Kind.ValueWithExpiry, value: withExpiry(NOW + 1, enc.encode('live')) },
    { key: ukey(2), seq: 4, kind: Kind.ValueWithExpiry, value: withExpiry(NOW - 5, enc.encode('gone too')) },
  ];
  const request = (extra: Partial<CompactionRequest>): CompactionRequest => ({
    inputs: [{ number: 1, bytes: table(recs) }],
    smallestSnapshot: 10,
    now: NOW,
    deeperLevels: [],
    grandparents: [],
    table: { compression: 'none' },
    ...extra,
  });
  const survivors = (extra: Partial<CompactionRequest>) => {
    const { outputs, stats } = compact(request(extra));
    return { entries: outputs.reduce((n, o) => n + o.properties.entries, 0), stats };
  };

  it('drops an expired value (and what it hides) when no snapshot and no deeper level needs it', () => {
    const { entries: n, stats } = survivors({});
    expect(n).toBe(1); // k1 alone
    expect(stats.droppedTombstones).toBe(2);
    expect(stats.droppedShadowed).toBe(1);
  });

  it('keeps an expired value while a deeper level may hold its key', () => {
    const deep = { smallest: ikeyOf({ key: ukey(0), seq: 0, kind: Kind.Value, value: new Uint8Array() }), largest: ikeyOf({ key: ukey(0), seq: 0, kind: Kind.Value, value: new Uint8Array() }) };
    const { entries: n, stats } = survivors({ deeperLevels: [[deep]] });
    expect(n).toBe(2); // k0's expired value shadows the deeper one; k1
    expect(stats.droppedTombstones).toBe(1);
  });

  it('keeps an expired value and the value under it for a snapshot older than the expired write', () => {
    const { entries: n, stats } = survivors({ smallestSnapshot: 1 });
    expect(n).toBe(4);
    expect(stats.droppedTombstones).toBe(0);
  });

  it('treats nothing as expired before its time, nor without a clock', () => {
    expect(survivors({ now: NOW - 6 }).entries).toBe(3); // k0's old value shadowed by the live one
    expect(survivors({ now: undefined }).entries).toBe(3);
  });

  it('a value with expiry too short to hold one is corruption', () => {
    const bad = table([{ key: ukey(0), seq: 1, kind: Kind.ValueWithExpiry, value: Uint8Array.of(1, 2, 3) }]);
    expect(() => compact(request({ inputs: [{ number: 1, bytes: bad }] }))).toThrow(CorruptionError);
  });
});
