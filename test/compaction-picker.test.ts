import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidArgumentError } from '../src/errors.js';
import { makeInternalKey } from '../src/keys.js';
import { type FileMetadata, NUM_LEVELS, type VersionEdit } from '../src/version/edit.js';
import { Version, VersionBuilder } from '../src/version/version.js';
import {
  type Compaction,
  type CompactionOptions,
  CompactPointers,
  DEFAULT_COMPACTION_OPTIONS,
  compactionsForRange,
  levelTargetBytes,
  pickCompaction,
  pickRangeCompaction,
  resolveCompactionOptions,
  scores,
} from '../src/compaction/picker.js';

// User keys are 4-byte big-endian integers, so the model compares plain numbers.

const key = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const num = (keyBytes: Uint8Array): number => ((keyBytes[0]! << 24) | (keyBytes[1]! << 16) | (keyBytes[2]! << 8) | keyBytes[3]!) >>> 0;
const lo = (f: FileMetadata): number => num(f.smallest);
const hi = (f: FileMetadata): number => num(f.largest);

/** A table covering user keys [a, b] with sequences [seqLo, seqHi]. */
function meta(number: number, a: number, b: number, size: number, seqLo = 1, seqHi = seqLo): FileMetadata {
  return { number, size, smallest: makeInternalKey(key(a), seqHi, 1), largest: makeInternalKey(key(b), seqLo, 1), smallestSeq: seqLo, largestSeq: seqHi };
}

function versionOf(files: { level: number; meta: FileMetadata }[]): Version {
  const b = new VersionBuilder(Version.empty());
  b.apply({ deletedFiles: [], newFiles: files });
  return b.build();
}

function applyEdit(v: Version, e: VersionEdit): Version {
  const b = new VersionBuilder(v);
  b.apply(e);
  return b.build();
}

const numbers = (files: readonly FileMetadata[]): number[] => files.map((f) => f.number);
const bytesOf = (files: readonly FileMetadata[]): number => files.reduce((s, f) => s + f.size, 0);
const meets = (f: FileMetadata, a: number | undefined, b: number | undefined): boolean =>
  (a === undefined || hi(f) >= a) && (b === undefined || lo(f) <= b);
const span = (files: readonly FileMetadata[]): [number, number] => [Math.min(...files.map(lo)), Math.max(...files.map(hi))];

// ---- The model ----

function modelOverlap(v: Version, level: number, a?: number, b?: number): number[] {
  return numbers(v.levels[level]!.filter((f) => meets(f, a, b)));
}

/** Level-0 files overlapping [a, b], widened until nothing outside overlaps their span. */
function modelL0Closure(v: Version, a?: number, b?: number): FileMetadata[] {
  let files = v.levels[0]!.filter((f) => meets(f, a, b));
  for (;;) {
    if (files.length === 0) return files;
    const [s, l] = span(files);
    const na = a === undefined ? undefined : Math.min(a, s);
    const nb = b === undefined ? undefined : Math.max(b, l);
    const next = v.levels[0]!.filter((f) => meets(f, na, nb));
    if (next.length === files.length) return next;
    files = next;
    a = na;
    b = nb;
  }
}

/** Files being compacted (`busy`) do not count towards their level's score. */
function modelScores(v: Version, o: CompactionOptions, busy: ReadonlySet<number> = new Set()): number[] {
  const idle = (level: number): FileMetadata[] => v.levels[level]!.filter((f) => !busy.has(f.number));
  const out = [idle(0).length / o.l0CompactionTrigger];
  for (let level = 1; level < NUM_LEVELS - 1; level++) {
    out.push(bytesOf(idle(level)) / (o.maxBytesForLevelBase * o.levelMultiplier ** (level - 1)));
  }
  return out;
}

/** Whether some seed of `level` gives a compaction whose seed closure and level+1 overlap avoid `busy`. */
function modelLevelHasFreeSeed(v: Version, level: number, busy: ReadonlySet<number>): boolean {
  return v.levels[level]!.some((seed) => {
    const inputs = level === 0 ? modelL0Closure(v, lo(seed), hi(seed)) : [seed];
    const [a, b] = span(inputs);
    return [...numbers(inputs), ...modelOverlap(v, level + 1, a, b)].every((n) => !busy.has(n));
  });
}

// ---- Arbitraries ----

interface Shape {
  l0: { start: number; width: number; size: number }[];
  deeper: { gap: number; width: number; size: number }[][];
}

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  l0: fc.array(fc.record({ start: fc.integer({ min: 0, max: 200 }), width: fc.integer({ min: 0, max: 40 }), size: fc.integer({ min: 1, max: 400 }) }), {
    maxLength: 8,
  }),
  deeper: fc.array(
    fc.array(fc.record({ gap: fc.integer({ min: 1, max: 30 }), width: fc.integer({ min: 0, max: 20 }), size: fc.integer({ min: 1, max: 600 }) }), {
      maxLength: 8,
    }),
    { minLength: NUM_LEVELS - 1, maxLength: NUM_LEVELS - 1 },
  ),
});

/** Unique file numbers; L0 newest = highest number; levels >= 1 disjoint by construction. */
function buildShape(shape: Shape): Version {
  const files: { level: number; meta: FileMetadata }[] = [];
  let number = 1;
  shape.deeper.forEach((level, i) => {
    let cursor = 0;
    for (const { gap, width, size } of level) {
      const a = cursor + gap;
      files.push({ level: i + 1, meta: meta(number++, a, a + width, size, 10, 20) });
      cursor = a + width;
    }
  });
  shape.l0.forEach(({ start, width, size }, i) => files.push({ level: 0, meta: meta(number++, start, start + width, size, 100 + 2 * i, 101 + 2 * i) }));
  return versionOf(files);
}

const optionsArb: fc.Arbitrary<CompactionOptions> = fc
  .record({
    l0CompactionTrigger: fc.integer({ min: 1, max: 6 }),
    maxBytesForLevelBase: fc.integer({ min: 100, max: 1500 }),
    levelMultiplier: fc.integer({ min: 2, max: 4 }),
    targetFileSize: fc.integer({ min: 1, max: 200 }),
  })
  .map((o) => resolveCompactionOptions(o));

const versionArb = shapeArb.map(buildShape);

/** A version with a random set of its files marked in progress. */
const busyArb = versionArb.chain((v) => {
  const all = [...v.fileNumbers()];
  return fc.subarray(all, { maxLength: Math.min(all.length, 4) }).map((busy) => ({ v, busy: new Set(busy) }));
});

// ---- Checks every compaction must pass ----

/** One output covering exactly the inputs' internal-key range, as a real compaction would write. */
function coveringOutput(c: Compaction, number: number): FileMetadata {
  const all = [...c.inputs, ...c.outputLevelInputs];
  const [a, b] = span(all);
  return meta(number, a, b, bytesOf(all), Math.min(...all.map((f) => f.smallestSeq)), Math.max(...all.map((f) => f.largestSeq)));
}

function checkCompaction(v: Version, c: Compaction, o: CompactionOptions, busy: ReadonlySet<number>): void {
  const level = c.level;
  expect(c.outputLevel).toBe(level + 1);
  expect(c.inputs.length).toBeGreaterThan(0);
  for (const f of c.inputs) expect(v.levelOf(f.number)).toBe(level);
  for (const f of c.outputLevelInputs) expect(v.levelOf(f.number)).toBe(level + 1);
  for (const n of c.fileNumbers()) expect(busy.has(n)).toBe(false);

  const [a, b] = span(c.inputs);
  // Exactly the output-level files overlapping the level inputs' range.
  expect(numbers(c.outputLevelInputs)).toEqual(modelOverlap(v, level + 1, a, b));
  if (level === 0) {
    // Closed under overlap: no other L0 file meets the inputs' span.
    const outside = v.levels[0]!.filter((f) => !c.inputs.includes(f));
    for (const f of outside) expect(meets(f, a, b)).toBe(false);
    // The oldest free file seeds it.
    const oldestFree = v.levels[0]!.filter((f) => !busy.has(f.number)).at(-1)!;
    if (busy.size === 0) expect(c.inputs).toContain(oldestFree);
  } else {
    // Contiguous in the level; more than one only by expansion, within the bound.
    const files = v.levels[level]!;
    const first = files.indexOf(c.inputs[0]!);
    expect(c.inputs).toEqual(files.slice(first, first + c.inputs.length));
    if (c.inputs.length > 1) expect(bytesOf(c.inputs) + bytesOf(c.outputLevelInputs)).toBeLessThan(o.maxExpandedBytes);
  }

  const [allLo, allHi] = span([...c.inputs, ...c.outputLevelInputs]);
  expect(num(c.smallestUserKey)).toBe(allLo);
  expect(num(c.largestUserKey!)).toBe(allHi);
  expect(c.inputBytes).toBe(bytesOf(c.inputs) + bytesOf(c.outputLevelInputs));
  const expectedGrandparents = level + 2 < NUM_LEVELS ? modelOverlap(v, level + 2, allLo, allHi) : [];
  expect(numbers(c.grandparents)).toEqual(expectedGrandparents);
  expect(c.trivialMove).toBe(c.inputs.length === 1 && c.outputLevelInputs.length === 0 && bytesOf(c.grandparents) <= o.maxGrandparentOverlapBytes);

  checkKeyMayExistBelow(v, c, allLo - 2, allHi + 2);
  checkEdits(v, c);
}

function modelKeyBelow(v: Version, outputLevel: number, k: number): boolean {
  for (let level = outputLevel + 1; level < NUM_LEVELS; level++) if (modelOverlap(v, level, k, k).length > 0) return true;
  return false;
}

/** Ascending, as a compaction asks, then descending (every cursor invalid). */
function checkKeyMayExistBelow(v: Version, c: Compaction, from: number, to: number): void {
  const ks: number[] = [];
  for (let k = Math.max(0, from); k <= to; k++) ks.push(k);
  for (const k of [...ks, ...ks.reverse()]) expect(c.keyMayExistBelow(key(k))).toBe(modelKeyBelow(v, c.outputLevel, k));
}

function checkEdits(v: Version, c: Compaction): void {
  const before = [...v.fileNumbers()].length;
  const inputCount = c.inputs.length + c.outputLevelInputs.length;
  const outputNumber = 1_000_000;
  const rewritten = applyEdit(v, c.edit([coveringOutput(c, outputNumber)]));
  expect(rewritten.levelOf(outputNumber)).toBe(c.outputLevel);
  expect(rewritten.fileCount).toBe(before - inputCount + 1);
  for (const n of c.fileNumbers()) expect(rewritten.levelOf(n)).toBe(-1);
  if (c.trivialMove) {
    const moved = applyEdit(v, c.edit());
    expect(moved.levelOf(c.inputs[0]!.number)).toBe(c.outputLevel);
    expect(moved.fileCount).toBe(before);
  } else {
    expect(() => c.edit()).toThrow(InvalidArgumentError);
  }
}

// ---- Tests ----

describe('options, targets and scores', () => {
  it('has the documented defaults and derives the overlap limits from targetFileSize', () => {
    expect(resolveCompactionOptions()).toEqual(DEFAULT_COMPACTION_OPTIONS);
    expect(DEFAULT_COMPACTION_OPTIONS).toEqual({
      l0CompactionTrigger: 4,
      maxBytesForLevelBase: 8 << 20,
      levelMultiplier: 10,
      targetFileSize: 2 << 20,
      maxGrandparentOverlapBytes: 20 << 20,
      maxExpandedBytes: 50 << 20,
    });
    const o = resolveCompactionOptions({ targetFileSize: 1000 });
    expect(o.maxGrandparentOverlapBytes).toBe(10_000);
    expect(o.maxExpandedBytes).toBe(25_000);
    expect(resolveCompactionOptions({ targetFileSize: 1000, maxExpandedBytes: 7 }).maxExpandedBytes).toBe(7);
  });

  it('refuses out-of-range options and levels', () => {
    for (const bad of [{ l0CompactionTrigger: 0 }, { levelMultiplier: 1 }, { targetFileSize: 1.5 }, { maxBytesForLevelBase: -1 }, { maxExpandedBytes: NaN }]) {
      expect(() => resolveCompactionOptions(bad)).toThrow(InvalidArgumentError);
    }
    for (const level of [0, NUM_LEVELS, -1, 1.5]) expect(() => levelTargetBytes(DEFAULT_COMPACTION_OPTIONS, level)).toThrow(InvalidArgumentError);
    expect(() => pickRangeCompaction(Version.empty(), NUM_LEVELS - 1)).toThrow(InvalidArgumentError);
    expect(() => new CompactPointers().get(NUM_LEVELS)).toThrow(InvalidArgumentError);
  });

  it('targets each level at base x multiplier^(level-1)', () => {
    const o = DEFAULT_COMPACTION_OPTIONS;
    expect([1, 2, 3, 6].map((l) => levelTargetBytes(o, l))).toEqual([8 << 20, 80 << 20, 800 << 20, 8 * 10 ** 5 * (1 << 20)]);
  });

  it('scores every level but the last like the model', () => {
    fc.assert(
      fc.property(versionArb, optionsArb, (v, o) => {
        const s = scores(v, o);
        expect(s).toHaveLength(NUM_LEVELS - 1);
        const m = modelScores(v, o);
        for (let l = 0; l < s.length; l++) expect(s[l]).toBeCloseTo(m[l]!, 12);
      }),
      { numRuns: 200 },
    );
  });
});

describe('pickCompaction', () => {
  it('picks the highest-scoring level, with consistent inputs, when nothing is in progress', () => {
    fc.assert(
      fc.property(versionArb, optionsArb, (v, o) => {
        const c = pickCompaction(v, o);
        const m = modelScores(v, o);
        const best = Math.max(...m);
        if (best < 1) {
          expect(c).toBeUndefined();
          return;
        }
        expect(c).toBeDefined();
        expect(c!.level).toBe(m.indexOf(best));
        checkCompaction(v, c!, o, new Set());
      }),
      { numRuns: 300 },
    );
  });

  it('never picks a file in progress and skips only levels with no free seed', () => {
    fc.assert(
      fc.property(busyArb, optionsArb, ({ v, busy }, o) => {
        const c = pickCompaction(v, o, busy);
        const m = modelScores(v, o, busy);
        const eligible = m.map((score, level) => ({ score, level })).filter((s) => s.score >= 1);
        const free = eligible.filter((s) => modelLevelHasFreeSeed(v, s.level, busy));
        if (free.length === 0) {
          expect(c).toBeUndefined();
          return;
        }
        const best = free.reduce((x, y) => (y.score > x.score ? y : x));
        expect(c).toBeDefined();
        expect(c!.level).toBe(best.level);
        checkCompaction(v, c!, o, busy);
      }),
      { numRuns: 300 },
    );
  });

  it('installs cleanly: pick, rewrite and apply until no level scores 1 keeps every level >= 1 disjoint', () => {
    fc.assert(
      fc.property(versionArb, optionsArb, (start, o) => {
        let v = start;
        const pointers = new CompactPointers();
        let next = 10_000;
        // Each round merges files or moves one down a level, so the loop ends well within the bound.
        for (let round = 0; round < 1000; round++) {
          const c = pickCompaction(v, o, new Set(), pointers);
          if (c === undefined) break;
          const e = c.trivialMove ? c.edit() : c.edit([coveringOutput(c, next++)]);
          v = applyEdit(v, e); // the Version constructor rejects overlap at levels >= 1
        }
        expect(pickCompaction(v, o)).toBeUndefined();
        expect(Math.max(...modelScores(v, o))).toBeLessThan(1);
      }),
      { numRuns: 100 },
    );
  });

  it('moves a lone level-0 file to level 1 when nothing there overlaps it', () => {
    const o = resolveCompactionOptions({ l0CompactionTrigger: 1 });
    const v = versionOf([
      { level: 0, meta: meta(1, 10, 20, 100) },
      { level: 1, meta: meta(2, 30, 40, 100) },
    ]);
    const c = pickCompaction(v, o)!;
    expect(c.trivialMove).toBe(true);
    expect(applyEdit(v, c.edit()).levelOf(1)).toBe(1);
  });

  it('refuses a trivial move that would overlap too many grandparent bytes', () => {
    const o = resolveCompactionOptions({ maxBytesForLevelBase: 100, targetFileSize: 10 }); // grandparent limit 100
    const files = [{ level: 1, meta: meta(1, 10, 50, 200) }];
    const under = versionOf([...files, { level: 3, meta: meta(2, 20, 30, 100) }]);
    const over = versionOf([...files, { level: 3, meta: meta(2, 20, 30, 60) }, { level: 3, meta: meta(3, 40, 45, 41) }]);
    expect(pickCompaction(under, o)!.trivialMove).toBe(true);
    const c = pickCompaction(over, o)!;
    expect(c.trivialMove).toBe(false);
    expect(numbers(c.grandparents)).toEqual([2, 3]);
  });

  it('takes the whole overlapping chain of level-0 files, oldest seed first', () => {
    const o = resolveCompactionOptions({ l0CompactionTrigger: 2 });
    // 1 [0,10] oldest, 2 [10,20], 3 [20,30]: a chain; 4 [50,60] apart.
    const v = versionOf([1, 2, 3].map((n) => ({ level: 0, meta: meta(n, (n - 1) * 10, n * 10, 10, n, n) })).concat([{ level: 0, meta: meta(4, 50, 60, 10, 4, 4) }]));
    expect(numbers(pickCompaction(v, o)!.inputs).sort()).toEqual([1, 2, 3]);
    // With file 2 busy the chain cannot move; file 4 can.
    expect(numbers(pickCompaction(v, o, new Set([2]))!.inputs)).toEqual([4]);
  });

  it('expands level inputs that fit inside the output-level range, but not past maxExpandedBytes', () => {
    const files = [
      { level: 1, meta: meta(1, 10, 12, 500) },
      { level: 1, meta: meta(2, 14, 16, 500) },
      { level: 1, meta: meta(3, 25, 30, 500) },
      { level: 2, meta: meta(4, 11, 20, 100) },
    ];
    const v = versionOf(files);
    const wide = resolveCompactionOptions({ maxBytesForLevelBase: 1000, maxExpandedBytes: 1101 });
    expect(numbers(pickCompaction(v, wide)!.inputs)).toEqual([1, 2]);
    const narrow = resolveCompactionOptions({ maxBytesForLevelBase: 1000, maxExpandedBytes: 1100 });
    expect(numbers(pickCompaction(v, narrow)!.inputs)).toEqual([1]);
  });

  it('does not expand when the wider level inputs would pull in another output-level file', () => {
    const v = versionOf([
      { level: 1, meta: meta(1, 10, 12, 500) },
      { level: 1, meta: meta(2, 14, 22, 500) },
      { level: 2, meta: meta(3, 11, 15, 100) },
      { level: 2, meta: meta(4, 20, 25, 100) },
    ]);
    const c = pickCompaction(v, resolveCompactionOptions({ maxBytesForLevelBase: 500 }))!;
    expect(numbers(c.inputs)).toEqual([1]);
    expect(numbers(c.outputLevelInputs)).toEqual([3]);
  });

  it('breaks a tie in score toward the upper level', () => {
    const o = resolveCompactionOptions({ maxBytesForLevelBase: 100 });
    const v = versionOf([
      { level: 1, meta: meta(1, 10, 12, 200) },
      { level: 2, meta: meta(2, 30, 40, 2000) },
    ]);
    expect(scores(v, o).slice(1, 3)).toEqual([2, 2]);
    expect(pickCompaction(v, o)!.level).toBe(1);
  });

  it('walks a level round-robin through its compact pointer, wrapping at the end', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ gap: fc.integer({ min: 1, max: 5 }), width: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 10 }), (layout) => {
        let cursor = 0;
        const files = layout.map(({ gap, width }, i) => {
          const a = cursor + gap;
          cursor = a + width;
          return { level: 2, meta: meta(i + 1, a, a + width, 1000) };
        });
        const v = versionOf(files);
        const o = resolveCompactionOptions({ maxBytesForLevelBase: 1, levelMultiplier: 2 });
        const pointers = new CompactPointers();
        const picked: number[] = [];
        for (let i = 0; i < 2 * files.length + 1; i++) picked.push(pickCompaction(v, o, new Set(), pointers)!.inputs[0]!.number);
        const order = files.map((f) => f.meta.number);
        expect(picked).toEqual([...order, ...order, order[0]]);
        expect(num(pointers.get(2)!)).toBe(hi(files[0]!.meta));
      }),
      { numRuns: 100 },
    );
  });

  it('resumes after a pointer that falls between files or past the last one', () => {
    const v = versionOf([meta(1, 10, 20, 1000), meta(2, 30, 40, 1000), meta(3, 50, 60, 1000)].map((m) => ({ level: 1, meta: m })));
    const o = resolveCompactionOptions({ maxBytesForLevelBase: 1 });
    const at = (k: number): number => {
      const p = new CompactPointers();
      p.set(1, key(k));
      return pickCompaction(v, o, new Set(), p)!.inputs[0]!.number;
    };
    expect([at(0), at(20), at(25), at(35), at(40), at(60), at(99)]).toEqual([1, 2, 2, 2, 3, 1, 1]);
    // A busy next file is passed over, not waited for.
    const p = new CompactPointers();
    p.set(1, key(20));
    expect(pickCompaction(v, o, new Set([2]), p)!.inputs[0]!.number).toBe(3);
  });
});

describe('range compactions', () => {
  const rangeArb = fc.record({ a: fc.option(fc.integer({ min: 0, max: 260 }), { nil: undefined }), b: fc.option(fc.integer({ min: 0, max: 260 }), { nil: undefined }) });

  it('picks the level files meeting [lo, hi] and the next level files meeting them', () => {
    fc.assert(
      fc.property(versionArb, fc.integer({ min: 0, max: NUM_LEVELS - 2 }), rangeArb, (v, level, { a, b }) => {
        const c = pickRangeCompaction(v, level, a === undefined ? undefined : key(a), b === undefined ? undefined : key(b));
        const expected = level === 0 ? numbers(modelL0Closure(v, a, b)) : modelOverlap(v, level, a, b);
        if (expected.length === 0) {
          expect(c).toBeUndefined();
          return;
        }
        expect(c).toBeDefined();
        expect(numbers(c!.inputs)).toEqual(expected);
        expect(c!.trivialMove).toBe(false);
        const [inLo, inHi] = span(c!.inputs);
        expect(numbers(c!.outputLevelInputs)).toEqual(modelOverlap(v, level + 1, inLo, inHi));
        checkEdits(v, c!);
      }),
      { numRuns: 300 },
    );
  });

  it('answers keyMayExistBelow like the model for keys in any order', () => {
    const queriesArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(-1)), { maxLength: 60 });
    fc.assert(
      fc.property(versionArb, queriesArb, (v, queries) => {
        for (let level = 0; level < NUM_LEVELS - 1; level++) {
          const c = pickRangeCompaction(v, level);
          if (c === undefined) continue;
          // -1 stands for "the key after the previous one": runs of ascending keys.
          let prev = 0;
          for (const q of queries) {
            const k = q < 0 ? prev + 1 : q;
            prev = k;
            expect(c.keyMayExistBelow(key(k))).toBe(modelKeyBelow(v, c.outputLevel, k));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('treats both bounds as inclusive', () => {
    const v = versionOf([
      { level: 1, meta: meta(1, 10, 20, 1) },
      { level: 1, meta: meta(2, 30, 40, 1) },
      { level: 2, meta: meta(3, 41, 50, 1) },
    ]);
    const pick = (a?: number, b?: number): number[] | undefined => {
      const c = pickRangeCompaction(v, 1, a === undefined ? undefined : key(a), b === undefined ? undefined : key(b));
      return c === undefined ? undefined : c.fileNumbers();
    };
    expect(pick(20, 30)).toEqual([1, 2]);
    expect(pick(21, 29)).toBeUndefined();
    expect(pick(40, 40)).toEqual([2]);
    expect(pick(41, undefined)).toBeUndefined();
    expect(pick(undefined, 10)).toEqual([1]);
    expect(pick()).toEqual([1, 2]);
    expect(pick(30, 20)).toBeUndefined();
    expect(pickRangeCompaction(v, 2)!.fileNumbers()).toEqual([3]);
  });

  it('lists the levels from the first holding the range to the one above the deepest', () => {
    fc.assert(
      fc.property(versionArb, rangeArb, (v, { a, b }) => {
        const levels = compactionsForRange(v, a === undefined ? undefined : key(a), b === undefined ? undefined : key(b));
        const holding = Array.from({ length: NUM_LEVELS }, (_, l) => l).filter((l) => modelOverlap(v, l, a, b).length > 0);
        if (holding.length === 0) {
          expect(levels).toEqual([]);
          return;
        }
        const first = holding[0]!;
        const end = Math.max(holding[holding.length - 1]!, 1);
        expect(levels).toEqual(Array.from({ length: Math.max(0, end - first) }, (_, i) => first + i));
      }),
      { numRuns: 300 },
    );
  });

  it('running the listed range compactions leaves the range in one level', () => {
    fc.assert(
      fc.property(versionArb, (start) => {
        let v = start;
        let next = 10_000;
        for (const level of compactionsForRange(v)) {
          const c = pickRangeCompaction(v, level);
          if (c === undefined) continue;
          v = applyEdit(v, c.edit([coveringOutput(c, next++)]));
        }
        const holding = v.summary().filter((s) => s.files > 0);
        expect(holding.length).toBeLessThanOrEqual(1);
        if (holding.length === 1) expect(holding[0]!.level).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});
