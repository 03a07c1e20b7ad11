import { describe, expect, it } from 'vitest';
import { Commit } from '../src/server/commit.js';

describe('Commit', () => {
  it('calls its listeners once, in the order they listened, with the outcome and one settle time', () => {
    const commit = new Commit();
    const heard: [number, boolean, unknown, number][] = [];
    for (let i = 0; i < 3; i++) commit.listen((failed, err, at) => heard.push([i, failed, err, at]));
    expect(heard).toEqual([]);
    const err = new Error('disk full');
    commit.settle(true, err);
    commit.settle(false);
    expect(heard.map(([i]) => i)).toEqual([0, 1, 2]);
    expect(heard.every(([, failed, e, at]) => failed && e === err && at === heard[0]![3])).toBe(true);
  });

  it('answers a listener that comes after it settled a microtask later, with the same outcome', async () => {
    const commit = new Commit();
    commit.settle(false);
    let heard: boolean | undefined;
    commit.listen((failed) => (heard = failed));
    expect(heard).toBeUndefined();
    await Promise.resolve();
    expect(heard).toBe(false);
  });

  it('makes promises on demand: they resolve or reject with it, and a failure nobody asked a promise for rejects nothing', async () => {
    const ok = new Commit();
    const done = ok.promise();
    ok.settle(false);
    await expect(done).resolves.toBeUndefined();

    const failed = new Commit();
    const refused = failed.promise();
    failed.settle(true, new Error('read-only'));
    await expect(refused).rejects.toThrow('read-only');
    await expect(failed.promise()).rejects.toThrow('read-only');

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      new Commit().settle(true, new Error('nobody waits'));
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
