// Awaited reads answered on the main thread would otherwise run as one long
// chain of microtasks: the event loop must get a turn every READS_PER_TURN.
import { describe, expect, it } from 'vitest';
import { setImmediate } from 'node:timers';
import { open } from '../src/index.js';
import { READS_PER_TURN } from '../src/read-pacer.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('read-pacer');

/** Runs `reads` and counts how many times a macrotask got to run meanwhile. */
async function turnsDuring(reads: () => Promise<void>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await reads();
  running = false;
  return turns;
}

describe('read pacing', () => {
  it('a loop of awaited gets, getMany calls or iterator steps lets the event loop turn', async () => {
    const db = await open(newDir());
    await db.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v' })));
    const rounds = 4 * READS_PER_TURN;
    expect(
      await turnsDuring(async () => {
        for (let i = 0; i < rounds; i++) expect(await db.get(`k${i % 1000}`)).toBeDefined();
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      await turnsDuring(async () => {
        for (let i = 0; i < rounds; i++) await db.getMany(['k1']);
      }),
    ).toBeGreaterThanOrEqual(3);
    const it = db.iterator();
    expect(
      await turnsDuring(async () => {
        for (let i = 0; i < rounds; i++) {
          if (i % 1000 === 0) it.seek('k');
          expect((await it.next()).done).toBe(false);
        }
      }),
    ).toBeGreaterThanOrEqual(3);
    await it.close();
    await db.close();
  });
});
