import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compact, type CompactionRequest, type CompactionResult, type KeyRange } from '../src/compaction/compactor.js';
import { ClosedError, CorruptionError, InvalidArgumentError, IOError, ReadOnlyError } from '../src/errors.js';
import { type CompactionIo, type StreamedCompaction, TableWorker } from '../src/flush/table-worker.js';
import { IO_CHUNK } from '../src/flush/protocol.js';
import type { TableProperties } from '../src/table/format.js';
import type { FileHandle } from '../src/fs/filesystem.js';
import { MemoryFile } from '../src/fs/memory-file.js';
import { Kind, makeInternalKey, parseTrailer, userKeyOf } from '../src/keys.js';
import { TableBuilder, type TableBuilderOptions } from '../src/table/builder.js';
import { TableReader } from '../src/table/reader.js';
import { TestBlockCache } from './support/block-cache.js';
import { type Rec, EMPTY, NOW, compareBytes, compareRecs, expiryArb, expiryIn, hex, ikeyOf, kindArb, userKeyArb, withExpiry } from './support/internal-model.js';

const CREATION_TIME = 1_700_000_000_000;

// ---------------------------------------------------------------------------
// Helpers

/** A plain assertion for hot loops, where vitest's expect is too slow. */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(`check failed: ${what()}`);
}

function showRec(r: Rec): string {
  return `${hex(r.key)}#${r.seq}/${r.kind}=${hex(r.value)}`;
}

/** A table file holding `recs` (any order). */
function buildTable(recs: Rec[], options: TableBuilderOptions = {}): Uint8Array {
  const builder = new TableBuilder({ creationTime: CREATION_TIME, ...options });
  for (const r of [...recs].sort(compareRecs)) builder.addBytes(ikeyOf(r), r.value);
  return builder.finish().bytes;
}

/** Every entry of a table file, in order. */
function readTable(bytes: Uint8Array, name = 'output'): Rec[] {
  const cache = new TestBlockCache(1 << 16);
  const reader = TableReader.open(new MemoryFile(name, bytes), 1, bytes.length, cache);
  const it = reader.iterator();
  const out: Rec[] = [];
  try {
    for (it.seekToFirst(); it.valid(); it.next()) {
      const key = it.key().slice();
      const { seq, kind } = parseTrailer(key);
      out.push({ key: userKeyOf(key).slice(), seq, kind, value: it.value().slice() });
    }
  } finally {
    it.close();
    reader.close();
  }
  expect(cache.pinned).toBe(0);
  return out;
}

function range(smallest: Uint8Array, largest: Uint8Array): KeyRange {
  return { smallest: makeInternalKey(smallest, 1000, Kind.Value), largest: makeInternalKey(largest, 0, Kind.Deletion) };
}

/** Sorted, non-overlapping [a, b] user-key ranges from a pool of keys: distinct keys sorted, then paired. */
function toRanges(keys: Uint8Array[]): Array<[Uint8Array, Uint8Array]> {
  const sorted = [...new Map(keys.map((k) => [hex(k), k])).values()].sort(compareBytes);
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (let i = 0; i < sorted.length; i += 2) out.push([sorted[i]!, sorted[Math.min(i + 1, sorted.length - 1)]!]);
  return out;
}

/** The model of "may this key exist below": a linear scan, independent of the compactor's binary search. */
function inRanges(levels: Array<Array<[Uint8Array, Uint8Array]>>, key: Uint8Array): boolean {
  return levels.some((level) => level.some(([a, b]) => compareBytes(a, key) <= 0 && compareBytes(key, b) <= 0));
}

interface Expected {
  kept: Rec[];
  shadowed: number;
  tombstones: number;
}

/** A deletion, or a value whose expiry is <= NOW (what the compactions below are told is now): both read as deletions. */
function deletes(r: Rec): boolean {
  return r.kind === Kind.Deletion || (r.kind === Kind.ValueWithExpiry && expiryIn(r.value) <= NOW);
}

/**
 * The retention rule, stated on the model: walking each user key's entries
 * newest first, an entry goes when the next newer one is at or below the
 * smallest snapshot; a deletion (or expired value) at or below it goes when
 * no deeper range holds its key. Range deletions always stay and shadow nothing.
 */
function expectedSurvivors(recs: Rec[], smallestSnapshot: number, below: (key: Uint8Array) => boolean): Expected {
  const sorted = [...recs].sort(compareRecs);
  const kept: Rec[] = [];
  let shadowed = 0;
  let tombstones = 0;
  let newer = Infinity;
  sorted.forEach((r, i) => {
    if (i === 0 || compareBytes(sorted[i - 1]!.key, r.key) !== 0) newer = Infinity;
    if (r.kind === Kind.RangeDeletion) {
      kept.push(r);
      return;
    }
    if (newer <= smallestSnapshot) shadowed++;
    else if (deletes(r) && r.seq <= smallestSnapshot && !below(r.key)) tombstones++;
    else kept.push(r);
    newer = r.seq;
  });
  return { kept, shadowed, tombstones };
}

/** What a reader at `snapshot` gets for `key`: the newest visible point entry here, else whatever lies below. */
function readAt(entries: Rec[], below: (key: Uint8Array) => boolean, key: Uint8Array, snapshot: number): string | undefined {
  let best: Rec | undefined;
  for (const r of entries) {
    if (r.kind === Kind.RangeDeletion || r.seq > snapshot || compareBytes(r.key, key) !== 0) continue;
    if (best === undefined || r.seq > best.seq) best = r;
  }
  if (best === undefined) return below(key) ? 'below' : undefined;
  return deletes(best) ? undefined : hex(best.value);
}

/** A random history: each entry gets the next sequence and lands in one of the input tables. */
const historyArb = fc.array(
  fc.record({
    key: userKeyArb,
    kind: kindArb,
    value: fc.uint8Array({ maxLength: 40 }),
    expiresAt: expiryArb,
    table: fc.nat(3),
  }),
  { maxLength: 160 },
);

const optionsArb = fc.record({
  blockSize: fc.integer({ min: 32, max: 512 }),
  restartInterval: fc.integer({ min: 1, max: 16 }),
  compression: fc.constantFrom('lz4' as const, 'none' as const),
  targetFileSize: fc.integer({ min: 200, max: 4000 }),
  maxGrandparentOverlapBytes: fc.integer({ min: 1, max: 12_000 }),
});

// ---------------------------------------------------------------------------

describe('compact against a model', () => {
  it('keeps exactly the entries the rule keeps, reads the same at every snapshot, and splits within bounds', () => {
    fc.assert(
      fc.property(
        historyArb,
        fc.nat(200),
        fc.array(fc.array(userKeyArb, { maxLength: 8 }), { maxLength: 3 }),
        fc.array(fc.tuple(userKeyArb, fc.integer({ min: 1, max: 4000 })), { maxLength: 12 }),
        optionsArb,
        (history, snapshotDraw, deeperKeys, grandparentDraw, o) => {
          const stored = (h: (typeof history)[number]) => (h.kind === Kind.Deletion ? EMPTY : h.kind === Kind.ValueWithExpiry ? withExpiry(h.expiresAt, h.value) : h.value);
          const recs: Rec[] = history.map((h, i) => ({ key: h.key, seq: i + 1, kind: h.kind, value: stored(h) }));
          const lastSeq = recs.length;
          const smallestSnapshot = snapshotDraw % (lastSeq + 2);
          const deeper = deeperKeys.map(toRanges);
          const below = (key: Uint8Array): boolean => inRanges(deeper, key);
          const gpRanges = toRanges(grandparentDraw.map(([k]) => k));
          const grandparents = gpRanges.map(([a, b], i) => ({ ...range(a, b), size: grandparentDraw[i]![1] }));

          const tableOptions = { blockSize: o.blockSize, restartInterval: o.restartInterval, compression: o.compression, creationTime: CREATION_TIME };
          const inputs = [0, 1, 2, 3]
            .map((t) => recs.filter((_, i) => history[i]!.table === t))
            .filter((part) => part.length > 0)
            .map((part, i) => ({ number: 10 + i, bytes: buildTable(part, tableOptions) }));
          const bytesRead = inputs.reduce((n, input) => n + input.bytes.length, 0);

          const { outputs, stats } = compact({
            inputs,
            smallestSnapshot,
            now: NOW,
            deeperLevels: deeper.map((level) => level.map(([a, b]) => range(a, b))),
            grandparents,
            targetFileSize: o.targetFileSize,
            maxGrandparentOverlapBytes: o.maxGrandparentOverlapBytes,
            table: tableOptions,
          });

          // The surviving entries are exactly the model's, in order.
          const expected = expectedSurvivors(recs, smallestSnapshot, below);
          const perOutput = outputs.map((out) => readTable(out.bytes));
          const actual = perOutput.flat();
          expect(actual.map(showRec)).toEqual(expected.kept.map(showRec));

          // The key property: every reader at or above the smallest snapshot sees the same thing.
          const probeKeys = [...recs.map((r) => r.key), ...deeper.flat().flat(), new Uint8Array([0x62])];
          for (let s = smallestSnapshot; s <= Math.max(smallestSnapshot, lastSeq); s++) {
            for (const key of probeKeys) {
              const before = readAt(recs, below, key, s);
              const after = readAt(actual, below, key, s);
              check(before === after, () => `key ${hex(key)} at snapshot ${s}: ${before} before, ${after} after`);
            }
          }

          // A tombstone is gone only if shadowed or if no deeper range holds its key.
          const survivors = new Set(actual.map(showRec));
          for (const r of recs) {
            if (!deletes(r) || survivors.has(showRec(r)) || !below(r.key)) continue;
            const shadowedBy = recs.some((n) => compareBytes(n.key, r.key) === 0 && n.seq > r.seq && n.seq <= smallestSnapshot && n.kind !== Kind.RangeDeletion);
            check(shadowedBy, () => `tombstone ${showRec(r)} dropped though a deeper level holds its key`);
          }

          // Outputs: sorted, disjoint by user key, properties that describe them, sizes and overlaps within bounds.
          outputs.forEach((out, i) => {
            const entries = perOutput[i]!;
            expect(entries.length).toBeGreaterThan(0);
            const first = entries[0]!;
            const last = entries[entries.length - 1]!;
            expect(hex(out.properties.smallestKey)).toBe(hex(ikeyOf(first)));
            expect(hex(out.properties.largestKey)).toBe(hex(ikeyOf(last)));
            expect(out.properties.entries).toBe(entries.length);
            expect(out.properties.smallestSeq).toBe(Math.min(...entries.map((r) => r.seq)));
            expect(out.properties.largestSeq).toBe(Math.max(...entries.map((r) => r.seq)));
            if (i > 0) {
              const prev = perOutput[i - 1]!;
              expect(compareBytes(prev[prev.length - 1]!.key, first.key)).toBeLessThan(0);
            }
            // Below the target when its last user key began, so over it by at most that key's entries. With tiny
            // blocks each of them may fill a block of its own: its trailer (8) and length varints (3), the block's
            // restart array, count and trailer (13), and an index entry (a separator of up to key + 8 bytes and a handle).
            const lastKeyBytes = entries.filter((r) => compareBytes(r.key, last.key) === 0).reduce((n, r) => n + 2 * r.key.length + r.value.length + 48, 0);
            // Plus the range-deletion fragments clipped into it, each a start, an end and a trailer.
            const boundLength = Math.max(0, ...recs.filter((r) => r.kind === Kind.RangeDeletion).flatMap((r) => [r.key.length, r.value.length]));
            const tombstoneBytes = out.properties.rangeDeletions * (2 * boundLength + 32);
            expect(out.bytes.length).toBeLessThanOrEqual(o.targetFileSize + lastKeyBytes + tombstoneBytes + 128);
            // LevelDB's bound: the grandparents this output spans (largest key in [first, last)) fit the limit.
            const spanned = grandparents
              .filter((g) => compareBytes(userKeyOf(g.largest), first.key) >= 0 && compareBytes(userKeyOf(g.largest), last.key) < 0)
              .reduce((n, g) => n + g.size, 0);
            expect(spanned).toBeLessThanOrEqual(o.maxGrandparentOverlapBytes);
          });

          expect(stats).toEqual({
            entriesIn: recs.length,
            entriesOut: expected.kept.length,
            droppedShadowed: expected.shadowed,
            droppedTombstones: expected.tombstones,
            bytesRead,
            bytesWritten: outputs.reduce((n, out) => n + out.bytes.length, 0),
          });
          expect(stats.entriesIn).toBe(stats.entriesOut + stats.droppedShadowed + stats.droppedTombstones);
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------

const enc = new TextEncoder();

function key(i: number): Uint8Array {
  return enc.encode(`key${String(i).padStart(6, '0')}`);
}

function baseRequest(inputs: CompactionRequest['inputs']): CompactionRequest {
  return { inputs, smallestSnapshot: 0, deeperLevels: [], grandparents: [], table: { compression: 'none', creationTime: CREATION_TIME } };
}

describe('compact: splitting', () => {
  it('cuts outputs at the target size, each close to it', () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 4000; i++) recs.push({ key: key(i), seq: i + 1, kind: Kind.Value, value: enc.encode(`value ${i} `.repeat(3)) });
    const inputs = [0, 1].map((t) => ({ number: t + 1, bytes: buildTable(recs.filter((_, i) => i % 2 === t)) }));
    const target = 16 * 1024;
    const { outputs, stats } = compact({ ...baseRequest(inputs), targetFileSize: target });
    expect(stats.entriesOut).toBe(4000);
    expect(outputs.length).toBeGreaterThan(5);
    outputs.forEach((out, i) => {
      expect(out.bytes.length).toBeLessThanOrEqual(target + 200);
      if (i < outputs.length - 1) expect(out.bytes.length).toBeGreaterThanOrEqual(target - 200);
    });
  });

  it('never splits the versions of one user key, even past the target', () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 500; i++) recs.push({ key: key(7), seq: i + 1, kind: Kind.Value, value: new Uint8Array(100).fill(i & 0xff) });
    recs.push({ key: key(8), seq: 501, kind: Kind.Value, value: EMPTY });
    const { outputs, stats } = compact({ ...baseRequest([{ number: 1, bytes: buildTable(recs) }]), targetFileSize: 1024 });
    expect(stats.entriesOut).toBe(501);
    expect(outputs.map((out) => readTable(out.bytes).length)).toEqual([500, 1]);
    expect(outputs[0]!.bytes.length).toBeGreaterThan(50 * 1024);
  });

  it('cuts an output before it overlaps too many grandparent bytes', () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 200; i++) recs.push({ key: key(i), seq: i + 1, kind: Kind.Value, value: EMPTY });
    // Grandparents of 1000 bytes, each spanning ten of the keys.
    const grandparents = [];
    for (let g = 0; g < 20; g++) grandparents.push({ ...range(key(g * 10), key(g * 10 + 9)), size: 1000 });
    const request = { ...baseRequest([{ number: 1, bytes: buildTable(recs) }]), grandparents, targetFileSize: 1 << 30 };
    expect(compact(request).outputs.length).toBe(1);
    const { outputs } = compact({ ...request, maxGrandparentOverlapBytes: 2500 });
    // Each output spans at most two whole grandparents (2000 bytes), and passing a third cuts it.
    const firsts = outputs.map((out) => new TextDecoder().decode(userKeyOf(out.properties.smallestKey)));
    expect(firsts).toEqual(['key000000', 'key000030', 'key000060', 'key000090', 'key000120', 'key000150', 'key000180']);
  });
});

describe('compact: edge cases and errors', () => {
  it('returns no outputs when every entry is dropped', () => {
    const recs: Rec[] = [
      { key: key(1), seq: 1, kind: Kind.Value, value: enc.encode('a') },
      { key: key(1), seq: 2, kind: Kind.Deletion, value: EMPTY },
      { key: key(2), seq: 3, kind: Kind.Deletion, value: EMPTY },
    ];
    const result = compact({ ...baseRequest([{ number: 1, bytes: buildTable(recs) }]), smallestSnapshot: 3 });
    expect(result.outputs).toEqual([]);
    expect(result.stats).toMatchObject({ entriesIn: 3, entriesOut: 0, droppedShadowed: 1, droppedTombstones: 2, bytesWritten: 0 });
  });

  it('keeps a tombstone whose key a deeper level may hold, and the versions a snapshot still reads', () => {
    const recs: Rec[] = [
      { key: key(1), seq: 1, kind: Kind.Value, value: enc.encode('old') },
      { key: key(1), seq: 5, kind: Kind.Deletion, value: EMPTY },
      { key: key(1), seq: 9, kind: Kind.Value, value: enc.encode('new') },
    ];
    const bytes = buildTable(recs);
    const below = [[range(key(0), key(1))]];
    const result = compact({ ...baseRequest([{ number: 1, bytes }]), smallestSnapshot: 5, deeperLevels: below });
    expect(readTable(result.outputs[0]!.bytes).map((r) => r.seq)).toEqual([9, 5]);
    const noneBelow = compact({ ...baseRequest([{ number: 1, bytes }]), smallestSnapshot: 4 });
    expect(readTable(noneBelow.outputs[0]!.bytes).map((r) => r.seq)).toEqual([9, 5, 1]);
  });

  it('reports a damaged input as corruption naming its file', () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 100; i++) recs.push({ key: key(i), seq: i + 1, kind: Kind.Value, value: enc.encode(`v${i}`) });
    const bytes = buildTable(recs);
    bytes[10] ^= 0x40; // inside the first data block
    const good = buildTable([{ key: key(1000), seq: 500, kind: Kind.Value, value: EMPTY }]);
    const run = (): CompactionResult => compact(baseRequest([{ number: 12, bytes: good }, { number: 7, bytes }]));
    expect(run).toThrow(CorruptionError);
    expect(run).toThrow(/000007\.vt/);
    expect(() => compact(baseRequest([{ number: 7, bytes: bytes.subarray(0, 50) }]))).toThrow(CorruptionError);
  });

  it('rejects bad arguments', () => {
    const bytes = buildTable([{ key: key(1), seq: 1, kind: Kind.Value, value: EMPTY }]);
    const request = baseRequest([{ number: 1, bytes }]);
    expect(() => compact({ ...request, smallestSnapshot: -1 })).toThrow(InvalidArgumentError);
    expect(() => compact({ ...request, smallestSnapshot: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => compact({ ...request, targetFileSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => compact({ ...request, maxGrandparentOverlapBytes: -5 })).toThrow(InvalidArgumentError);
    expect(() => compact({ ...request, table: { blockSize: 0 } })).toThrow(InvalidArgumentError);
    const short = { smallest: new Uint8Array(3), largest: new Uint8Array(3) };
    expect(() => compact({ ...request, deeperLevels: [[short]] })).toThrow(InvalidArgumentError);
    expect(() => compact({ ...request, grandparents: [{ ...short, size: 1 }] })).toThrow(InvalidArgumentError);
  });
});

/** Allocates until linear memory grows, then frees it all: every view of the old buffer is detached. */
describe('compact: the merge kernel', () => {
  it('keeps the model\'s entries whatever their size: runs that fill, entries larger than a run, keys that outgrow the cursors\' buffers', () => {
    // The kernel's run holds 64 KiB: values around and past that take the run-full and host paths;
    // keys of up to 3 KiB make the block cursors reallocate their key copies (and linear memory grow) mid-merge.
    const sizeArb = fc.constantFrom(0, 10, 30_000, 65_000, 70_000, 140_000);
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.nat(12), long: fc.boolean(), kind: fc.constantFrom(Kind.Value, Kind.Value, Kind.Deletion), size: sizeArb, table: fc.nat(2) }), { maxLength: 40 }),
        fc.nat(45),
        (history, snapshotDraw) => {
          const userKey = (k: number, long: boolean) => enc.encode(`${String(k).padStart(3, '0')}${long ? 'x'.repeat(3000) : ''}`);
          const recs: Rec[] = history.map((h, i) => ({
            key: userKey(h.key, h.long),
            seq: i + 1,
            kind: h.kind,
            value: h.kind === Kind.Deletion ? EMPTY : new Uint8Array(h.size).fill(i & 0xff),
          }));
          const smallestSnapshot = snapshotDraw % (recs.length + 2);
          const inputs = [0, 1, 2]
            .map((t) => recs.filter((_, i) => history[i]!.table === t))
            .filter((part) => part.length > 0)
            .map((part, i) => ({ number: 1 + i, bytes: buildTable(part, { blockSize: 256 }) }));
          const { outputs, stats } = compact({ ...baseRequest(inputs), smallestSnapshot, targetFileSize: 200_000 });
          const expected = expectedSurvivors(recs, smallestSnapshot, () => false);
          expect(outputs.flatMap((out) => readTable(out.bytes)).map(showRec)).toEqual(expected.kept.map(showRec));
          expect([stats.entriesIn, stats.entriesOut, stats.droppedShadowed, stats.droppedTombstones]).toEqual([recs.length, expected.kept.length, expected.shadowed, expected.tombstones]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('compact: where outputs are cut', () => {
  it('cuts exactly where checking the size at every user key would, whatever the key lengths, blocks, filter and compression', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.nat(60), keyLength: fc.constantFrom(1, 8, 40, 300), kind: fc.constantFrom(Kind.Value, Kind.Value, Kind.Value, Kind.Deletion), size: fc.nat(1500), table: fc.nat(2) }), { maxLength: 150 }),
        fc.record({
          blockSize: fc.integer({ min: 32, max: 1024 }),
          restartInterval: fc.integer({ min: 1, max: 16 }),
          bitsPerKey: fc.constantFrom(10, 64),
          compression: fc.constantFrom('lz4' as const, 'none' as const),
          targetFileSize: fc.integer({ min: 300, max: 20_000 }),
        }),
        fc.nat(160),
        (history, o, snapshotDraw) => {
          const recs: Rec[] = history.map((h, i) => ({
            key: enc.encode(String(h.key).padStart(h.keyLength, String.fromCharCode(97 + (h.key % 26)))),
            seq: i + 1,
            kind: h.kind,
            value: h.kind === Kind.Deletion ? EMPTY : new Uint8Array(h.size).fill(i % 7),
          }));
          const smallestSnapshot = snapshotDraw % (recs.length + 2);
          const { targetFileSize, ...shape } = o;
          const table = { ...shape, creationTime: CREATION_TIME };
          const inputs = [0, 1, 2]
            .map((t) => recs.filter((_, i) => history[i]!.table === t))
            .filter((part) => part.length > 0)
            .map((part, i) => ({ number: 1 + i, bytes: buildTable(part, table) }));
          const { outputs } = compact({ inputs, smallestSnapshot, deeperLevels: [], grandparents: [], targetFileSize, table });

          // The model: the survivors added one at a time, an output cut before a user key once it reached the target.
          const expected: string[] = [];
          let builder: TableBuilder | undefined;
          let previous: Uint8Array | undefined;
          for (const r of expectedSurvivors(recs, smallestSnapshot, () => false).kept) {
            const newUserKey = previous === undefined || compareBytes(previous, r.key) !== 0;
            if (newUserKey && builder !== undefined && builder.estimatedFileSize >= targetFileSize) {
              expected.push(hex(builder.finish().bytes));
              builder = undefined;
            }
            builder ??= new TableBuilder(table);
            builder.addBytes(ikeyOf(r), r.value);
            previous = r.key;
          }
          if (builder !== undefined) expected.push(hex(builder.finish().bytes));
          expect(outputs.map((out) => hex(out.bytes))).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('MemoryFile', () => {
  it('reads like a file: positional, short at the end, 0 past it; refuses writes and use after close', async () => {
    const file: FileHandle = new MemoryFile('mem', new Uint8Array([1, 2, 3, 4, 5]));
    const out = new Uint8Array(4);
    expect(file.size()).toBe(5);
    expect(file.readSync(out, 1, 3, 1)).toBe(3);
    expect([...out]).toEqual([0, 2, 3, 4]);
    expect(file.readSync(out, 0, 4, 3)).toBe(2);
    expect([...out]).toEqual([4, 5, 3, 4]);
    expect(file.readSync(out, 0, 4, 5)).toBe(0);
    expect(() => file.readSync(out, 2, 4, 0)).toThrow(InvalidArgumentError);
    expect(() => file.writeSync(out, 0, 1, 0)).toThrow(ReadOnlyError);
    await expect(file.write(out, 0, 1, null)).rejects.toThrow(ReadOnlyError);
    await file.datasync();
    file.closeSync();
    file.closeSync();
    expect(() => file.readSync(out, 0, 1, 0)).toThrow(ClosedError);
    expect(() => file.size()).toThrow(ClosedError);
  });
});

/** A CompactionIo over tables in memory: outputs are collected; `failReadAt` makes the n-th read fail. */
class MemoryIo implements CompactionIo {
  readonly outputs: Array<{ bytes: Uint8Array; size: number; properties: TableProperties }> = [];
  reads = 0;
  constructor(
    readonly tables: Uint8Array[],
    readonly failReadAt = Number.POSITIVE_INFINITY,
  ) {}
  async read(index: number, into: Uint8Array, position: number): Promise<number> {
    if (++this.reads === this.failReadAt) throw new IOError('injected read failure');
    const bytes = this.tables[index]!.subarray(position, position + into.length);
    into.set(bytes);
    return bytes.length;
  }
  async write(piece: Uint8Array, position: number): Promise<void> {
    if (position === 0) this.outputs.push({ bytes: new Uint8Array(0), size: -1, properties: undefined as unknown as TableProperties });
    const out = this.outputs.at(-1)!;
    expect(position).toBe(out.bytes.length);
    const grown = new Uint8Array(out.bytes.length + piece.length);
    grown.set(out.bytes);
    grown.set(piece, out.bytes.length);
    out.bytes = grown;
  }
  async finish(size: number, properties: TableProperties): Promise<void> {
    const out = this.outputs.at(-1)!;
    out.size = size;
    out.properties = properties;
  }
  newOutputNumber(): number {
    throw new Error('only a compaction doing its own I/O asks for file numbers');
  }
}

describe('TableWorker.compact', () => {
  it('runs a compaction in the worker, inputs and outputs streamed in pieces: the same bytes as on this thread', async () => {
    const recs: Rec[] = [];
    // Values large enough that inputs and outputs span several IO_CHUNK pieces.
    let x = 7;
    const noise = (n: number): Uint8Array => {
      const out = new Uint8Array(n);
      for (let b = 0; b < n; b++) out[b] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
      return out;
    };
    for (let i = 0; i < 12_000; i++) {
      const k = key(i % 6000);
      recs.push({ key: k, seq: i + 1, kind: i % 7 === 0 ? Kind.Deletion : Kind.Value, value: i % 7 === 0 ? EMPTY : noise(60 + (i % 80)) });
    }
    const tables = [0, 1, 2].map((t) => buildTable(recs.filter((_, i) => i % 3 === t), { compression: 'lz4' }));
    expect(Math.max(...tables.map((t) => t.length))).toBeGreaterThan(IO_CHUNK);
    const request = (): CompactionRequest => ({
      inputs: tables.map((bytes, i) => ({ number: i + 1, bytes })),
      smallestSnapshot: 10_000,
      deeperLevels: [[range(key(0), key(100))]],
      grandparents: [{ ...range(key(200), key(400)), size: 10_000 }],
      targetFileSize: 300 * 1024,
      table: { creationTime: CREATION_TIME },
    });
    const streamed = (): StreamedCompaction => ({ ...request(), inputs: tables.map((bytes, i) => ({ number: i + 1, size: bytes.length })) });
    const local = compact(request());
    expect(local.outputs.length).toBeGreaterThan(2);
    expect(Math.max(...local.outputs.map((o) => o.bytes.length))).toBeGreaterThan(IO_CHUNK);
    const worker = new TableWorker();
    try {
      const io = new MemoryIo(tables);
      const { stats } = await worker.compact(streamed(), io);
      expect(stats).toEqual(local.stats);
      expect(io.outputs.length).toBe(local.outputs.length);
      io.outputs.forEach((out, i) => {
        expect(out.size).toBe(out.bytes.length);
        expect(hex(out.bytes)).toBe(hex(local.outputs[i]!.bytes));
        expect(out.properties).toEqual(local.outputs[i]!.properties);
      });
      // Whole files are never read at once: the worker asks piece by piece.
      expect(io.reads).toBeGreaterThan(tables.length * 2);

      // A damaged input comes back as a CorruptionError, and the worker keeps serving.
      const damaged = tables.map((t) => t.slice());
      damaged[1]![5] ^= 1;
      await expect(worker.compact(streamed(), new MemoryIo(damaged))).rejects.toThrow(CorruptionError);
      // A read failing mid-stream comes back as an IOError, and the worker keeps serving.
      const failing = new MemoryIo(tables, io.reads - 2);
      await expect(worker.compact(streamed(), failing)).rejects.toThrow(IOError);
      expect(failing.reads).toBe(io.reads - 2);
      expect((await worker.compact(streamed(), new MemoryIo(tables))).stats).toEqual(local.stats);
    } finally {
      await worker.terminate();
    }
  });
});
