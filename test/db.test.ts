import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ClosedError,
  ExistsError,
  InvalidArgumentError,
  LockedError,
  NotFoundError,
  open,
  type Database,
} from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('db');
const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : dec.decode(b));
const small = { memtableSize: 64 * 1024 };

async function entries(db: Database, options = {}): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of db.iterator(options)) out.push([dec.decode(k), dec.decode(v)]);
  return out;
}

describe('database API', () => {
  it('puts, gets, deletes and batches strings and bytes', async () => {
    const db = await open(newDir());
    await db.put('a', '1');
    await db.put(enc.encode('b'), Uint8Array.of(0, 255));
    await db.put('', 'empty key');
    expect(text(await db.get('a'))).toBe('1');
    expect([...(await db.get('b'))!]).toEqual([0, 255]);
    expect(text(db.getSync(''))).toBe('empty key');
    expect(await db.has('a')).toBe(true);
    await db.del('a');
    expect(await db.get('a')).toBeUndefined();
    expect(await db.has('a')).toBe(false);
    await db.batch([
      { type: 'put', key: 'x', value: 'X' },
      { type: 'put', key: 'y', value: 'Y' },
      { type: 'del', key: 'b' },
    ]);
    expect((await db.getMany(['x', 'y', 'b', 'zz'])).map(text)).toEqual(['X', 'Y', undefined, undefined]);
    await db.close();
  });

  it('rejects bad arguments and options with typed errors', async () => {
    await expect(open(newDir(), { memtableSize: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(open(newDir(), { nope: 1 } as never)).rejects.toThrow(/unknown option/);
    const db = await open(newDir());
    await expect(db.put(42 as never, 'v')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.put('k', null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.put('k', 'v', { sync: 'yes' } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.batch([{ type: 'merge', key: 'k' } as never])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(db.put(new Uint8Array(1024 * 1024 + 1), 'v')).rejects.toThrow(/exceeds the limit/);
    expect(() => db.iterator({ limit: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => db.getSync(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => db.getEntriesSync('k' as never)).toThrow(InvalidArgumentError);
    expect(() => db.getEntriesSync(['k', 7 as never])).toThrow(InvalidArgumentError);
    await expect(db.getMany(['k', null as never])).rejects.toBeInstanceOf(InvalidArgumentError);
    await db.close();
    await expect(db.put('k', 'v')).rejects.toBeInstanceOf(ClosedError);
    expect(() => db.getSync('k')).toThrow(ClosedError);
    expect(() => db.getEntriesSync(['k'])).toThrow(ClosedError);
    await expect(db.getMany(['k'])).rejects.toBeInstanceOf(ClosedError);
    expect(() => db.iterator()).toThrow(ClosedError);
    await db.close(); // idempotent
  });

  it('getEntriesSync copies a found value out before another key of the batch reads its block into a full cache', async () => {
    // A cache of about one block: reading the second key's block evicts the block the first key's value lies in.
    const dir = newDir();
    const value = (i: number) => `${i}:`.padEnd(100, String.fromCharCode(97 + (i % 26)));
    let db = await open(dir, { blockCacheSize: 6000, prepopulateBlockCache: false });
    await db.batch(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value: value(i) })));
    await db.close();
    db = await open(dir, { blockCacheSize: 6000, prepopulateBlockCache: false });
    try {
      expect(db.stats().levels[0]!.files).toBeGreaterThan(0);
      expect(text(db.getSync('k0000'))).toBe(value(0));
      const entries = db.getEntriesSync(['k0000', 'k0399', 'k0200']);
      expect(entries.map((e) => text(e?.value))).toEqual([value(0), value(399), value(200)]);
    } finally {
      await db.close();
    }
  });

  it('honours createIfMissing and errorIfExists, and locks the directory', async () => {
    const dir = newDir();
    await expect(open(dir, { createIfMissing: false })).rejects.toBeInstanceOf(NotFoundError);
    const db = await open(dir);
    await expect(open(dir)).rejects.toBeInstanceOf(LockedError);
    await db.close();
    await expect(open(dir, { errorIfExists: true })).rejects.toBeInstanceOf(ExistsError);
    const again = await open(dir, { createIfMissing: false });
    await again.close();
  });
});

describe('durability across reopen', () => {
  it('keeps every write through flushes and many reopen cycles', async () => {
    const dir = newDir();
    const model = new Map<string, string>();
    for (let cycle = 0; cycle < 5; cycle++) {
      const db = await open(dir, small);
      for (const [k, v] of model) expect(text(await db.get(k)), k).toBe(v);
      for (let i = 0; i < 2000; i++) {
        const key = `k${(i * 7919 + cycle) % 3000}`;
        if (i % 10 === 0) {
          await db.del(key);
          model.delete(key);
        } else {
          const value = `${cycle}-${i}-`.repeat(4);
          await db.put(key, value);
          model.set(key, value);
        }
      }
      await db.close();
    }
    const db = await open(dir, small);
    const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(await entries(db)).toEqual(sorted);
    await db.close();
  });

  it('stores values larger than a WAL block and keys of every byte', async () => {
    const dir = newDir();
    const big = new Uint8Array(300 * 1024).map((_, i) => (i * 31) & 0xff);
    const binaryKey = Uint8Array.of(0, 0xff, 0, 1);
    let db = await open(dir, small);
    await db.put('big', big);
    await db.put(binaryKey, 'binary');
    await db.put(Uint8Array.of(0, 0xff), 'prefix');
    await db.close();
    db = await open(dir, small);
    expect(await db.get('big')).toEqual(big);
    expect(text(await db.get(binaryKey))).toBe('binary');
    const keys = (await db.iterator().all()).map(([k]) => [...k]);
    expect(keys).toEqual([[0, 0xff], [0, 0xff, 0, 1], [...enc.encode('big')]]);
    await db.close();
  });
});

describe('iterators', () => {
  it('respects bounds, reverse and limit', async () => {
    const db = await open(newDir(), small);
    for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
    const keys = async (o: object) => (await entries(db, o)).map(([k]) => k);
    expect(await keys({ gte: 'k010', lt: 'k013' })).toEqual(['k010', 'k011', 'k012']);
    expect(await keys({ gt: 'k010', lte: 'k013' })).toEqual(['k011', 'k012', 'k013']);
    expect(await keys({ reverse: true, limit: 2 })).toEqual(['k099', 'k098']);
    expect(await keys({ reverse: true, gt: 'k095' })).toEqual(['k099', 'k098', 'k097', 'k096']);
    expect(await keys({ limit: 0 })).toEqual([]);
    // nextv and seek on the user-facing iterator.
    const it = db.iterator({ gte: 'k020' });
    expect((await it.nextv(2)).map(([k]) => dec.decode(k))).toEqual(['k020', 'k021']);
    it.seek('k050');
    expect((await it.nextv(1)).map(([k]) => dec.decode(k))).toEqual(['k050']);
    it.seek('k000'); // below the lower bound: clamped to it
    expect(dec.decode((await it.next()).value![0])).toBe('k020');
    await it.close();
    await expect(it.nextv(1)).rejects.toBeInstanceOf(ClosedError);
    await db.close();
  });

  it('sees the database as it was when created while writes and flushes continue', async () => {
    const db = await open(newDir(), small);
    for (let i = 0; i < 3000; i++) await db.put(`k${String(i).padStart(5, '0')}`, `old${i}`);
    const it = db.iterator();
    const seen: string[] = [];
    let i = 0;
    for await (const [k, v] of it) {
      seen.push(`${dec.decode(k)}=${dec.decode(v)}`);
      // Overwrite, delete and add while iterating; enough bytes to force flushes.
      await db.put(`k${String(i).padStart(5, '0')}`, 'new'.repeat(100));
      await db.del(`k${String(2999 - i).padStart(5, '0')}`);
      await db.put(`zz${i}`, 'added');
      i++;
    }
    expect(seen.length).toBe(3000);
    expect(seen.every((s, j) => s === `k${String(j).padStart(5, '0')}=old${j}`)).toBe(true);
    await db.close();
  });

  it('releases what it holds when broken out of, and close waits for nothing', async () => {
    const db = await open(newDir(), small);
    for (let i = 0; i < 500; i++) await db.put(`k${i}`, 'v');
    for await (const _ of db.iterator()) break;
    const open1 = db.iterator();
    await open1.next();
    await db.close(); // closes the open iterator too
    await expect(open1.next()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('concurrency', () => {
  it('lets timers run while a writer awaits unsynced puts in a tight loop', async () => {
    const db = await open(newDir());
    const started = performance.now();
    let firedAfter: number | undefined;
    setTimeout(() => (firedAfter = performance.now() - started), 0);
    // Unsynced puts complete on microtasks; without a yield the timer would wait for the whole loop.
    for (let i = 0; firedAfter === undefined && performance.now() - started < 3000; i++) await db.put(`k${i}`, 'v');
    expect(firedAfter).toBeDefined();
    expect(firedAfter!).toBeLessThan(200);
    await db.close();
  });
  it('groups many concurrent awaited writers, synced or not, and loses none', async () => {
    const dir = newDir();
    let db = await open(dir, small);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) writes.push(db.put(`c${i}`, `v${i}`, { sync: i % 50 === 0 }));
    writes.push(db.batch([{ type: 'del', key: 'c0' }]));
    await Promise.all(writes);
    expect(await db.get('c0')).toBeUndefined();
    expect(text(await db.get('c1999'))).toBe('v1999');
    await db.close();
    db = await open(dir, small);
    expect((await db.iterator().all()).length).toBe(1999);
    await db.close();
  });
});

describe('batchNow', () => {
  it('commits on the call stack when nothing waits, declines while a commit is in flight or the memtable is full, and keeps order', async () => {
    const dir = newDir();
    let db = await open(dir, small);
    expect(db.batchNow([{ type: 'put', key: 'now', value: '1' }])).toBe(true);
    expect(text(db.getSync('now'))).toBe('1');
    // A synced write is in flight until its fdatasync: a write now would pass it, so batchNow declines and writes nothing.
    const synced = db.put('now', '2', { sync: true });
    expect(db.batchNow([{ type: 'put', key: 'now', value: '3' }])).toBe(false);
    await synced;
    expect(text(db.getSync('now'))).toBe('2');
    expect(db.batchNow([{ type: 'put', key: 'now', value: '3' }, { type: 'del', key: 'gone' }])).toBe(true);
    // Fill the memtable with writes now until it declines (a rotation must wait for a new WAL), then batch() goes on.
    let declined = -1;
    for (let i = 0; i < 10_000 && declined < 0; i++) if (!db.batchNow([{ type: 'put', key: `f${i}`, value: 'x'.repeat(100) }])) declined = i;
    expect(declined).toBeGreaterThan(0);
    await db.batch([{ type: 'put', key: `f${declined}`, value: 'x'.repeat(100) }]);
    expect(db.batchNow([{ type: 'put', key: 'after', value: 'a' }])).toBe(true);
    expect(() => db.batchNow([{ type: 'merge', key: 'k' } as never])).toThrow(InvalidArgumentError);
    await db.close();
    expect(() => db.batchNow([{ type: 'put', key: 'k', value: 'v' }])).toThrow(ClosedError);
    db = await open(dir, small);
    expect(text(await db.get('now'))).toBe('3');
    expect(text(await db.get('after'))).toBe('a');
    expect((await db.iterator({ gte: 'f', lt: 'g' }).all()).length).toBe(declined + 1);
    await db.close();
  });
});

describe('model', () => {
  type Op =
    | { t: 'put'; k: string; v: string }
    | { t: 'del'; k: string }
    | { t: 'batch'; ops: Array<{ k: string; v: string | null }> }
    | { t: 'get'; k: string }
    | { t: 'scan'; lo: string; reverse: boolean; limit: number }
    | { t: 'reopen' };
  const key = fc.stringMatching(/^[a-e]{0,3}$/);
  const value = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 500, maxLength: 3000 }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: value }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(fc.record({ k: key, v: fc.option(value) }), { maxLength: 6 }) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('get' as const), k: key }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('scan' as const), lo: key, reverse: fc.boolean(), limit: fc.integer({ min: -1, max: 5 }) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  );

  it('matches a Map through random puts, deletes, batches, gets, scans and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80 }), async (ops) => {
        const dir = newDir();
        const options = { memtableSize: 64 * 1024, blockSize: 256 };
        let db = await open(dir, options);
        const model = new Map<string, string>();
        try {
          for (const o of ops) {
            if (o.t === 'put') {
              await db.put(o.k, o.v);
              model.set(o.k, o.v);
            } else if (o.t === 'del') {
              await db.del(o.k);
              model.delete(o.k);
            } else if (o.t === 'batch') {
              await db.batch(o.ops.map((b) => (b.v === null ? { type: 'del' as const, key: b.k } : { type: 'put' as const, key: b.k, value: b.v })));
              for (const b of o.ops) (b.v === null ? model.delete(b.k) : model.set(b.k, b.v));
            } else if (o.t === 'get') {
              expect(text(await db.get(o.k))).toBe(model.get(o.k));
            } else if (o.t === 'scan') {
              let expected = [...model].filter(([k]) => k >= o.lo).sort(([a], [b]) => (a < b ? -1 : 1));
              if (o.reverse) expected.reverse();
              if (o.limit >= 0) expected = expected.slice(0, o.limit);
              expect(await entries(db, { gte: o.lo, reverse: o.reverse, limit: o.limit })).toEqual(expected);
            } else {
              await db.close();
              db = await open(dir, options);
            }
          }
        } finally {
          await db.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 180_000);
});
