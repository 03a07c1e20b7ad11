// varve/level: abstract-level's own compliance suite (run with tape in a
// child process, as its README describes), and what varve adds on top:
// engine options, Level error codes, ttl, the additional methods.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { VarveLevel, LevelError } from '../src/level/index.js';
import { levelError } from '../src/level/errors.js';
import { CorruptionError, IOError, InvalidArgumentError, LockedError } from '../src/errors.js';
import { tempDirs } from './support/temp-dir.js';
import { scriptRunner } from './support/runtime.js';

const newDir = tempDirs('level');

/** The counts at the end of a TAP stream. */
function tapTotals(tap: string): { tests: number; assertions: number; passed: number; failed: number } {
  const count = (re: RegExp) => Number(re.exec(tap)?.[1] ?? 0);
  // Every test prints a "# name" line; the three totals lines at the end are not tests.
  const headers = tap.split('\n').filter((l) => l.startsWith('# ')).length;
  return { tests: headers - 3, assertions: count(/^# tests (\d+)$/m), passed: count(/^# pass\s+(\d+)$/m), failed: count(/^# fail\s+(\d+)$/m) };
}

describe('abstract-level compliance suite', () => {
  it('passes every test of abstract-level/test', () => {
    const suite = new URL('./level/abstract-level-suite.mjs', import.meta.url).pathname;
    const run = spawnSync(scriptRunner[0], [...scriptRunner.slice(1), suite], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    const totals = tapTotals(run.stdout);
    const failures = run.stdout.split('\n').filter((l) => l.startsWith('not ok'));
    console.log(`abstract-level suite: ${totals.tests} tests, ${totals.assertions} assertions, ${totals.passed} passed, ${totals.failed} failed`);
    expect(failures).toEqual([]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(totals.failed).toBe(0);
    expect(totals.passed).toBe(totals.assertions);
    // The suite of abstract-level 3.1 has about 1,500 tests and 5,100 assertions; a run cut short has fewer.
    expect(totals.tests).toBeGreaterThan(1400);
    expect(totals.assertions).toBeGreaterThan(5000);
  }, 600_000);
});

describe('VarveLevel', () => {
  it('keeps data across reopen, with sublevels and JSON values', async () => {
    const dir = newDir();
    const db = new VarveLevel<string, unknown>(dir, { valueEncoding: 'json', memtableSize: 64 * 1024 });
    const users = db.sublevel<string, unknown>('users', { valueEncoding: 'json' });
    await db.put('a', { n: 1 });
    await users.batch([{ type: 'put', key: 'ada', value: { born: 1815 } }]);
    await db.close();
    const again = new VarveLevel<string, unknown>(dir, { valueEncoding: 'json' });
    expect(await again.get('a')).toEqual({ n: 1 });
    expect(await again.sublevel<string, unknown>('users', { valueEncoding: 'json' }).get('ada')).toEqual({ born: 1815 });
    expect(await again.keys().all()).toEqual(['!users!ada', 'a']);
    await again.close();
  });

  it('hands out buffers that do not alias stored data', async () => {
    const db = new VarveLevel(newDir());
    await db.put('k', 'value');
    const got = await db.get('k', { valueEncoding: 'buffer' });
    expect(Buffer.isBuffer(got)).toBe(true);
    (got as unknown as Buffer).fill(0);
    expect(await db.get('k')).toBe('value');
    expect(db.getSync('k')).toBe('value');
    await db.close();
  });

  it('passes ttl through put and batch to the engine', async () => {
    let now = 1_000_000;
    const db = new VarveLevel(newDir(), { clock: { now: () => now } });
    await db.put('a', '1', { ttl: 1000 } as never);
    await db.batch([{ type: 'put', key: 'b', value: '2', ttl: 5000 } as never]);
    expect(await db.getMany(['a', 'b'])).toEqual(['1', '2']);
    now += 2000;
    expect(await db.getMany(['a', 'b'])).toEqual([undefined, '2']);
    expect(await db.has('a')).toBe(false);
    await db.close();
  });

  it('clears a range with one tombstone that survives reopen, and a limited clear in order', async () => {
    const dir = newDir();
    const db = new VarveLevel(dir);
    await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: String(i).padStart(3, '0'), value: 'v' })));
    await db.clear({ gte: '010', lt: '090' });
    await db.clear({ reverse: true, limit: 5 });
    await db.close();
    const again = new VarveLevel(dir);
    const keys = await again.keys().all();
    expect(keys).toEqual([...Array.from({ length: 10 }, (_, i) => String(i).padStart(3, '0')), ...Array.from({ length: 5 }, (_, i) => String(90 + i).padStart(3, '0'))]);
    await again.close();
  });

  it('offers compactRange, checkpoint, verify and stats, waiting out a deferred open', async () => {
    const dir = newDir();
    const db = new VarveLevel(dir, { memtableSize: 64 * 1024 });
    const writes = db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'x'.repeat(100) })));
    await writes;
    await db.compactRange('k0', 'k9');
    const report = await db.verify();
    expect(report.findings).toEqual([]);
    expect(report.tables).toBeGreaterThan(0);
    expect((await db.stats()).levels.some((l) => l.files > 0)).toBe(true);
    const copy = newDir();
    await db.checkpoint(copy);
    await db.close();
    const restored = new VarveLevel(copy);
    expect(await restored.get('k1999')).toBe('x'.repeat(100));
    await restored.close();
  });

  it('reports a locked store with the Level code LEVEL_LOCKED', async () => {
    const dir = newDir();
    const first = new VarveLevel(dir);
    await first.open();
    const second = new VarveLevel(dir);
    const err = await second.open().catch((e: unknown) => e as { code: string; cause: { code: string; cause: unknown } });
    expect(err?.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err?.cause.code).toBe('LEVEL_LOCKED');
    expect(err?.cause.cause).toBeInstanceOf(LockedError);
    await first.close();
  });

  it('re-codes engine errors Level has names for and leaves the rest', () => {
    const corrupt = levelError(new CorruptionError('bad block')) as LevelError;
    expect(corrupt).toBeInstanceOf(LevelError);
    expect(corrupt.code).toBe('LEVEL_CORRUPTION');
    expect(corrupt.cause).toBeInstanceOf(CorruptionError);
    expect((levelError(new IOError('eio')) as LevelError).code).toBe('LEVEL_IO_ERROR');
    const invalid = new InvalidArgumentError('x');
    expect(levelError(invalid)).toBe(invalid);
  });

  it('rejects unknown engine options and a missing location', () => {
    expect(() => new VarveLevel('')).toThrow(TypeError);
    const db = new VarveLevel(newDir(), { memtableSize: 1 });
    return expect(db.open()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'ERR_INVALID_ARGUMENT' } });
  });
});
