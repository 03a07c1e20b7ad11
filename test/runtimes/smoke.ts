// The runtime check: the same TypeScript, importing the package by name,
// run by Node (compiled by tsc), Deno and Bun (run as written). Exits 0
// and prints "ok <runtime>" when every assertion holds; throws otherwise.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Database } from 'varve';
import { VarveLevel } from 'varve/level';

const dec = new TextDecoder();
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : dec.decode(bytes));

async function keysOf(db: Database, reverse = false): Promise<string[]> {
  const keys: string[] = [];
  for await (const [key] of db.iterator({ reverse })) keys.push(dec.decode(key));
  return keys;
}

async function engine(dir: string): Promise<void> {
  let db = await open(dir, { memtableSize: 64 * 1024 });
  await db.put('a', '1');
  assert.equal(text(await db.get('a')), '1');
  await db.batch([
    { type: 'put', key: 'b', value: '2' },
    { type: 'put', key: 'c', value: '3' },
    { type: 'put', key: 'd', value: '4' },
    { type: 'del', key: 'a' },
  ]);
  assert.deepEqual(await keysOf(db), ['b', 'c', 'd']);
  assert.deepEqual(await keysOf(db, true), ['d', 'c', 'b']);

  const snapshot = db.snapshot();
  await db.deleteRange('b', 'd');
  assert.deepEqual(await keysOf(db), ['d']);
  assert.equal(text(await db.get('c', { snapshot })), '3');
  snapshot.release();

  // Enough writes for flushed tables, so the reopen reads tables as well as the WAL.
  await db.batch(Array.from({ length: 3000 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(5, '0')}`, value: 'v'.repeat(64) })));
  await db.close();

  db = await open(dir);
  assert.equal(text(await db.get('d')), '4');
  assert.equal(text(await db.get('b')), undefined);
  assert.equal(text(await db.get('k02999')), 'v'.repeat(64));
  await db.compactRange();
  const shape = db.stats().levels.filter((l) => l.files > 0).map((l) => l.level);
  assert.ok(shape.length > 0 && !shape.includes(0), `after compactRange no level-0 tables remain (${shape})`);
  const all = await db.iterator({ gte: 'k', lt: 'l' }).all();
  assert.equal(all.length, 3000);
  assert.deepEqual(await db.verify().then((r) => r.findings), []);
  await db.close();
}

async function level(dir: string): Promise<void> {
  const db = new VarveLevel<string, { n: number }>(dir, { valueEncoding: 'json' });
  await db.put('x', { n: 1 });
  await db.batch().put('y', { n: 2 }).del('x').write();
  assert.deepEqual(await db.get('y'), { n: 2 });
  assert.deepEqual(await db.keys({ reverse: true }).all(), ['y']);
  const snapshot = db.snapshot();
  await db.put('z', { n: 3 });
  assert.deepEqual(await db.keys({ snapshot }).all(), ['y']);
  await snapshot.close();
  await db.close();
}

const runtime = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
const root = mkdtempSync(join(tmpdir(), `varve-${runtime}-`));
try {
  await engine(join(root, 'engine'));
  await level(join(root, 'level'));
  console.log(`ok ${runtime}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
