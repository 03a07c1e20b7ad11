// Picks made while other compactions run: never a shared file, never a
// conflict, and their edits install in any order (the model: a Version's own
// invariant checks, and a per-key map of which file holds what). The tiered
// picker: runs stay in age order through flushes and merges.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeInternalKey } from '../src/keys.js';
import { type FileMetadata, NUM_LEVELS, type VersionEdit } from '../src/version/edit.js';
import { Version, VersionBuilder } from '../src/version/version.js';
import { allowedSeeks, pickCompaction, pickSeekCompaction, resolveCompactionOptions, CompactPointers } from '../src/compaction/picker.js';
import { type CompactionPlan, compactionsConflict } from '../src/compaction/plan.js';
import { pickTieredCompaction, pickTieredRangeCompaction, resolveTieredOptions, sortedRuns } from '../src/compaction/tiered-picker.js';

const key = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const num = (k: Uint8Array): number => ((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0;

function meta(number: number, a: number, b: number, size: number, seqLo: number, seqHi: number): FileMetadata {
  return { number, size, smallest: makeInternalKey(key(a), seqHi, 1), largest: makeInternalKey(key(b), seqLo, 1), smallestSeq: seqLo, largestSeq: seqHi };
}

function apply(v: Version, e: VersionEdit): Version {
  const b = new VersionBuilder(v);
  b.apply(e);
  return b.build();
}

/** Outputs standing in for a real merge: the inputs' key span cut into pieces of `pieces` files, sequences spanning the inputs'. */
function fakeOutputs(plan: CompactionPlan, nextNumber: () => number, pieces: number): FileMetadata[] {
  const files = plan.inputFiles;
  const lo = Math.min(...files.map((f) => num(f.smallest)));
  const hi = Math.max(...files.map((f) => num(f.largest)));
  const seqLo = Math.min(...files.map((f) => f.smallestSeq));
  const seqHi = Math.max(...files.map((f) => f.largestSeq));
  const size = files.reduce((s, f) => s + f.size, 0);
  const n = Math.max(1, Math.min(pieces, hi - lo + 1));
  const step = Math.floor((hi - lo + 1) / n);
  const out: FileMetadata[] = [];
  for (let i = 0; i < n; i++) {
    const a = lo + i * step;
    const b = i === n - 1 ? hi : a + step - 1;
    out.push(meta(nextNumber(), a, b, Math.max(1, Math.floor(size / n)), seqLo, seqHi));
  }
  return out;
}

describe('leveled picks alongside running compactions', () => {
  it('never share a file or conflict, and install cleanly in any order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 2, max: 4 }), (seed, slots) => {
        let x = seed;
        const rand = (n: number): number => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          return (x >>> 8) % n;
        };
        const o = resolveCompactionOptions({ l0CompactionTrigger: 2, maxBytesForLevelBase: 4000, levelMultiplier: 4, targetFileSize: 1000 });
        const pointers = new CompactPointers();
        let v = Version.empty();
        let number = 1;
        let seq = 1;
        let running: CompactionPlan[] = [];
        let maxAtOnce = 0;
        for (let step = 0; step < 150; step++) {
          if (rand(3) === 0) {
            // A flush: a level-0 file over a random key span, newer than everything.
            const a = rand(10_000);
            v = apply(v, { deletedFiles: [], newFiles: [{ level: 0, meta: meta(number++, a, a + rand(3000), 500 + rand(1000), seq, seq + 9) }] });
            seq += 10;
          }
          const busy = new Set(running.flatMap((p) => p.fileNumbers()));
          while (running.length < slots) {
            const c = pickCompaction(v, o, busy, pointers, running);
            if (c === undefined) break;
            for (const other of running) {
              expect(compactionsConflict(c, other)).toBe(false);
              expect(c.fileNumbers().some((n) => other.fileNumbers().includes(n))).toBe(false);
            }
            for (const n of c.fileNumbers()) busy.add(n);
            running.push(c);
          }
          maxAtOnce = Math.max(maxAtOnce, running.length);
          // Finish a random running compaction: its edit must apply to whatever the version is now.
          if (running.length > 0 && rand(2) === 0) {
            const done = running.splice(rand(running.length), 1)[0]!;
            v = apply(v, done.trivialMove ? done.edit() : done.edit(fakeOutputs(done, () => number++, 1 + rand(4))));
          }
        }
        running = [];
        return maxAtOnce >= 1;
      }),
      { numRuns: 60 },
    );
  });
});

describe('tiered picker', () => {
  /** Runs newest first must have strictly older sequences: what makes the read path's order right. */
  function expectAgeOrder(v: Version): void {
    const runs = sortedRuns(v);
    for (let i = 0; i + 1 < runs.length; i++) {
      const newer = Math.min(...runs[i]!.files.map((f) => f.smallestSeq));
      const older = Math.max(...runs[i + 1]!.files.map((f) => f.largestSeq));
      expect(newer).toBeGreaterThan(older);
    }
  }

  it('keeps runs in age order through flushes and merges, and fewer runs than the trigger once quiescent', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 50, max: 200 }), { minLength: 10, maxLength: 120 }), fc.integer({ min: 1, max: 2 ** 31 }), (flushSizes, seed) => {
        let x = seed;
        const rand = (n: number): number => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          return (x >>> 8) % n;
        };
        const o = resolveTieredOptions();
        let v = Version.empty();
        let number = 1;
        let seq = 1;
        const running: CompactionPlan[] = [];
        for (const size of flushSizes) {
          v = apply(v, { deletedFiles: [], newFiles: [{ level: 0, meta: meta(number++, rand(100), 100 + rand(1000), size, seq, seq + 9) }] });
          seq += 10;
          const busy = new Set(running.flatMap((p) => p.fileNumbers()));
          for (let c = pickTieredCompaction(v, o, busy, running); c !== undefined && running.length < 2; c = pickTieredCompaction(v, o, busy, running)) {
            expect(c.fileNumbers().some((n) => busy.has(n))).toBe(false);
            // Contiguous in age: the merged runs are a slice of sortedRuns.
            const runs = sortedRuns(v);
            const first = runs.findIndex((r) => r.files[0]!.number === c!.runs[0]!.files[0]!.number);
            c.runs.forEach((r, i) => expect(r).toEqual(runs[first + i]));
            expect(c.outputLevel).toBeGreaterThanOrEqual(1);
            for (const n of c.fileNumbers()) busy.add(n);
            running.push(c);
          }
          if (running.length > 0 && rand(3) > 0) {
            const done = running.splice(rand(running.length), 1)[0]!;
            // A merge rewrites the runs into one, a little smaller (overwrites dropped).
            v = apply(v, done.edit(fakeOutputs(done, () => number++, 1 + rand(3))));
          }
          expectAgeOrder(v);
          for (let level = 1; level < NUM_LEVELS; level++) expect(v.levels[level]!.every((f) => f.smallestSeq >= 1)).toBe(true);
        }
        // Once every merge has finished and none is left to pick, fewer runs than the trigger remain.
        for (;;) {
          for (const done of running.splice(0)) v = apply(v, done.edit(fakeOutputs(done, () => number++, 1 + rand(3))));
          const c = pickTieredCompaction(v, o, new Set(), running);
          if (c === undefined) break;
          running.push(c);
          expectAgeOrder(v);
        }
        expect(sortedRuns(v).length).toBeLessThan(o.runTrigger);
      }),
      { numRuns: 80 },
    );
  });

  it('merges similar-sized runs, everything when space amplification is high, and names the oldest run', () => {
    const o = resolveTieredOptions();
    // Four equal flushes: one merge of all four, to the bottom level, the oldest run included.
    let v = Version.empty();
    for (let i = 0; i < 4; i++) v = apply(v, { deletedFiles: [], newFiles: [{ level: 0, meta: meta(i + 1, 0, 100, 100, 10 * i + 1, 10 * i + 9) }] });
    const all = pickTieredCompaction(v, o)!;
    expect(all.runs.length).toBe(4);
    expect(all.outputLevel).toBe(NUM_LEVELS - 1);
    expect(all.includesOldestRun).toBe(true);
    expect(pickTieredCompaction(v, o, new Set([1]))).toBeUndefined();
    // Small flushes above one big run: below the trigger nothing; at it, the small runs merge among themselves, just above it.
    v = apply(v, all.edit([meta(10, 0, 100, 100_000, 1, 39)]));
    for (let i = 0; i < 2; i++) v = apply(v, { deletedFiles: [], newFiles: [{ level: 0, meta: meta(20 + i, 0, 100, 100, 100 + 10 * i, 105 + 10 * i) }] });
    expect(pickTieredCompaction(v, o)).toBeUndefined();
    v = apply(v, { deletedFiles: [], newFiles: [{ level: 0, meta: meta(30, 0, 100, 100, 200, 205) }] });
    const small = pickTieredCompaction(v, o)!;
    expect(small.fileNumbers().sort((a, b) => a - b)).toEqual([20, 21, 30]);
    expect(small.outputLevel).toBe(NUM_LEVELS - 2);
    expect(small.includesOldestRun).toBe(false);
    // Newer runs as big as the oldest twice over: everything merges.
    const big = Version.empty();
    let w = apply(big, { deletedFiles: [], newFiles: [{ level: NUM_LEVELS - 1, meta: meta(1, 0, 100, 100, 1, 9) }] });
    for (let i = 0; i < 3; i++) w = apply(w, { deletedFiles: [], newFiles: [{ level: 0, meta: meta(2 + i, 0, 100, 70 + 100 * i, 10 + 10 * i, 15 + 10 * i) }] });
    const full = pickTieredCompaction(w, o)!;
    expect(full.runs.length).toBe(4);
    expect(full.includesOldestRun).toBe(true);
    // compactRange merges every run, and nothing when no file meets the range.
    expect(pickTieredRangeCompaction(w)!.runs.length).toBe(4);
    expect(pickTieredRangeCompaction(w, key(500), key(600))).toBeUndefined();
  });
});

describe('seek compaction picks', () => {
  const o = resolveCompactionOptions({ l0CompactionTrigger: 4, maxBytesForLevelBase: 100_000, levelMultiplier: 10, targetFileSize: 1000 });
  // Two overlapping level-0 tables and a third beside them, over level 1: no level scores 1.
  const level0 = [meta(3, 0, 400, 100, 51, 60), meta(2, 300, 600, 100, 41, 50), meta(1, 700, 900, 100, 31, 40)];
  const level1 = [meta(101, 0, 500, 3000, 10, 20), meta(102, 501, 1000, 3000, 10, 20)];
  const last = [meta(601, 0, 1000, 3000, 1, 9)];
  const v = new Version([level0, level1, [], [], [], [], last]);

  it('a level-0 table takes its overlapping closure and the level-1 tables under it', () => {
    expect(pickCompaction(v, o)).toBeUndefined();
    const c = pickSeekCompaction(v, o, 3)!;
    expect(c.level).toBe(0);
    // 3 and 2 overlap; 1 joins as the usual expansion (it pulls in no more of level 1).
    expect(c.inputs.map((f) => f.number).sort()).toEqual([1, 2, 3]);
    expect(c.outputLevelInputs.map((f) => f.number)).toEqual([101, 102]);
  });

  it('a deeper table is compacted alone into the next level; none for a file gone, busy, at the last level, or in conflict', () => {
    expect(pickSeekCompaction(v, o, 102)!.inputs.map((f) => f.number)).toEqual([102]);
    expect(pickSeekCompaction(v, o, 999)).toBeUndefined();
    expect(pickSeekCompaction(v, o, 601)).toBeUndefined();
    expect(pickSeekCompaction(v, o, 3, new Set([101]))).toBeUndefined();
    const running = pickSeekCompaction(v, o, 1)!;
    expect(pickSeekCompaction(v, o, 3, new Set(running.fileNumbers()), [running])).toBeUndefined();
  });

  it('allows one seek per 16 KiB of a table, and at least 100', () => {
    expect(allowedSeeks(meta(1, 0, 1, 1000, 1, 1))).toBe(100);
    expect(allowedSeeks(meta(1, 0, 1, 4 * 1024 * 1024, 1, 1))).toBe(256);
  });
});
