import { describe, expect, it } from 'vitest';
import type { TableWorker } from '../src/flush/table-worker.js';
import { TableWorkers } from '../src/flush/table-workers.js';

/** A job that holds its worker until release() is called, and records which worker it got. */
function heldJob(): { job: (w: TableWorker) => Promise<TableWorker>; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return { job: async (w) => (await held, w), release };
}

describe('table workers', () => {
  it('runs each job on the idle worker used last, and starts one only when every started one is busy', async () => {
    const workers = new TableWorkers();
    expect(workers.threads).toBe(0);
    const first = await workers.run(async (w) => w);
    expect(await workers.run(async (w) => w)).toBe(first);
    expect(workers.threads).toBe(1);

    // Two jobs at once need two workers; the one given back last is the next one taken.
    const a = heldJob();
    const b = heldJob();
    const runA = workers.run(a.job);
    const runB = workers.run(b.job);
    expect(workers.threads).toBe(2);
    b.release();
    const gotB = await runB;
    a.release();
    const gotA = await runA;
    expect(gotA).not.toBe(gotB);
    expect([gotA, gotB]).toContain(first);
    expect(await workers.run(async (w) => w)).toBe(gotA);
    expect(workers.threads).toBe(2);
    await workers.terminate();
  });

  it('gives the worker back when its job fails', async () => {
    const workers = new TableWorkers();
    const failed = workers.run(async () => {
      throw new Error('job failed');
    });
    await expect(failed).rejects.toThrow('job failed');
    await workers.run(async (w) => w);
    expect(workers.threads).toBe(1);
    await workers.terminate();
  });

  it('refuses jobs once terminated, without starting a thread for them', async () => {
    const workers = new TableWorkers();
    await workers.run(async (w) => w);
    await workers.terminate();
    let ran = false;
    const refused = workers.run(async (w) => ((ran = true), w));
    await expect(refused).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(ran).toBe(false);
    expect(workers.threads).toBe(1);
  });
});
