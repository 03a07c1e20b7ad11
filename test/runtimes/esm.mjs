// The package's entry points from plain JavaScript ESM, in each runtime.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'varve';
import { VarveLevel } from 'varve/level';

const root = mkdtempSync(join(tmpdir(), 'varve-esm-'));
try {
  const db = await open(join(root, 'engine'));
  await db.put('key', 'value');
  assert.equal(new TextDecoder().decode(await db.get('key')), 'value');
  await db.close();
  const level = new VarveLevel(join(root, 'level'));
  await level.put('key', 'value');
  assert.equal(await level.get('key'), 'value');
  await level.close();
  console.log('ok esm');
} finally {
  rmSync(root, { recursive: true, force: true });
}
