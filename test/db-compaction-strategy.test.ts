// The compaction strategies in the engine: the level shape leveled
// compaction settles into, compactions running in parallel while reads and
// writes go on, and the tiered style, each against a Map model.
import { describe, expect, it } from 'vitest';
import { open, nodeFileSystem, type Database } from '../src/index.js';
import { NUM_LEVELS } from '../src/version/edit.js';
import { readCurrent, readManifest } from '../src/version/manifest.js';
import { VersionSet } from '../src/version/set.js';
import type { Version } from '../src/version/version.js';
import { levelTargetBytes, resolveCompactionOptions } from '../src/compaction/picker.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('strategy');
const dec = new TextDecoder();
const key = (i: number): string => String(i).padStart(16, '0');
const userKeyText = (ikey: Uint8Array): string => dec.decode(ikey.subarray(0, ikey.length - 8));

/** The version the MANIFEST describes now (every edit is durable before it is installed). */
function manifestVersion(dir: string): Version {
  const versions = new VersionSet();
  const name = readCurrent(nodeFileSystem, dir);
  versions.recover(readManifest(nodeFileSystem, dir, name), name);
  return versions.current;
}

function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** Random puts, overwrites and deletes over `keys` keys, mirrored into `model`. */
async function randomBatches(db: Database, model: Map<string, string>, rand: (n: number) => number, batches: number, keys: number, check?: () => void): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const ops: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = [];
    for (let i = 0; i < 200; i++) {
      const k = key(rand(keys));
      if (rand(8) === 0) {
        ops.push({ type: 'del', key: k });
        model.delete(k);
      } else {
        const v = `${b}.${i}.`.padEnd(60 + rand(60), 'v');
        ops.push({ type: 'put', key: k, value: v });
        model.set(k, v);
      }
    }
    await db.batch(ops);
    check?.();
  }
}

async function expectMatches(db: Database, model: Map<string, string>): Promise<void> {
  const got = (await db.iterator().all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
  expect(got).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('leveled level shape', () => {
  it('once compactions are quiescent: level 0 under its trigger, each level within its target, levels sorted and disjoint', async () => {
    const dir = newDir();
    const compaction = { maxBytesForLevelBase: 256 * 1024, levelMultiplier: 4, targetFileSize: 64 * 1024 };
    const db = await open(dir, { memtableSize: 128 * 1024, compaction });
    const rand = rng(7);
    const model = new Map<string, string>();
    await randomBatches(db, model, rand, 250, 50_000); // 50,000 writes, ~4.5 MiB
    await db.waitForCompactions();
    const v = manifestVersion(dir);
    const o = resolveCompactionOptions(compaction);
    // Quiescent means the picker found nothing with nothing busy: every score is below 1, so no tolerance is needed.
    expect(v.levelFileCount(0)).toBeLessThan(o.l0CompactionTrigger);
    for (let level = 1; level < NUM_LEVELS - 1; level++) expect(v.levelBytes(level)).toBeLessThan(levelTargetBytes(o, level));
    expect(v.levels.slice(2).some((files) => files.length > 0)).toBe(true); // the load reached beyond level 1
    for (let level = 1; level < NUM_LEVELS; level++) {
      const files = v.levels[level]!;
      for (let i = 0; i < files.length; i++) {
        expect(userKeyText(files[i]!.smallest) <= userKeyText(files[i]!.largest)).toBe(true);
        if (i > 0) expect(userKeyText(files[i - 1]!.largest) < userKeyText(files[i]!.smallest)).toBe(true);
      }
    }
    const levels = db.stats().levels;
    expect(levels.map((l) => l.files)).toEqual(v.levels.map((files) => files.length));
    await expectMatches(db, model);
    await db.close();
  }, 30_000);
});

describe('parallel compactions', () => {
  it('run two at once while reads and writes stay right, and count bytes once each', async () => {
    const dir = newDir();
    const options = { memtableSize: 64 * 1024, maxBackgroundCompactions: 2, compaction: { maxBytesForLevelBase: 128 * 1024, levelMultiplier: 3, targetFileSize: 32 * 1024 } };
    const db = await open(dir, options);
    const rand = rng(99);
    const model = new Map<string, string>();
    const probe = rng(5);
    let checks = 0;
    // After every batch, point reads against the model while compactions run.
    const check = (): void => {
      for (let i = 0; i < 20; i++) {
        const k = key(probe(40_000));
        const got = db.getSync(k);
        expect(got === undefined ? undefined : dec.decode(got)).toBe(model.get(k));
        checks++;
      }
    };
    await randomBatches(db, model, rand, 180, 40_000, check);
    await expectMatches(db, model);
    await db.waitForCompactions();
    const stats = db.stats();
    expect(stats.background.peakCompactions).toBe(2);
    expect(stats.background.compactions).toBe(0);
    expect(stats.write.compactions).toBeGreaterThan(10);
    // bytesWritten is the sum of outputs: no more than what the tables hold plus what was since rewritten or deleted.
    expect(stats.write.compactionBytesWritten).toBeGreaterThan(0);
    expect(stats.write.compactionBytesRead).toBeGreaterThan(0);
    expect(checks).toBe(3600);
    await expectMatches(db, model);
    // A manual compaction alongside background ones.
    await Promise.all([randomBatches(db, model, rand, 40, 40_000), db.compactRange(key(0), key(20_000))]);
    await expectMatches(db, model);
    await db.close();
    const reopened = await open(dir, options);
    await expectMatches(reopened, model);
    await reopened.close();
  }, 30_000);

  it('run one at a time once writes stop, and still pay off the whole debt', async () => {
    const dir = newDir();
    const options = { memtableSize: 64 * 1024, maxBackgroundCompactions: 2, compaction: { maxBytesForLevelBase: 64 * 1024, levelMultiplier: 2, targetFileSize: 16 * 1024 } };
    const db = await open(dir, options);
    const model = new Map<string, string>();
    await randomBatches(db, model, rng(7), 600, 200_000);
    const writesEnded = performance.now();
    const before = db.stats().write.compactions;
    // Polled every millisecond from 300 ms after the last write. Compactions
    // started while writes arrived may still run then, two at once; once at
    // most one runs, a second never joins it. A compaction counts as done a
    // moment before it stops running (it then deletes its inputs), so starts
    // are told from completions: more completed than were running at the
    // window's start means some started after it.
    const completed = (): number => db.stats().write.compactions + db.stats().write.trivialMoves;
    let atWindow: { completed: number; running: number } | undefined;
    let oneAtATime = false;
    let secondStarts = 0;
    while (db.stats().background.compactions > 0 || atWindow === undefined) {
      if (performance.now() - writesEnded > 300) {
        const running = db.stats().background.compactions;
        atWindow ??= { completed: completed(), running };
        if (running <= 1) oneAtATime = true;
        else if (oneAtATime) secondStarts++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const startsAfterWindow = completed() - atWindow.completed - atWindow.running;
    await db.waitForCompactions();
    expect(startsAfterWindow).toBeGreaterThan(0);
    expect(secondStarts).toBe(0);
    expect(db.stats().background.peakCompactions).toBe(2);
    expect(db.stats().write.compactions).toBeGreaterThan(before);
    const scores = db.stats().levels.map((l) => l.score ?? 0);
    expect(Math.max(...scores)).toBeLessThan(1);
    await expectMatches(db, model);
    await db.close();
  }, 30_000);

  it('run one at a time when maxBackgroundCompactions is 1', async () => {
    const dir = newDir();
    const db = await open(dir, { memtableSize: 64 * 1024, maxBackgroundCompactions: 1, compaction: { maxBytesForLevelBase: 128 * 1024, levelMultiplier: 3, targetFileSize: 32 * 1024 } });
    const model = new Map<string, string>();
    await randomBatches(db, model, rng(99), 100, 40_000);
    await db.waitForCompactions();
    expect(db.stats().background.peakCompactions).toBe(1);
    await expectMatches(db, model);
    await db.close();
  });

  it('rejects a bad maxBackgroundCompactions, compactionStyle or compaction option', async () => {
    await expect(open(newDir(), { maxBackgroundCompactions: 0 })).rejects.toThrow(/maxBackgroundCompactions/);
    await expect(open(newDir(), { compactionStyle: 'universal' as 'tiered' })).rejects.toThrow(/compactionStyle/);
    await expect(open(newDir(), { compaction: { levelMultiplier: 1 } })).rejects.toThrow(/levelMultiplier/);
  });
});

describe('tiered compaction', () => {
  it('random writes, deletes and overwrites, reopen and compactRange: every read matches the model', async () => {
    const dir = newDir();
    const options = { memtableSize: 64 * 1024, compactionStyle: 'tiered' as const };
    let db = await open(dir, options);
    const rand = rng(2024);
    const model = new Map<string, string>();
    const check = (): void => {
      const k = key(rand(20_000));
      const got = db.getSync(k);
      expect(got === undefined ? undefined : dec.decode(got)).toBe(model.get(k));
    };
    await randomBatches(db, model, rand, 150, 20_000, check);
    await db.waitForCompactions();
    const shape = db.stats();
    expect(shape.write.compactions).toBeGreaterThan(0);
    // Runs: each level-0 file and each non-empty level; merging keeps them under the trigger once quiescent.
    const runs = shape.levels[0]!.files + shape.levels.slice(1).filter((l) => l.files > 0).length;
    expect(runs).toBeLessThan(4);
    await expectMatches(db, model);
    await db.close();
    db = await open(dir, options);
    await expectMatches(db, model);
    await randomBatches(db, model, rand, 40, 20_000, check);
    await db.compactRange();
    // One run is left, at the bottom, with no tombstones: entries = live keys.
    const after = db.stats().levels;
    expect(after.filter((l) => l.files > 0).map((l) => l.level)).toEqual([NUM_LEVELS - 1]);
    await expectMatches(db, model);
    for (const [k, v] of [...model].slice(0, 300)) expect(dec.decode(db.getSync(k)!)).toBe(v);
    await db.close();
    const v = manifestVersion(dir);
    expect(v.levels[NUM_LEVELS - 1]!.length).toBeGreaterThan(0);
  }, 30_000);
});
