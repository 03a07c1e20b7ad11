import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { open, type Database } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';
import { HookedFs, linkError } from './support/hooked-fs.js';

const newDir = tempDirs('checkpoint');
const dec = new TextDecoder();
const key = (i: number) => String(i).padStart(8, '0');
const small = { memtableSize: 64 * 1024 };

async function contents(db: Database): Promise<[string, string][]> {
  return (await db.iterator().all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
}

function tableNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.vt'));
}

function sorted(model: Map<string, string>): [string, string][] {
  return [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('db.checkpoint(dir)', () => {
  it('opens as a database equal to its source, key for key, with tables hard-linked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.option(fc.string({ minLength: 1, maxLength: 80 }), { nil: undefined })), {
          minLength: 1,
          maxLength: 3000,
        }),
        async (ops) => {
          const dir = newDir();
          const db = await open(dir, small);
          const model = new Map<string, string>();
          for (let i = 0; i < ops.length; i += 100) {
            const chunk = ops.slice(i, i + 100);
            await db.batch(chunk.map(([k, v]) => (v === undefined ? { type: 'del' as const, key: key(k) } : { type: 'put' as const, key: key(k), value: v.repeat(4) })));
            for (const [k, v] of chunk) {
              if (v === undefined) model.delete(key(k));
              else model.set(key(k), v.repeat(4));
            }
          }
          const target = `${dir}-cp`;
          await db.checkpoint(target);
          // The flush it made put everything in tables; the checkpoint shares their inodes.
          const shared = tableNames(target).filter((n) => tableNames(dir).includes(n));
          expect(shared.length).toBe(tableNames(target).length);
          for (const n of shared) expect(statSync(join(target, n)).ino).toBe(statSync(join(dir, n)).ino);
          expect(readdirSync(target).filter((n) => n.endsWith('.log'))).toEqual([]);
          const cp = await open(target, small);
          expect(await contents(cp)).toEqual(sorted(model));
          expect(await contents(db)).toEqual(sorted(model));
          await cp.close();
          await db.close();
        },
      ),
      { numRuns: 5 },
    );
  });

  it('diverges from its source: each sees only its own later writes, across reopen', async () => {
    const dir = newDir();
    const target = `${dir}-cp`;
    const db = await open(dir, small);
    for (let i = 0; i < 100; i++) await db.put(key(i), `v${i}`);
    await db.checkpoint(target);
    const cp = await open(target, small);
    await db.put(key(1000), 'source only');
    await db.del(key(0));
    await cp.put(key(2000), 'checkpoint only');
    await cp.del(key(1));
    expect(dec.decode((await db.get(key(1)))!)).toBe('v1');
    expect(await db.get(key(2000))).toBeUndefined();
    expect(dec.decode((await cp.get(key(0)))!)).toBe('v0');
    expect(await cp.get(key(1000))).toBeUndefined();
    await cp.compactRange();
    await db.close();
    await cp.close();
    const reopened = await open(target, small);
    expect((await contents(reopened)).length).toBe(100);
    expect(dec.decode((await reopened.get(key(2000)))!)).toBe('checkpoint only');
    expect(await reopened.get(key(1))).toBeUndefined();
    await reopened.close();
    const source = await open(dir, small);
    expect(await source.get(key(0))).toBeUndefined();
    expect(await source.get(key(2000))).toBeUndefined();
    expect(dec.decode((await source.get(key(1)))!)).toBe('v1');
    await source.close();
  });

  it('is a prefix of the writes, holding every one acknowledged before the call, while writes and compactions run', async () => {
    const dir = newDir();
    const db = await open(dir, small);
    const value = (i: number) => `value-${i}-`.padEnd(120, '#');
    let acknowledged = 0;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i += 20) {
        await db.batch(Array.from({ length: 20 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: value(i + j) })));
        acknowledged = i + 20;
      }
    })();
    const taken: { target: string; before: number }[] = [];
    for (let n = 0; n < 4; n++) {
      await new Promise((r) => setTimeout(r, 60));
      const target = `${dir}-cp${n}`;
      const before = acknowledged;
      await db.checkpoint(target);
      taken.push({ target, before });
    }
    stop = true;
    await writer;
    expect(db.stats().write.compactions + db.stats().write.trivialMoves).toBeGreaterThan(0);
    for (const { target, before } of taken) {
      const cp = await open(target, small);
      const got = await contents(cp);
      expect(got.length).toBeGreaterThanOrEqual(before);
      // Keys are written in order, so a prefix of the writes is exactly keys 0..n-1.
      got.forEach(([k, v], i) => {
        expect(k).toBe(key(i));
        expect(v).toBe(value(i));
      });
      await cp.close();
    }
    expect((await contents(db)).length).toBe(acknowledged);
    await db.close();
  });

  it('refuses a target that exists or whose parent does not, and leaves it alone', async () => {
    const dir = newDir();
    const db = await open(dir);
    await db.put('k', 'v');
    const existing = `${dir}-exists`;
    mkdirSync(existing);
    await expect(db.checkpoint(existing)).rejects.toMatchObject({ code: 'ERR_EXISTS' });
    expect(readdirSync(existing)).toEqual([]);
    await expect(db.checkpoint(dir)).rejects.toMatchObject({ code: 'ERR_EXISTS' });
    await expect(db.checkpoint(join(`${dir}-nowhere`, 'cp'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(db.checkpoint('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await db.close();
    await expect(db.checkpoint(`${dir}-after-close`)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('copies the tables when the filesystem cannot link them', async () => {
    const fs = new HookedFs();
    const dir = newDir();
    const db = await open(dir, { ...small, fs });
    for (let i = 0; i < 3000; i++) await db.put(key(i), `v${i}`.padEnd(50, '.'));
    let attempts = 0;
    fs.link = () => {
      attempts++;
      throw linkError('EXDEV');
    };
    const target = `${dir}-cp`;
    await db.checkpoint(target);
    expect(attempts).toBe(1); // after the first refusal, the rest are copied without asking
    const names = tableNames(target);
    expect(names.length).toBeGreaterThan(1);
    for (const n of names) {
      expect(statSync(join(target, n)).ino).not.toBe(statSync(join(dir, n)).ino);
      expect(readFileSync(join(target, n))).toEqual(readFileSync(join(dir, n)));
    }
    const cp = await open(target, small);
    expect(await contents(cp)).toEqual(await contents(db));
    await cp.close();
    await db.close();
  });

  it('leaves neither the target nor its temporary directory when linking fails otherwise', async () => {
    const fs = new HookedFs();
    const dir = newDir();
    const db = await open(dir, { ...small, fs });
    for (let i = 0; i < 500; i++) await db.put(key(i), `v${i}`);
    const link = fs.link;
    fs.link = () => {
      throw linkError('EIO');
    };
    const target = `${dir}-cp`;
    const siblings = readdirSync(dirname(dir));
    await expect(db.checkpoint(target)).rejects.toMatchObject({ code: 'ERR_IO', errno: 'EIO' });
    expect(readdirSync(dirname(dir))).toEqual(siblings);
    // The source is unharmed and a later checkpoint works.
    fs.link = link;
    await db.put('after', 'failure');
    await db.checkpoint(target);
    const cp = await open(target);
    expect(dec.decode((await cp.get('after'))!)).toBe('failure');
    expect((await contents(cp)).length).toBe(501);
    await cp.close();
    await db.close();
  });

  it('of an empty database opens empty', async () => {
    const dir = newDir();
    const db = await open(dir);
    await db.checkpoint(`${dir}-cp`);
    await db.close();
    const cp = await open(`${dir}-cp`, { createIfMissing: false });
    expect(await contents(cp)).toEqual([]);
    await cp.close();
  });
});
