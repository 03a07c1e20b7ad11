import { describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClosedError, InvalidArgumentError, open } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('snapshot');
const dec = new TextDecoder();
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : dec.decode(b));
const key = (i: number) => String(i).padStart(8, '0');
const options = { memtableSize: 64 * 1024 };

function tableBytes(dir: string): number {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.vt'))
    .reduce((n, t) => n + statSync(join(dir, t)).size, 0);
}

describe('snapshots', () => {
  it('keep their view through overwrites, deletes, flushes and compactions until released', async () => {
    const dir = newDir();
    const db = await open(dir, options);
    for (let i = 0; i < 3000; i++) await db.put(key(i), `v1-${i}`.padEnd(60, '.'));
    const snap = db.snapshot();
    const model = new Map<string, string>();
    for (let i = 0; i < 3000; i++) model.set(key(i), `v1-${i}`.padEnd(60, '.'));
    for (let i = 0; i < 3000; i++) {
      if (i % 3 === 0) await db.del(key(i));
      else await db.put(key(i), `v2-${i}`.padEnd(60, '.'));
    }
    await db.put(key(5000), 'added later');
    await db.compactRange(); // flush, then merge every level
    for (const i of [0, 1, 2, 2999]) {
      expect(text(await db.get(key(i), { snapshot: snap }))).toBe(model.get(key(i)));
      expect(text(db.getSync(key(i), { snapshot: snap }))).toBe(model.get(key(i)));
    }
    expect(await db.get(key(5000), { snapshot: snap })).toBeUndefined();
    expect(text(await db.get(key(1)))).toBe('v2-1'.padEnd(60, '.'));
    expect(await db.get(key(0))).toBeUndefined();
    const seen = (await db.iterator({ snapshot: snap }).all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
    expect(seen).toEqual([...model]);
    expect((await db.getMany([key(3), key(4)], { snapshot: snap })).map(text)).toEqual([model.get(key(3)), model.get(key(4))]);

    // Released: compaction may drop the old versions and the deletes.
    const held = tableBytes(dir);
    snap.release();
    snap.release(); // idempotent
    await db.compactRange();
    expect(tableBytes(dir)).toBeLessThan(held * 0.75);
    expect(() => db.getSync(key(1), { snapshot: snap })).toThrow(ClosedError);
    expect(() => db.iterator({ snapshot: snap })).toThrow(ClosedError);
    expect(() => db.getSync(key(1), { snapshot: { sequence: 1 } as never })).toThrow(InvalidArgumentError);
    await db.close();
  });

  it('several snapshots each see their own moment', async () => {
    const db = await open(newDir(), options);
    const snaps = [];
    for (let v = 0; v < 5; v++) {
      await db.put('k', `v${v}`);
      snaps.push(db.snapshot());
    }
    await db.compactRange();
    for (let v = 0; v < 5; v++) expect(text(await db.get('k', { snapshot: snaps[v] }))).toBe(`v${v}`);
    for (const s of snaps) s.release();
    await db.close();
  });
});
