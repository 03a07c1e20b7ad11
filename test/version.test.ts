import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptionError, IOError, InvalidArgumentError, ReadOnlyError } from '../src/errors.js';
import { MAX_SEQUENCE, compareInternalKeys, makeInternalKey } from '../src/keys.js';
import {
  COMPARATOR_NAME,
  type FileMetadata,
  NUM_LEVELS,
  type VersionEdit,
  decodeVersionEdit,
  encodeVersionEdit,
} from '../src/version/edit.js';
import { Version, VersionBuilder } from '../src/version/version.js';
import { type ManifestSink, VersionSet } from '../src/version/set.js';
import { randomBytes } from './support/random.js';

// ---- Helpers ----

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const userKey = (ikey: Uint8Array): Uint8Array => ikey.subarray(0, ikey.length - 8);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A table covering user keys [lo, hi] with sequences [seqLo, seqHi]. */
function meta(number: number, lo: Uint8Array | string, hi: Uint8Array | string, seqLo = 1, seqHi = seqLo, size = 1000): FileMetadata {
  const l = typeof lo === 'string' ? bytes(lo) : lo;
  const h = typeof hi === 'string' ? bytes(hi) : hi;
  return { number, size, smallest: makeInternalKey(l, seqHi, 1), largest: makeInternalKey(h, seqLo, 1), smallestSeq: seqLo, largestSeq: seqHi };
}

function edit(parts: Partial<VersionEdit>): VersionEdit {
  return { deletedFiles: [], newFiles: [], ...parts };
}

function build(base: Version, ...edits: VersionEdit[]): Version {
  const b = new VersionBuilder(base);
  for (const e of edits) b.apply(e);
  return b.build();
}

const numbersOf = (files: readonly FileMetadata[]): number[] => files.map((f) => f.number);

// ---- Arbitraries ----

const countArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 127, 128, 2 ** 32, MAX_SEQUENCE), fc.maxSafeNat());
const ikeyArb = fc
  .tuple(fc.uint8Array({ maxLength: 20 }), countArb, fc.integer({ min: 0, max: 255 }))
  .map(([u, s, k]) => makeInternalKey(u, s, k));
const fileMetaArb: fc.Arbitrary<FileMetadata> = fc
  .record({ number: countArb, size: countArb, a: ikeyArb, b: ikeyArb, s1: countArb, s2: countArb })
  .map(({ number, size, a, b, s1, s2 }) => {
    const [smallest, largest] = compareInternalKeys(a, b) <= 0 ? [a, b] : [b, a];
    return { number, size, smallest, largest, smallestSeq: Math.min(s1, s2), largestSeq: Math.max(s1, s2) };
  });
const levelArb = fc.integer({ min: 0, max: NUM_LEVELS - 1 });
const editArb: fc.Arbitrary<VersionEdit> = fc.record(
  {
    comparator: fc.constantFrom(COMPARATOR_NAME, '', 'x', 'ünï😀'),
    logNumber: countArb,
    nextFileNumber: countArb,
    lastSequence: countArb,
    deletedFiles: fc.uniqueArray(fc.record({ level: levelArb, number: countArb }), {
      maxLength: 5,
      selector: (d) => `${d.level}:${d.number}`,
    }),
    newFiles: fc.uniqueArray(fc.record({ level: levelArb, meta: fileMetaArb }), { maxLength: 5, selector: (f) => f.meta.number }),
  },
  { requiredKeys: ['deletedFiles', 'newFiles'] },
);

function expectCorruption(fn: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CorruptionError);
  for (const f of fragments) expect((caught as Error).message).toContain(f);
}

// ---- Version edit encoding ----

describe('version edit encoding', () => {
  it('round-trips every valid edit', () => {
    fc.assert(
      fc.property(editArb, (e) => {
        const encoded = encodeVersionEdit(e);
        const decoded = decodeVersionEdit(encoded, 'MANIFEST-000001');
        expect(decoded).toEqual(e);
        expect(encodeVersionEdit(decoded)).toEqual(encoded);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the documented bytes', () => {
    const e = edit({
      comparator: 'ab',
      logNumber: 3,
      nextFileNumber: 300,
      lastSequence: 2 ** 32,
      deletedFiles: [{ level: 1, number: 4 }],
      newFiles: [{ level: 2, meta: meta(5, 'a', 'b', 7, 9, 4096) }],
    });
    const k = (c: number, seq: number): number[] => [c, 1, seq, 0, 0, 0, 0, 0, 0];
    expect([...encodeVersionEdit(e)]).toEqual([
      1, 2, 0x61, 0x62, // comparator "ab"
      2, 3, // log number 3
      3, 0xac, 0x02, // next file number 300
      4, 0x80, 0x80, 0x80, 0x80, 0x10, // last sequence 2^32
      5, 1, 4, // delete file 4 from level 1
      6, 2, 5, 0x80, 0x20, // new file at level 2: number 5, size 4096
      9, ...k(0x61, 9), // smallest: "a" seq 9 kind 1
      9, ...k(0x62, 7), // largest: "b" seq 7 kind 1
      7, 9, // sequences 7..9
    ]);
  });

  it('refuses to encode an invalid edit', () => {
    const bad = [
      edit({ logNumber: -1 }),
      edit({ lastSequence: 1.5 }),
      edit({ nextFileNumber: MAX_SEQUENCE + 1 }),
      edit({ deletedFiles: [{ level: 7, number: 1 }] }),
      edit({ deletedFiles: [{ level: 1, number: 1 }, { level: 1, number: 1 }] }),
      edit({ newFiles: [{ level: 0, meta: meta(1, 'b', 'a') }] }),
      edit({ newFiles: [{ level: 0, meta: { ...meta(1, 'a', 'b'), smallest: new Uint8Array(7) } }] }),
      edit({ newFiles: [{ level: 0, meta: { ...meta(1, 'a', 'b'), smallestSeq: 5, largestSeq: 4 } }] }),
      edit({ newFiles: [{ level: 0, meta: meta(1, 'a', 'b') }, { level: 1, meta: meta(1, 'c', 'd') }] }),
      edit({ newFiles: [{ level: -1, meta: meta(1, 'a', 'b') }] }),
    ];
    for (const e of bad) expect(() => encodeVersionEdit(e)).toThrow(InvalidArgumentError);
  });

  it('reports malformed encodings as CorruptionError naming file, record and offset', () => {
    const valid = [...encodeVersionEdit(edit({ logNumber: 1 }))];
    const file = [...encodeVersionEdit(edit({ newFiles: [{ level: 1, meta: meta(5, 'a', 'b') }] }))];
    const cases: [number[], string][] = [
      [[99, 0], 'unknown tag 99'],
      [[0], 'unknown tag 0'],
      [[...valid, ...valid], 'log number given twice'],
      [[2, 0x80, 0x00], 'shortest form'],
      [[2, 0x80], 'truncated'],
      [[2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'exceeds 2^53 - 1'],
      [[2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 'longer than 8 bytes'],
      [[1, 5, 0x61], 'overruns'],
      [[1, 1, 0xff], 'not UTF-8'],
      [[5, 7, 1], 'level 7'],
      [[5, 1, 1, 5, 1, 1], 'deleted twice'],
      [[...file, ...file], 'added twice'],
      [[6, 1, 5, 0, 7, ...new Array(7).fill(0), 0, 0, 0], 'shorter than'],
      [[...file.slice(0, 5), ...file.slice(15, 25), ...file.slice(5, 15), ...file.slice(25)], 'smallest key sorts after largest'],
      [[...file.slice(0, -2), 3, 2], 'sequence range'],
    ];
    for (const [input, reason] of cases) {
      expectCorruption(() => decodeVersionEdit(new Uint8Array(input), 'MANIFEST-000007', 3), 'MANIFEST-000007', 'record 3', reason);
    }
    expectCorruption(() => decodeVersionEdit(new Uint8Array([...valid, 99]), 'M'), 'field at byte 2');
  });

  it('decodes every prefix of a valid edit to that prefix or to CorruptionError', () => {
    fc.assert(
      fc.property(editArb, (e) => {
        const encoded = encodeVersionEdit(e);
        for (let cut = 0; cut < encoded.length; cut++) {
          const prefix = encoded.subarray(0, cut);
          let decoded: VersionEdit;
          try {
            decoded = decodeVersionEdit(prefix, 'M');
          } catch (err) {
            expect(err).toBeInstanceOf(CorruptionError);
            continue;
          }
          // Only a cut between whole fields decodes, and then to exactly those fields.
          expect(encodeVersionEdit(decoded)).toEqual(prefix);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('survives fuzzing: random and mutated inputs decode to a valid edit or throw CorruptionError', () => {
    const check = (input: Uint8Array): void => {
      let decoded: VersionEdit;
      try {
        decoded = decodeVersionEdit(input, 'M');
      } catch (err) {
        expect(err).toBeInstanceOf(CorruptionError);
        return;
      }
      // A decoded edit is well formed: it re-encodes, and that decodes to itself.
      expect(decodeVersionEdit(encodeVersionEdit(decoded), 'M')).toEqual(decoded);
    };
    for (let seed = 1; seed <= 2000; seed++) check(randomBytes(seed % 64, seed));
    fc.assert(
      fc.property(editArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (e, flips) => {
        const encoded = encodeVersionEdit(e);
        if (encoded.length === 0) return;
        for (const [at, byte] of flips) encoded[at % encoded.length] = byte;
        check(encoded);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- Versions and the builder, against a model ----

interface ModelFile {
  level: number;
  meta: FileMetadata;
}

/** Applies an edit to a plain map of files; a string says why the edit is refused. */
function modelApply(files: Map<number, ModelFile>, e: VersionEdit): Map<number, ModelFile> | string {
  const next = new Map(files);
  for (const d of e.deletedFiles) {
    if (next.get(d.number)?.level !== d.level) return `missing ${d.number}`;
    next.delete(d.number);
  }
  for (const f of e.newFiles) {
    if (next.has(f.meta.number)) return `duplicate ${f.meta.number}`;
    next.set(f.meta.number, f);
  }
  // Deeper levels: no two files' user-key ranges may meet (checked pairwise).
  const all = [...next.values()].filter((f) => f.level > 0);
  for (const a of all) {
    for (const b of all) {
      if (a !== b && a.level === b.level && containsRange(a.meta, userKey(b.meta.smallest), userKey(b.meta.largest))) return 'overlap';
    }
  }
  return next;
}

function containsRange(f: FileMetadata, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean {
  return (lo === undefined || compareBytes(userKey(f.largest), lo) >= 0) && (hi === undefined || compareBytes(userKey(f.smallest), hi) <= 0);
}

function modelLevel(files: Map<number, ModelFile>, level: number): FileMetadata[] {
  const list = [...files.values()].filter((f) => f.level === level).map((f) => f.meta);
  return level === 0
    ? list.sort((a, b) => b.largestSeq - a.largestSeq || b.number - a.number)
    : list.sort((a, b) => compareBytes(userKey(a.smallest), userKey(b.smallest)));
}

const rarely = fc.integer({ min: 0, max: 9 }).map((x) => x === 0);

/** One edit, described relative to whatever files exist when it is resolved. */
interface EditPlan {
  deletes: { pick: number; wrongLevel: boolean }[];
  moves: { pick: number; toLevel: number }[];
  adds: { level: number; key: Uint8Array; width: number; seqs: number; size: number }[];
  duplicate: boolean;
  missing: boolean;
  logNumber: boolean;
}

const planArb: fc.Arbitrary<EditPlan> = fc.record({
  deletes: fc.array(fc.record({ pick: fc.nat(), wrongLevel: rarely }), { maxLength: 2 }),
  moves: fc.array(fc.record({ pick: fc.nat(), toLevel: levelArb }), { maxLength: 1 }),
  adds: fc.array(
    fc.record({
      level: fc.oneof(fc.integer({ min: 0, max: 2 }), levelArb),
      key: fc.uint8Array({ minLength: 1, maxLength: 2, max: 30 }),
      width: fc.integer({ min: 0, max: 3 }),
      seqs: fc.integer({ min: 1, max: 5 }),
      size: fc.integer({ min: 0, max: 1 << 20 }),
    }),
    { maxLength: 3 },
  ),
  duplicate: rarely,
  missing: rarely,
  logNumber: fc.boolean(),
});

interface Counters {
  newNumber(): number;
  /** Reserves n sequences; returns the first. */
  newSequences(n: number): number;
}

function resolvePlan(plan: EditPlan, files: Map<number, ModelFile>, counters: Counters): VersionEdit {
  const existing = [...files.values()].sort((a, b) => a.meta.number - b.meta.number);
  const e = edit({});
  const used = new Set<number>();
  for (const d of plan.deletes) {
    if (existing.length === 0) break;
    const f = existing[d.pick % existing.length]!;
    if (used.has(f.meta.number)) continue;
    used.add(f.meta.number);
    e.deletedFiles.push({ level: d.wrongLevel ? (f.level + 1) % NUM_LEVELS : f.level, number: f.meta.number });
  }
  for (const m of plan.moves) {
    if (existing.length === 0) break;
    const f = existing[m.pick % existing.length]!;
    if (used.has(f.meta.number)) continue;
    used.add(f.meta.number);
    e.deletedFiles.push({ level: f.level, number: f.meta.number });
    e.newFiles.push({ level: m.toLevel, meta: f.meta });
  }
  for (const a of plan.adds) {
    const hi = a.key.slice();
    hi[hi.length - 1] = Math.min(255, hi[hi.length - 1]! + a.width);
    const first = counters.newSequences(a.seqs);
    e.newFiles.push({ level: a.level, meta: meta(counters.newNumber(), a.key, hi, first, first + a.seqs - 1, a.size) });
  }
  if (plan.duplicate && existing.length > 0 && !used.has(existing[0]!.meta.number)) {
    e.newFiles.push({ level: 3, meta: existing[0]!.meta });
  }
  if (plan.missing) e.deletedFiles.push({ level: 2, number: 1e9 });
  return e;
}

function probeKeys(files: Map<number, ModelFile>): Uint8Array[] {
  const keys: Uint8Array[] = [new Uint8Array(0), new Uint8Array([255, 255, 255])];
  for (const f of files.values()) {
    const lo = userKey(f.meta.smallest);
    const hi = userKey(f.meta.largest);
    keys.push(lo, hi, new Uint8Array([...lo, 0]), lo.subarray(0, lo.length - 1));
  }
  return keys;
}

/** Compares everything a version answers with the model's answers, in one assertion. */
function expectMatchesModel(v: Version, files: Map<number, ModelFile>): void {
  const levels = Array.from({ length: NUM_LEVELS }, (_, level) => modelLevel(files, level));
  const actual: unknown[] = [v.fileCount, [...files.keys()].map((n) => v.levelOf(n))];
  const expected: unknown[] = [files.size, [...files.values()].map((f) => f.level)];
  levels.forEach((files, level) => {
    actual.push(numbersOf(v.levels[level]!), v.levelFileCount(level), v.levelBytes(level));
    expected.push(numbersOf(files), files.length, files.reduce((s, f) => s + f.size, 0));
  });
  const probes = probeKeys(files);
  // collectFilesForKey into one array for every probe, as the read path calls it: slots past the count are stale.
  const reused: Parameters<Version['collectFilesForKey']>[1] = [];
  for (const k of probes) {
    const want = levels.flatMap((level) => numbersOf(level.filter((f) => containsRange(f, k, k))));
    const n = v.collectFilesForKey(k, reused);
    actual.push(numbersOf(v.filesForKey(k)), numbersOf(reused.slice(0, n)));
    expected.push(want, want);
  }
  for (let i = 0; i + 1 < probes.length; i += 2) {
    const [lo, hi] = compareBytes(probes[i]!, probes[i + 1]!) <= 0 ? [probes[i]!, probes[i + 1]!] : [probes[i + 1]!, probes[i]!];
    levels.forEach((files, level) => {
      const meeting = (l: Uint8Array | undefined, h: Uint8Array | undefined): number[] => numbersOf(files.filter((f) => containsRange(f, l, h)));
      actual.push(numbersOf(v.overlappingFiles(level, lo, hi)), numbersOf(v.overlappingFiles(level, lo)), numbersOf(v.overlappingFiles(level, undefined, hi)));
      expected.push(meeting(lo, hi), meeting(lo, undefined), meeting(undefined, hi));
    });
  }
  expect(actual).toEqual(expected);
}

function simpleCounters(): Counters {
  let number = 1;
  let seq = 1;
  return {
    newNumber: () => number++,
    newSequences: (n) => {
      const first = seq;
      seq += n;
      return first;
    },
  };
}

describe('VersionBuilder and Version against a model', () => {
  it('applies valid edits, refuses invalid ones, and answers queries like the model', () => {
    fc.assert(
      fc.property(fc.array(planArb, { minLength: 1, maxLength: 30, size: 'medium' }), (plans) => {
        let files = new Map<number, ModelFile>();
        let version = Version.empty();
        const counters = simpleCounters();
        const applied: VersionEdit[] = [];
        for (const plan of plans) {
          const e = resolvePlan(plan, files, counters);
          const expected = modelApply(files, e);
          if (typeof expected === 'string') {
            expect(() => build(version, e), expected).toThrow(InvalidArgumentError);
            continue;
          }
          version = build(version, e);
          files = expected;
          applied.push(e);
          expectMatchesModel(version, files);
        }
        // One builder fed every applied edit (recovery) reaches the same version.
        const replayed = build(Version.empty(), ...applied);
        expect(replayed.levels).toEqual(version.levels);
      }),
      { numRuns: 150 },
    );
  });

  it('moves a file between levels within one edit and shares unchanged levels', () => {
    const base = build(Version.empty(), edit({ newFiles: [{ level: 0, meta: meta(1, 'a', 'c') }, { level: 2, meta: meta(2, 'x', 'z') }] }));
    const moved = build(base, edit({ deletedFiles: [{ level: 0, number: 1 }], newFiles: [{ level: 1, meta: base.levels[0]![0]! }] }));
    expect(numbersOf(moved.levels[1]!)).toEqual([1]);
    expect(moved.levels[0]).toEqual([]);
    expect(moved.levels[2]).toBe(base.levels[2]);
  });

  it('orders level 0 newest first, by largest sequence then file number', () => {
    const v = build(
      Version.empty(),
      edit({
        newFiles: [
          { level: 0, meta: meta(1, 'a', 'z', 1, 10) },
          { level: 0, meta: meta(2, 'a', 'z', 11, 20) },
          { level: 0, meta: meta(3, 'a', 'z', 5, 20) },
          { level: 0, meta: meta(4, 'm', 'm', 21, 21) },
        ],
      }),
    );
    expect(numbersOf(v.levels[0]!)).toEqual([4, 3, 2, 1]);
    expect(numbersOf(v.filesForKey(bytes('b')))).toEqual([3, 2, 1]);
  });

  it('refuses overlap at levels >= 1 by user key, even across sequence numbers', () => {
    const base = build(Version.empty(), edit({ newFiles: [{ level: 1, meta: meta(1, 'b', 'd', 5, 5) }] }));
    // "d" at an older sequence still shares the user key "d".
    expect(() => build(base, edit({ newFiles: [{ level: 1, meta: meta(2, 'd', 'f', 1, 1) }] }))).toThrow(/overlap/);
    expect(() => build(base, edit({ newFiles: [{ level: 1, meta: meta(2, 'a', 'z') }] }))).toThrow(/overlap/);
    expect(numbersOf(build(base, edit({ newFiles: [{ level: 1, meta: meta(2, 'd\0', 'f') }] })).levels[1]!)).toEqual([1, 2]);
    expect(() => build(base, edit({ deletedFiles: [{ level: 2, number: 1 }] }))).toThrow(/not there/);
    expect(() => build(base, edit({ newFiles: [{ level: 4, meta: meta(1, 'x', 'y') }] }))).toThrow(/in level 1/);
  });

  it('checks its invariants when constructed directly', () => {
    const levels = (l0: FileMetadata[], l1: FileMetadata[] = []): FileMetadata[][] => [l0, l1, [], [], [], [], []];
    expect(() => new Version(levels([meta(1, 'a', 'b', 1, 1), meta(2, 'a', 'b', 2, 2)]))).toThrow(InvalidArgumentError);
    expect(() => new Version(levels([], [meta(1, 'c', 'd'), meta(2, 'a', 'b')]))).toThrow(InvalidArgumentError);
    expect(() => new Version(levels([meta(1, 'a', 'b')], [meta(1, 'c', 'd')]))).toThrow(InvalidArgumentError);
    expect(() => new Version([[]])).toThrow(InvalidArgumentError);
    const v = new Version(levels([meta(2, 'a', 'b', 2, 2), meta(1, 'a', 'b', 1, 1)]));
    expect(Object.isFrozen(v.levels[0])).toBe(true);
    expect(v.summary()).toEqual([
      { level: 0, files: 2, bytes: 2000 },
      ...Array.from({ length: 6 }, (_, i) => ({ level: i + 1, files: 0, bytes: 0 })),
    ]);
    expect(() => v.overlappingFiles(7)).toThrow(InvalidArgumentError);
  });

  it('counts references; a released version cannot be revived', () => {
    const v = Version.empty();
    expect(() => v.unref()).toThrow(InvalidArgumentError);
    v.ref().ref();
    v.unref();
    expect(v.live).toBe(true);
    v.unref();
    expect(v.live).toBe(false);
    expect(() => v.ref()).toThrow(InvalidArgumentError);
  });
});

// ---- VersionSet ----

/** An in-memory MANIFEST: records payloads, can hold appends open, can fail. */
class MemorySink implements ManifestSink {
  readonly payloads: Uint8Array[] = [];
  /** When set, appends wait for `open()`; resolvers in arrival order. */
  gated = false;
  readonly waiting: (() => void)[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failAt = -1;

  async append(payload: Uint8Array): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gated) await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.payloads.length === this.failAt) throw new IOError('disk full', { cause: { code: 'ENOSPC' } });
      this.payloads.push(payload.slice());
    } finally {
      this.inFlight--;
    }
  }

  /** A ManifestOpener that starts this sink with the snapshot. */
  opener = async (snapshot: Uint8Array): Promise<ManifestSink> => {
    this.payloads.push(snapshot.slice());
    return this;
  };
}

async function openSet(sink = new MemorySink()): Promise<{ set: VersionSet; sink: MemorySink }> {
  const set = new VersionSet();
  set.newFileNumber(); // the MANIFEST's own number
  await set.useManifest(sink.opener);
  return { set, sink };
}

function setCounters(set: VersionSet): Counters {
  return {
    newNumber: () => set.newFileNumber(),
    newSequences: (n) => {
      const first = set.lastSequence + 1;
      set.lastSequence += n;
      return first;
    },
  };
}

function expectSameState(a: VersionSet, b: VersionSet): void {
  expect(b.current.levels).toEqual(a.current.levels);
  expect(b.logNumber).toBe(a.logNumber);
  expect(b.nextFileNumber).toBe(a.nextFileNumber);
  expect(b.lastSequence).toBe(a.lastSequence);
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('VersionSet', () => {
  it('recovers from its MANIFEST records exactly the state logAndApply built', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(planArb, { minLength: 1, maxLength: 20 }), async (plans) => {
        const { set, sink } = await openSet();
        let files = new Map<number, ModelFile>();
        for (const plan of plans) {
          const e = resolvePlan(plan, files, setCounters(set));
          if (plan.logNumber) e.logNumber = set.newFileNumber();
          const expected = modelApply(files, e);
          if (typeof expected === 'string') {
            await expect(set.logAndApply(e)).rejects.toThrow(InvalidArgumentError);
            continue;
          }
          const v = await set.logAndApply(e);
          files = expected;
          expect(set.current).toBe(v);
          expectMatchesModel(v, files);
        }
        // Numbers and sequences taken by refused edits reach the MANIFEST with the next edit.
        await set.logAndApply(edit({}));
        const fromRecords = new VersionSet();
        fromRecords.recover(sink.payloads, 'MANIFEST-000001');
        expectSameState(set, fromRecords);
        const fromSnapshot = new VersionSet();
        fromSnapshot.recover([encodeVersionEdit(set.snapshotEdit())], 'MANIFEST-000002');
        expectSameState(set, fromSnapshot);
      }),
      { numRuns: 60 },
    );
  });

  it('applies concurrent edits one at a time, in call order, each after its append', async () => {
    const { set, sink } = await openSet();
    sink.gated = true;
    set.lastSequence = 30;
    const [n1, n2, n3] = [set.newFileNumber(), set.newFileNumber(), set.newFileNumber()];
    const done: number[] = [];
    const calls = [n1, n2, n3].map((n, i) =>
      set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(n, 'a', 'b', 10 * i + 1, 10 * i + 5) }] })).then((v) => {
        done.push(n);
        return v;
      }),
    );
    for (let i = 0; i < 3; i++) {
      await tick();
      expect(sink.waiting.length).toBe(1); // one MANIFEST write at a time
      expect(set.current.fileCount).toBe(i); // not installed before it is durable
      expect(done).toEqual([n1, n2, n3].slice(0, i));
      sink.waiting.shift()!();
      const v = await calls[i]!;
      expect(set.current).toBe(v);
      expect(v.fileCount).toBe(i + 1);
    }
    expect(sink.maxInFlight).toBe(1);
    const recorded = sink.payloads.slice(1).map((p) => decodeVersionEdit(p, 'M').newFiles[0]!.meta.number);
    expect(recorded).toEqual([n1, n2, n3]);
    expect(numbersOf(set.current.levels[0]!)).toEqual([n3, n2, n1]);
  });

  it('fills in the next file number and last sequence at the edit’s turn', async () => {
    const { set, sink } = await openSet();
    set.lastSequence = 41;
    const n = set.newFileNumber();
    await set.logAndApply(edit({ logNumber: n }));
    const recorded = decodeVersionEdit(sink.payloads[1]!, 'M');
    expect(recorded).toEqual(edit({ logNumber: n, nextFileNumber: n + 1, lastSequence: 41 }));
    expect(set.logNumber).toBe(n);
    await expect(set.logAndApply(edit({ lastSequence: 50 }))).rejects.toThrow(InvalidArgumentError);
    await expect(set.logAndApply(edit({ comparator: COMPARATOR_NAME }))).rejects.toThrow(InvalidArgumentError);
  });

  it('refuses edits inconsistent with its state without writing or poisoning', async () => {
    const { set, sink } = await openSet();
    const before = sink.payloads.length;
    set.lastSequence = 5;
    await expect(set.logAndApply(edit({ deletedFiles: [{ level: 0, number: 1 }] }))).rejects.toThrow(/not there/);
    await expect(set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(100, 'a', 'b', 1, 1) }] }))).rejects.toThrow(/never allocated/);
    const n = set.newFileNumber();
    await expect(set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(n, 'a', 'b', 1, 6) }] }))).rejects.toThrow(/beyond the last sequence/);
    await expect(set.logAndApply(edit({ logNumber: set.nextFileNumber }))).rejects.toThrow(/never allocated/);
    expect(sink.payloads.length).toBe(before);
    expect(set.failed).toBe(false);
    await set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(n, 'a', 'b', 1, 5) }] }));
    await expect(set.logAndApply(edit({ logNumber: 0 }))).resolves.toBeDefined();
    await set.logAndApply(edit({ logNumber: n }));
    await expect(set.logAndApply(edit({ logNumber: 1 }))).rejects.toThrow(/below the current/);
  });

  it('is poisoned by a failed append: that edit is not installed and every later change fails', async () => {
    const { set, sink } = await openSet();
    sink.failAt = 2; // the snapshot is record 0
    set.lastSequence = 10;
    const [a, b, c] = [set.newFileNumber(), set.newFileNumber(), set.newFileNumber()];
    const add = (n: number): Promise<Version> => set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(n, 'a', 'b', n, n) }] }));
    const results = await Promise.allSettled([add(a), add(b), add(c)]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_IO' } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: expect.any(ReadOnlyError) });
    expect(((results[2] as PromiseRejectedResult).reason as Error).cause).toBeInstanceOf(IOError);
    expect(numbersOf(set.current.levels[0]!)).toEqual([a]);
    expect(set.failed).toBe(true);
    expect(set.failure).toBeInstanceOf(IOError);
    sink.failAt = -1;
    await expect(add(c)).rejects.toThrow(ReadOnlyError);
    await expect(set.useManifest(sink.opener)).rejects.toThrow(ReadOnlyError);
    expect(sink.payloads.length).toBe(2);
  });

  it('is poisoned when opening a fresh MANIFEST fails', async () => {
    const set = new VersionSet();
    await expect(set.useManifest(() => Promise.reject(new IOError('EIO')))).rejects.toThrow(IOError);
    await expect(set.logAndApply(edit({}))).rejects.toThrow(ReadOnlyError);
  });

  it('switches MANIFEST at its turn in the queue, with a snapshot of the state before it', async () => {
    const { set, sink } = await openSet();
    set.lastSequence = 3;
    const n = set.newFileNumber();
    const first = set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(n, 'a', 'b', 1, 3) }] }));
    const fresh = new MemorySink();
    const switched = set.useManifest(fresh.opener);
    const after = set.logAndApply(edit({ deletedFiles: [{ level: 0, number: n }] }));
    await Promise.all([first, switched, after]);
    expect(sink.payloads.length).toBe(2);
    expect(fresh.payloads.length).toBe(2);
    const recovered = new VersionSet();
    recovered.recover(fresh.payloads.slice(0, 1), 'MANIFEST-2');
    expect(numbersOf(recovered.current.levels[0]!)).toEqual([n]);
    const full = new VersionSet();
    full.recover(fresh.payloads, 'MANIFEST-2');
    expectSameState(set, full);
    await expect(new VersionSet().logAndApply(edit({}))).rejects.toThrow(/no MANIFEST/);
  });

  it('keeps files of referenced versions live until they are released', async () => {
    const { set } = await openSet();
    set.lastSequence = 10;
    const [a, b] = [set.newFileNumber(), set.newFileNumber()];
    await set.logAndApply(edit({ newFiles: [{ level: 0, meta: meta(a, 'a', 'b', 1, 5) }] }));
    const reader = set.refCurrent();
    await set.logAndApply(edit({ deletedFiles: [{ level: 0, number: a }], newFiles: [{ level: 1, meta: meta(b, 'a', 'b', 1, 5) }] }));
    expect([...set.liveFiles()].sort((x, y) => x - y)).toEqual([a, b]);
    const reader2 = set.refCurrent();
    await set.logAndApply(edit({ deletedFiles: [{ level: 1, number: b }] }));
    reader.unref();
    expect([...set.liveFiles()]).toEqual([b]);
    reader2.unref();
    expect([...set.liveFiles()]).toEqual([]);
    expect(set.current.summary().every((s) => s.files === 0)).toBe(true);
  });

  it('allocates file numbers and never lets the last sequence go back', () => {
    const set = new VersionSet();
    expect([set.newFileNumber(), set.newFileNumber()]).toEqual([1, 2]);
    set.markFileNumberUsed(10);
    set.markFileNumberUsed(4);
    expect(set.newFileNumber()).toBe(11);
    set.lastSequence = 7;
    expect(() => {
      set.lastSequence = 6;
    }).toThrow(InvalidArgumentError);
    expect(() => set.markFileNumberUsed(-1)).toThrow(InvalidArgumentError);
  });

  it('reports broken MANIFEST contents as CorruptionError naming the file and record', () => {
    const snapshot = (parts: Partial<VersionEdit>): Uint8Array =>
      encodeVersionEdit(edit({ comparator: COMPARATOR_NAME, logNumber: 0, nextFileNumber: 10, lastSequence: 100, ...parts }));
    const add = (n: number, level = 0, lo = 'a', hi = 'b'): Uint8Array => encodeVersionEdit(edit({ newFiles: [{ level, meta: meta(n, lo, hi) }] }));
    const cases: [Uint8Array[], string[]][] = [
      [[], ['no version edits']],
      [[snapshot({ comparator: 'leveldb.BytewiseComparator' })], ['record 0', 'comparator']],
      [[snapshot({}), encodeVersionEdit(edit({ deletedFiles: [{ level: 0, number: 3 }] }))], ['record 1', 'cannot delete file 3']],
      [[snapshot({}), add(3), add(3, 2)], ['record 2', 'cannot add file 3']],
      [[snapshot({}), add(3, 1), add(4, 1, 'b', 'c')], ['overlap']],
      [[snapshot({}), add(10)], ['file 10 was never allocated']],
      [[snapshot({ logNumber: 12 })], ['log number 12']],
      [[snapshot({}), encodeVersionEdit(edit({ lastSequence: 99 }))], ['record 1', 'last sequence went back']],
      [[snapshot({}), encodeVersionEdit(edit({ nextFileNumber: 9 }))], ['next file number went back']],
      [[snapshot({}), encodeVersionEdit(edit({ logNumber: 3 })), encodeVersionEdit(edit({ logNumber: 2 }))], ['record 2', 'log number went back']],
      [[snapshot({ newFiles: [{ level: 0, meta: meta(3, 'a', 'b', 1, 101) }] })], ['sequence 101']],
      [[encodeVersionEdit(edit({ comparator: COMPARATOR_NAME, logNumber: 0, nextFileNumber: 2 }))], ['no log number, next file number or last sequence']],
      [[snapshot({}), new Uint8Array([77])], ['record 1', 'unknown tag 77']],
    ];
    for (const [payloads, fragments] of cases) {
      expectCorruption(() => new VersionSet().recover(payloads, 'MANIFEST-000009'), 'MANIFEST-000009', ...fragments);
    }
  });

  it('recovers once, on a fresh set only', async () => {
    const payload = encodeVersionEdit(edit({ logNumber: 0, nextFileNumber: 2, lastSequence: 0 }));
    const set = new VersionSet();
    set.recover([payload], 'M');
    expect(() => set.recover([payload], 'M')).toThrow(InvalidArgumentError);
    const { set: used } = await openSet();
    expect(() => used.recover([payload], 'M')).toThrow(InvalidArgumentError);
  });
});
