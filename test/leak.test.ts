// Opening and closing a database gives back all the linear memory it took:
// an application (or a test suite) that opens and closes stores all day
// must not grow. Its own file, so linear memory starts small and any leak
// shows as growth. (The torture's 65,000 opens found one: the group
// commit's 64 KiB batch buffer was never freed.)
import { describe, expect, it } from 'vitest';
import { open } from '../src/index.js';
import { raw } from '../src/wasm/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('leak');

async function cycle(dir: string): Promise<void> {
  const db = await open(dir, { memtableSize: 256 * 1024 });
  await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v'.repeat(100) })));
  await db.get('k5');
  await db.iterator().all();
  await db.close();
}

describe('open and close', () => {
  it('return every byte of linear memory: 100 cycles after a warm-up grow nothing', async () => {
    const dir = newDir();
    for (let i = 0; i < 10; i++) await cycle(dir);
    const before = raw.memory.buffer.byteLength;
    for (let i = 0; i < 100; i++) await cycle(dir);
    expect(raw.memory.buffer.byteLength).toBe(before);
  }, 120_000);
});
