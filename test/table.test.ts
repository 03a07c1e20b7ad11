import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClosedError, CorruptionError, InvalidArgumentError } from '../src/errors.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import type { InternalIterator } from '../src/iterator/internal.js';
import { Kind, MAX_SEQUENCE, compareInternalKeys, makeInternalKey, makeSeekKey, parseTrailer, userKeyOf } from '../src/keys.js';
import { TableBuilder, type TableBuilderOptions } from '../src/table/builder.js';
import { BLOCK_TRAILER_SIZE, FOOTER_SIZE, TABLE_MAGIC, maxCompressedSize, readHandle } from '../src/table/format.js';
import { readVarint } from '../src/varint.js';
import { TableReader } from '../src/table/reader.js';
import { writeSeparator } from '../src/table/separator.js';
import { BlockCursor, Region, crc32c, lz4, maskCrc } from '../src/wasm/index.js';
import { TestBlockCache } from './support/block-cache.js';
import { BlockMap } from '../src/wasm/block-map.js';
import { compressibleBytes, randomBytes } from './support/random.js';

type Entry = { key: Uint8Array; value: Uint8Array };

const CREATION_TIME = 1_700_000_000_000;

let dir = '';
let fileCounter = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varve-table-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Helpers

function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(buf(a), buf(b)) === 0;
}

function hex(b: Uint8Array): string {
  return buf(b).toString('hex');
}

/** A plain assertion for hot loops, where vitest's expect is too slow. */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(`check failed: ${what()}`);
}

function sortEntries(entries: Entry[]): Entry[] {
  const sorted = [...entries].sort((a, b) => compareInternalKeys(a.key, b.key));
  return sorted.filter((e, i) => i === 0 || compareInternalKeys(sorted[i - 1]!.key, e.key) !== 0);
}

function lowerBound(entries: Entry[], target: Uint8Array): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareInternalKeys(entries[mid]!.key, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The model of get: newest entry of userKey with seq <= snapshot. */
function modelGet(entries: Entry[], userKey: Uint8Array, snapshot: number): { kind: number; seq: number; value: Uint8Array } | undefined {
  const i = lowerBound(entries, makeSeekKey(userKey, snapshot));
  const e = entries[i];
  if (e === undefined || !sameBytes(userKeyOf(e.key), userKey)) return undefined;
  const { seq, kind } = parseTrailer(e.key);
  return { kind, seq, value: e.value };
}

/** Memtable export format: [u32 key length][u32 value length][key][value]... */
function encodeRun(entries: Entry[]): Uint8Array {
  const size = entries.reduce((n, e) => n + 8 + e.key.length + e.value.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const e of entries) {
    dv.setUint32(p, e.key.length, true);
    dv.setUint32(p + 4, e.value.length, true);
    out.set(e.key, p + 8);
    out.set(e.value, p + 8 + e.key.length);
    p += 8 + e.key.length + e.value.length;
  }
  return out;
}

type AddMode = 'bytes' | 'memory' | 'run';

const memoryInput = new Region(256);

/** Builds a table from sorted entries with one of the three add paths; `cuts` split runs. */
function build(entries: Entry[], options: TableBuilderOptions, mode: AddMode = 'bytes', cuts: number[] = []): Uint8Array {
  const b = new TableBuilder({ creationTime: CREATION_TIME, ...options });
  if (mode === 'run') {
    const points = [...new Set([0, ...cuts.map((c) => c % (entries.length + 1)), entries.length])].sort((x, y) => x - y);
    for (let i = 0; i + 1 < points.length; i++) b.addRun(encodeRun(entries.slice(points[i], points[i + 1])));
  } else {
    for (const e of entries) {
      if (mode === 'bytes') {
        b.addBytes(e.key, e.value);
      } else {
        const ptr = memoryInput.load(Uint8Array.from([...e.key, ...e.value]));
        b.add(ptr, e.key.length, ptr + e.key.length, e.value.length);
      }
    }
  }
  return b.finish().bytes;
}

function writeFile(bytes: Uint8Array): string {
  const p = path.join(dir, `${++fileCounter}.sst`);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Opens a reader over `bytes` written to a fresh file (file number = the file's counter). */
function openTable(bytes: Uint8Array, cache = new TestBlockCache(1 << 20)): { reader: TableReader; cache: TestBlockCache; file: string } {
  const file = writeFile(bytes);
  const handle = nodeFileSystem.open(file, 'read');
  try {
    return { reader: TableReader.open(handle, fileCounter, bytes.length, cache, { blockMap: cache.map }), cache, file };
  } catch (err) {
    handle.closeSync();
    throw err;
  }
}

function scanForward(it: InternalIterator): Entry[] {
  const out: Entry[] = [];
  for (it.seekToFirst(); it.valid(); it.next()) out.push({ key: it.key().slice(), value: it.value().slice() });
  return out;
}

function scanBackward(it: InternalIterator): Entry[] {
  const out: Entry[] = [];
  for (it.seekToLast(); it.valid(); it.prev()) out.push({ key: it.key().slice(), value: it.value().slice() });
  return out.reverse();
}

function expectSameEntries(actual: Entry[], expected: Entry[], what: string): void {
  check(actual.length === expected.length, () => `${what}: ${actual.length} entries, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    check(sameBytes(actual[i]!.key, expected[i]!.key), () => `${what}: key ${i} is ${hex(actual[i]!.key)}, expected ${hex(expected[i]!.key)}`);
    check(sameBytes(actual[i]!.value, expected[i]!.value), () => `${what}: value ${i} differs`);
  }
}

// ---------------------------------------------------------------------------
// Generators

/** Small alphabets make shared prefixes, equal user keys and 0xff bytes common. */
const userKeyArb = fc.uint8Array({ maxLength: 5 }).map((b) => b.map((x) => [0, 1, 2, 0x7f, 0xfe, 0xff][x % 6]!));
const seqArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(MAX_SEQUENCE), fc.integer({ min: 0, max: MAX_SEQUENCE }));
const kindArb = fc.constantFrom(Kind.Deletion, Kind.Value, Kind.Value, Kind.ValueWithExpiry, Kind.RangeDeletion);

type ValueSpec = { type: 'empty' } | { type: 'random' | 'text'; size: number; seed: number };
const valueSpecArb: fc.Arbitrary<ValueSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ type: 'empty' as const }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constantFrom('random' as const, 'text' as const), size: fc.integer({ min: 1, max: 300 }), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('random' as const, 'text' as const), size: fc.integer({ min: 100 * 1024, max: 110 * 1024 }), seed: fc.nat() }) },
);

function makeValue(spec: ValueSpec, kind: number): Uint8Array {
  if (kind === Kind.Deletion || spec.type === 'empty') return new Uint8Array(0);
  return spec.type === 'random' ? randomBytes(spec.size, spec.seed) : compressibleBytes(spec.size, spec.seed);
}

const rawEntryArb = fc.tuple(userKeyArb, seqArb, kindArb, valueSpecArb);
/** Many versions of one user key, so versions span blocks. */
const versionsArb = fc.tuple(userKeyArb, fc.array(fc.tuple(seqArb, kindArb), { maxLength: 60 }));

const entriesArb = fc
  .tuple(fc.array(rawEntryArb, { maxLength: 120 }), fc.option(versionsArb, { nil: undefined }))
  .map(([raw, versions]) => {
    const entries = raw.map(([uk, seq, kind, spec]) => ({ key: makeInternalKey(uk, seq, kind), value: makeValue(spec, kind) }));
    if (versions !== undefined) {
      const [uk, list] = versions;
      for (const [seq, kind] of list) entries.push({ key: makeInternalKey(uk, seq, kind), value: makeValue({ type: 'text', size: 20, seed: seq }, kind) });
    }
    return sortEntries(entries);
  });

const optionsArb: fc.Arbitrary<TableBuilderOptions> = fc.record({
  blockSize: fc.constantFrom(64, 200, 4096),
  restartInterval: fc.constantFrom(1, 3, 16),
  compression: fc.constantFrom('lz4' as const, 'none' as const),
  bitsPerKey: fc.constantFrom(10, 3),
});

// ---------------------------------------------------------------------------

describe('table build then read, against a sorted-array model', () => {
  it('every add path writes the same bytes; scans, gets and seeks match the model', () => {
    fc.assert(
      fc.property(
        entriesArb,
        optionsArb,
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.array(fc.tuple(userKeyArb, seqArb, fc.constantFrom(0, 1, 3, 0xff)), { maxLength: 30 }),
        fc.constantFrom(0, 300, 1 << 20),
        (entries, options, cuts, probes, mappedCapacity) => {
          const bytes = build(entries, options, 'bytes');
          check(sameBytes(build(entries, options, 'memory'), bytes), () => 'add() and addBytes() differ');
          check(sameBytes(build(entries, options, 'run', cuts), bytes), () => 'addRun() and addBytes() differ');

          const { reader, cache } = openTable(bytes);
          const p = reader.properties;
          expect(p.entries).toBe(entries.length);
          expect(p.deletions).toBe(entries.filter((e) => parseTrailer(e.key).kind === Kind.Deletion).length);
          expect(p.rangeDeletions).toBe(entries.filter((e) => parseTrailer(e.key).kind === Kind.RangeDeletion).length);
          expect(p.rawKeyBytes).toBe(entries.reduce((n, e) => n + e.key.length, 0));
          expect(p.rawValueBytes).toBe(entries.reduce((n, e) => n + e.value.length, 0));
          expect(p.creationTime).toBe(CREATION_TIME);
          if (entries.length > 0) {
            expect(hex(p.smallestKey)).toBe(hex(entries[0]!.key));
            expect(hex(p.largestKey)).toBe(hex(entries[entries.length - 1]!.key));
            const seqs = entries.map((e) => parseTrailer(e.key).seq);
            expect(p.smallestSeq).toBe(Math.min(...seqs));
            expect(p.largestSeq).toBe(Math.max(...seqs));
          }

          const it = reader.iterator();
          expectSameEntries(scanForward(it), entries, 'forward scan');
          expectSameEntries(scanBackward(it), entries, 'backward scan');

          // get: every version's own sequence, one below it, the newest snapshot, and random probes.
          const gets: Array<[Uint8Array, number]> = [];
          for (const e of entries) {
            const { seq } = parseTrailer(e.key);
            gets.push([userKeyOf(e.key), seq], [userKeyOf(e.key), Math.max(0, seq - 1)], [userKeyOf(e.key), MAX_SEQUENCE]);
          }
          for (const [uk, seq] of probes) gets.push([uk, seq]);
          const expectGets = (r: TableReader, what: string): void => {
            for (const [uk, snapshot] of gets) {
              const expected = modelGet(entries, uk, snapshot);
              const actual = r.get(uk, snapshot);
              check(
                (actual === undefined) === (expected === undefined) &&
                  (actual === undefined ||
                    (actual.kind === expected!.kind && actual.seq === expected!.seq && sameBytes(actual.value, expected!.value))),
                () => `${what} get(${hex(uk)}, ${snapshot}) = ${JSON.stringify(actual && { ...actual, value: hex(actual.value) })}`,
              );
            }
          };
          expectGets(reader, 'stepwise');
          // Through a block map (one call over cached blocks), twice: the second pass finds what the first cached,
          // unless the cache is too small to keep it.
          const mapped = openTable(bytes, new TestBlockCache(mappedCapacity, new BlockMap()));
          expectGets(mapped.reader, 'mapped, first pass');
          expectGets(mapped.reader, 'mapped, second pass');
          if (mappedCapacity > bytes.length * 2 && gets.length > 0 && entries.length > 0) check(mapped.cache.mapHits > 0, () => 'no get was served through the map');
          expect(mapped.cache.pinned).toBe(0);
          mapped.reader.close();
          mapped.cache.clear();
          expect(mapped.cache.map!.count).toBe(0);
          mapped.cache.map!.destroy();

          // seek / seekForPrev at entry keys and at probe keys, then a step each way.
          const targets = [...entries.map((e) => e.key), ...probes.map(([uk, seq, kind]) => makeInternalKey(uk, seq, kind))];
          for (const target of targets) {
            const i = lowerBound(entries, target);
            it.seek(target);
            check(it.valid() === i < entries.length, () => `seek(${hex(target)}) validity`);
            if (i < entries.length) {
              check(sameBytes(it.key(), entries[i]!.key), () => `seek(${hex(target)}) key`);
              it.prev();
              check(it.valid() === i > 0 && (i === 0 || sameBytes(it.key(), entries[i - 1]!.key)), () => `prev after seek(${hex(target)})`);
            }
            const exact = i < entries.length && compareInternalKeys(entries[i]!.key, target) === 0;
            const j = exact ? i : i - 1;
            it.seekForPrev(target);
            check(it.valid() === j >= 0, () => `seekForPrev(${hex(target)}) validity`);
            if (j >= 0) {
              check(sameBytes(it.key(), entries[j]!.key), () => `seekForPrev(${hex(target)}) key`);
              check(sameBytes(it.value(), entries[j]!.value), () => `seekForPrev(${hex(target)}) value`);
              it.next();
              check(it.valid() === j + 1 < entries.length && (j + 1 >= entries.length || sameBytes(it.key(), entries[j + 1]!.key)), () => `next after seekForPrev`);
            }
          }
          it.close();
          expect(cache.pinned).toBe(0);
          reader.close();
          cache.clear();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('large values (100 KiB+, random and compressible) each fill a block of their own', () => {
    const entries = sortEntries(
      Array.from({ length: 12 }, (_, i) => ({
        key: makeInternalKey(Uint8Array.of(i * 3), i + 1, Kind.Value),
        value: i % 2 === 0 ? randomBytes(100 * 1024 + i, i + 1) : compressibleBytes(120 * 1024, i + 1),
      })),
    );
    const bytes = build(entries, { blockSize: 4096 });
    const { reader, cache } = openTable(bytes);
    expect(reader.properties.dataBlocks).toBe(12);
    // Compressible values shrink; random ones are stored raw.
    const total = (odd: number) => entries.filter((_, i) => i % 2 === odd).reduce((n, e) => n + e.value.length, 0);
    expect(bytes.length).toBeGreaterThan(total(0));
    expect(bytes.length).toBeLessThan(total(0) + 0.7 * total(1));
    for (const e of entries) {
      const got = reader.get(userKeyOf(e.key), MAX_SEQUENCE);
      expect(got !== undefined && sameBytes(got.value, e.value)).toBe(true);
    }
    const it = reader.iterator();
    expectSameEntries(scanForward(it), entries, 'scan');
    it.close();
    reader.close();
    cache.clear();
  });

  it('an empty table opens, finds nothing and iterates nothing', () => {
    const bytes = build([], {});
    const { reader, cache } = openTable(bytes);
    expect(reader.properties.entries).toBe(0);
    expect(reader.properties.dataBlocks).toBe(0);
    expect(reader.properties.smallestKey.length).toBe(0);
    expect(reader.get(new Uint8Array(0), MAX_SEQUENCE)).toBeUndefined();
    const it = reader.iterator();
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seekToLast();
    expect(it.valid()).toBe(false);
    it.seek(makeSeekKey(Uint8Array.of(1), 5));
    expect(it.valid()).toBe(false);
    it.seekForPrev(makeSeekKey(Uint8Array.of(1), 5));
    expect(it.valid()).toBe(false);
    it.close();
    reader.close();
    expect(cache.pinned).toBe(0);
  });

  it('compresses only where it saves an eighth: compressible data shrinks, random data is stored raw', () => {
    const make = (value: (i: number) => Uint8Array): Entry[] =>
      Array.from({ length: 400 }, (_, i) => ({ key: makeInternalKey(new TextEncoder().encode(`k${1000 + i}`), 1, Kind.Value), value: value(i) }));
    const text = make((i) => compressibleBytes(100, i + 1));
    const noise = make((i) => randomBytes(100, i + 1));
    const size = (entries: Entry[], compression: 'lz4' | 'none'): number => {
      const { reader, cache } = openTable(build(entries, { compression }));
      const n = reader.properties.dataBytes;
      reader.close();
      cache.clear();
      return n;
    };
    expect(size(text, 'lz4')).toBeLessThan(size(text, 'none') * 0.6);
    expect(size(noise, 'lz4')).toBe(size(noise, 'none'));
  });
});

// ---------------------------------------------------------------------------
// An independent reading of the documented layout (docs/FORMAT.md, "Tables").

describe('the on-disk layout, read by the letter of FORMAT.md', () => {
  function u64(dv: DataView, pos: number): number {
    return dv.getUint32(pos + 4, true) * 2 ** 32 + dv.getUint32(pos, true);
  }

  /** Verifies a block's trailer and returns its decoded contents. */
  function block(file: Uint8Array, offset: number, size: number): { type: number; contents: Uint8Array } {
    const stored = file.subarray(offset, offset + size);
    const type = file[offset + size]!;
    const crc = new DataView(file.buffer, file.byteOffset).getUint32(offset + size + 1, true);
    expect(crc).toBe(maskCrc(crc32c(file.subarray(offset, offset + size + 1))));
    if (type === 0) return { type, contents: stored };
    expect(type).toBe(1);
    const header = readVarint(stored, 0, stored.length)!;
    expect(size).toBeLessThanOrEqual(maxCompressedSize(header.value));
    expect(size * 8).toBeLessThan(header.value * 7);
    return { type, contents: lz4.decompress(stored.subarray(header.next), header.value) };
  }

  function blockEntries(contents: Uint8Array): Entry[] {
    const region = new Region(contents.length);
    region.load(contents);
    const cursor = new BlockCursor();
    cursor.init(region.ptr, contents.length);
    const out: Entry[] = [];
    for (let ok = cursor.first(); ok; ok = cursor.next()) out.push({ key: cursor.key(), value: cursor.value() });
    cursor.destroy();
    region.release();
    return out;
  }

  it('footer, handles, trailers, LZ4 rule, index separators and properties', () => {
    const entries = sortEntries(
      Array.from({ length: 300 }, (_, i) => {
        // Random values for the lower user keys, compressible ones above: both kinds of block.
        const n = (i * 7919) % 1000;
        const value = i % 5 === 0 ? new Uint8Array(0) : n < 500 ? randomBytes(60, i + 1) : compressibleBytes(60, i + 1);
        return { key: makeInternalKey(new TextEncoder().encode(`user-${String(n).padStart(3, '0')}`), i, i % 5 === 0 ? Kind.Deletion : Kind.Value), value };
      }),
    );
    const file = build(entries, { blockSize: 512 });
    const dv = new DataView(file.buffer, file.byteOffset, file.length);
    const footer = file.length - FOOTER_SIZE;
    expect(hex(file.subarray(file.length - 8))).toBe(hex(TABLE_MAGIC));
    expect(new TextDecoder().decode(file.subarray(file.length - 8))).toBe('VARVESST');
    expect(dv.getUint32(footer + 64, true)).toBe(1);
    expect(dv.getUint32(footer + 68, true)).toBe(maskCrc(crc32c(file.subarray(footer, footer + 68))));
    const handle = (i: number) => ({ offset: u64(dv, footer + 16 * i), size: u64(dv, footer + 16 * i + 8) });
    const [index, filter, props, rangeDel] = [handle(0), handle(1), handle(2), handle(3)];
    expect(rangeDel).toEqual({ offset: 0, size: 0 });
    // Layout order: data blocks, filter, index, properties, footer.
    expect(index.offset).toBe(filter.offset + filter.size + BLOCK_TRAILER_SIZE);
    expect(props.offset).toBe(index.offset + index.size + BLOCK_TRAILER_SIZE);
    expect(footer).toBe(props.offset + props.size + BLOCK_TRAILER_SIZE);

    // Filter: stored raw, format tag 1 at its last byte.
    const f = block(file, filter.offset, filter.size);
    expect(f.type).toBe(0);
    expect(f.contents[f.contents.length - 1]).toBe(1);

    // Index: separators between blocks, handles tiling the data region.
    const indexEntries = blockEntries(block(file, index.offset, index.size).contents);
    let expectedOffset = 0;
    const all: Entry[] = [];
    let sawLz4 = false;
    let sawRaw = false;
    for (const [i, ie] of indexEntries.entries()) {
      const h = readHandle(ie.value, 0, ie.value.length)!;
      expect(h.offset).toBe(expectedOffset);
      expectedOffset = h.offset + h.size + BLOCK_TRAILER_SIZE;
      const data = block(file, h.offset, h.size);
      if (data.type === 1) sawLz4 = true;
      else sawRaw = true;
      const inBlock = blockEntries(data.contents);
      expect(compareInternalKeys(inBlock[inBlock.length - 1]!.key, ie.key)).toBeLessThanOrEqual(0);
      if (all.length > 0) expect(compareInternalKeys(indexEntries[i - 1]!.key, inBlock[0]!.key)).toBeLessThan(0);
      all.push(...inBlock);
    }
    expect(sawLz4 && sawRaw).toBe(true);
    expect(expectedOffset).toBe(filter.offset);
    // The last index key is the table's last key, not a shorter successor: it shares the others' prefix.
    expect(hex(indexEntries[indexEntries.length - 1]!.key)).toBe(hex(all[all.length - 1]!.key));
    expectSameEntries(all, entries, 'data blocks');

    // Properties: the fixed layout, then the smallest and largest keys.
    const p = block(file, props.offset, props.size).contents;
    const pv = new DataView(p.buffer, p.byteOffset, p.length);
    const counters = Array.from({ length: 12 }, (_, i) => u64(pv, i * 8));
    expect(counters).toEqual([
      300,
      60,
      0,
      entries.reduce((n, e) => n + e.key.length, 0),
      entries.reduce((n, e) => n + e.value.length, 0),
      indexEntries.length,
      filter.offset,
      index.size,
      filter.size,
      0,
      299,
      CREATION_TIME,
    ]);
    expect(pv.getUint32(96, true)).toBe(1);
    const smallestLen = pv.getUint32(100, true);
    const largestLen = pv.getUint32(104, true);
    expect(hex(p.subarray(108, 108 + smallestLen))).toBe(hex(entries[0]!.key));
    expect(hex(p.subarray(108 + smallestLen, 108 + smallestLen + largestLen))).toBe(hex(entries[entries.length - 1]!.key));
    expect(p.length).toBe(108 + smallestLen + largestLen);
  });
});

// ---------------------------------------------------------------------------

describe('separators', () => {
  const keyArb = fc.tuple(userKeyArb, seqArb, kindArb).map(([uk, seq, kind]) => makeInternalKey(uk, seq, kind));
  const mem = new Uint8Array(256);

  it('a <= separator(a, b) < b', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (x, y) => {
        const c = compareInternalKeys(x, y);
        fc.pre(c !== 0);
        const [a, b] = c < 0 ? [x, y] : [y, x];
        mem.set(a, 0);
        mem.set(b, 64);
        const len = writeSeparator(mem, 0, a.length, 64, b.length, 128);
        const sep = mem.slice(128, 128 + len);
        expect(len).toBeLessThanOrEqual(a.length);
        expect(compareInternalKeys(a, sep)).toBeLessThanOrEqual(0);
        expect(compareInternalKeys(sep, b)).toBeLessThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('shortens where a byte can grow and stay below the next key', () => {
    const enc = new TextEncoder();
    mem.set(makeInternalKey(enc.encode('apple-pie'), 5, Kind.Value), 0);
    mem.set(makeInternalKey(enc.encode('azure'), 9, Kind.Value), 64);
    const len = writeSeparator(mem, 0, 17, 64, 13, 128);
    expect(new TextDecoder().decode(mem.subarray(128, len + 128 - 8))).toBe('aq');
    expect(parseTrailer(mem.slice(128, 128 + len))).toEqual({ seq: MAX_SEQUENCE, kind: 0xff });
  });
});

// ---------------------------------------------------------------------------

describe('bloom filter', () => {
  it('skips most absent keys, never a present one', () => {
    const enc = new TextEncoder();
    const entries = sortEntries(
      Array.from({ length: 5000 }, (_, i) => ({ key: makeInternalKey(enc.encode(`present-${i}`), i + 1, Kind.Value), value: Uint8Array.of(i & 0xff) })),
    );
    const { reader, cache } = openTable(build(entries, {}));
    for (const e of entries) {
      const got = reader.get(userKeyOf(e.key), MAX_SEQUENCE);
      check(got !== undefined && got.value[0] === e.value[0], () => `present key ${hex(e.key)} not found`);
    }
    expect(reader.stats.filterSkips).toBe(0);
    expect(reader.stats.filterFalsePositives).toBe(0);
    const absent = 20000;
    for (let i = 0; i < absent; i++) expect(reader.get(enc.encode(`absent-${i}`), MAX_SEQUENCE)).toBeUndefined();
    const { filterChecks, filterSkips, filterFalsePositives } = reader.stats;
    expect(filterChecks).toBe(entries.length + absent);
    expect(filterSkips + filterFalsePositives).toBe(absent);
    // ~1% expected at 10 bits/key; allow up to 2%.
    expect(filterFalsePositives / absent).toBeLessThan(0.02);
    reader.close();
    cache.clear();
  });

  it('filters distinct user keys: many versions of one key cost one filter entry', () => {
    const entries = sortEntries(
      Array.from({ length: 2000 }, (_, i) => ({ key: makeInternalKey(Uint8Array.of(7), i, Kind.Value), value: new Uint8Array(0) })),
    );
    const { reader, cache } = openTable(build(entries, {}));
    expect(reader.properties.filterSize).toBe(72);
    expect(reader.get(Uint8Array.of(7), 1234)?.seq).toBe(1234);
    reader.close();
    cache.clear();
  });
});

// ---------------------------------------------------------------------------

describe('block cache use', () => {
  const entries = sortEntries(
    Array.from({ length: 500 }, (_, i) => ({ key: makeInternalKey(new TextEncoder().encode(`key-${1000 + i}`), 1, Kind.Value), value: randomBytes(40, i + 1) })),
  );
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = build(entries, { blockSize: 256 });
  });

  it('through a block map, a second get of a block is a hit the cache is told of, and an evicted block is read again', () => {
    const { reader, cache } = openTable(bytes, new TestBlockCache(1 << 20, new BlockMap()));
    const uk = userKeyOf(entries[100]!.key);
    expect(reader.get(uk, 5)?.value).toEqual(entries[100]!.value);
    expect(reader.stats).toMatchObject({ blockReads: 1, blockCacheHits: 0 });
    expect(reader.get(uk, 5)?.value).toEqual(entries[100]!.value);
    expect(reader.stats).toMatchObject({ blockReads: 1, blockCacheHits: 1 });
    expect(cache.mapHits).toBe(1);
    cache.clear();
    expect(cache.map!.count).toBe(0);
    expect(reader.get(uk, 5)?.value).toEqual(entries[100]!.value);
    expect(reader.stats).toMatchObject({ blockReads: 2, blockCacheHits: 1 });
    expect(cache.pinned).toBe(0);
    reader.close();
    cache.clear();
    cache.map!.destroy();
    expect(cache.freed).toBe(cache.inserts);
  });

  it('get pins nothing after it returns; a second get of a block is a cache hit', () => {
    const { reader, cache } = openTable(bytes);
    const uk = userKeyOf(entries[100]!.key);
    reader.get(uk, 5);
    expect(reader.stats).toMatchObject({ blockReads: 1, blockCacheHits: 0 });
    reader.get(uk, 5);
    expect(reader.stats).toMatchObject({ blockReads: 1, blockCacheHits: 1 });
    expect(cache.pinned).toBe(0);
    reader.close();
    cache.clear();
    expect(cache.freed).toBe(cache.inserts);
  });

  it('an iterator pins exactly its current block, and nothing once past the end or closed', () => {
    const { reader, cache } = openTable(bytes);
    const it = reader.iterator();
    it.seekToFirst();
    expect(cache.pinned).toBe(1);
    let n = 0;
    for (; it.valid(); it.next()) {
      n++;
      check(cache.pinned === 1, () => `pinned ${cache.pinned} at entry ${n}`);
    }
    expect(n).toBe(entries.length);
    expect(cache.pinned).toBe(0);
    it.seekToLast();
    expect(cache.pinned).toBe(1);
    it.close();
    expect(cache.pinned).toBe(0);
    reader.close();
    cache.clear();
    expect(cache.freed).toBe(cache.inserts);
  });

  it('works with a cache that holds nothing: every block is freed at its release', () => {
    const { reader, cache } = openTable(bytes, new TestBlockCache(0));
    const it = reader.iterator();
    expectSameEntries(scanForward(it), entries, 'scan with an empty cache');
    expectSameEntries(scanBackward(it), entries, 'reverse scan with an empty cache');
    it.close();
    for (const e of entries) expect(reader.get(userKeyOf(e.key), 1)?.value.length).toBe(40);
    expect(cache.size).toBe(0);
    expect(cache.freed).toBe(cache.inserts);
    reader.close();
  });

  it('close waits for open iterators; later calls throw ClosedError', () => {
    const { reader, cache } = openTable(bytes);
    const it = reader.iterator();
    reader.close();
    reader.close();
    expect(() => reader.get(Uint8Array.of(1), 1)).toThrow(ClosedError);
    expect(() => reader.iterator()).toThrow(ClosedError);
    expectSameEntries(scanForward(it), entries, 'scan after the reader closed');
    it.close();
    it.close();
    expect(() => it.seekToFirst()).toThrow(ClosedError);
    expect(cache.pinned).toBe(0);
    cache.clear();
  });
});

// ---------------------------------------------------------------------------

describe('builder arguments', () => {
  const k = (s: string, seq: number, kind: number = Kind.Value) => makeInternalKey(new TextEncoder().encode(s), seq, kind);

  it('rejects keys out of order, within a block and across a block boundary, and stays usable', () => {
    const b = new TableBuilder({ blockSize: 64, creationTime: CREATION_TIME });
    b.addBytes(k('b', 5), new Uint8Array(100));
    expect(b.entryCount).toBe(1);
    // The first block was cut at 100 bytes: this compares across the boundary.
    expect(() => b.addBytes(k('b', 5), new Uint8Array(0))).toThrow(InvalidArgumentError);
    expect(() => b.addBytes(k('a', 9), new Uint8Array(0))).toThrow(InvalidArgumentError);
    b.addBytes(k('b', 4), new Uint8Array(0));
    expect(() => b.addBytes(k('b', 4), new Uint8Array(0))).toThrow(InvalidArgumentError);
    expect(() => b.addBytes(k('b', 6), new Uint8Array(0))).toThrow(InvalidArgumentError);
    b.addBytes(k('c', 1), Uint8Array.of(1));
    const bytes = b.finish().bytes;
    const expected = build(
      [
        { key: k('b', 5), value: new Uint8Array(100) },
        { key: k('b', 4), value: new Uint8Array(0) },
        { key: k('c', 1), value: Uint8Array.of(1) },
      ],
      { blockSize: 64 },
    );
    expect(hex(bytes)).toBe(hex(expected));
    expect(() => b.addBytes(k('d', 1), new Uint8Array(0))).toThrow(InvalidArgumentError);
  });

  it('rejects short keys, unknown kinds and malformed runs; a failed run fails the builder', () => {
    const b = new TableBuilder();
    expect(() => b.addBytes(new Uint8Array(7), new Uint8Array(0))).toThrow(InvalidArgumentError);
    expect(() => b.addBytes(k('a', 1, 0xff), new Uint8Array(0))).toThrow(InvalidArgumentError);
    expect(() => b.add(-1, 8, 0, 0)).toThrow(InvalidArgumentError);
    const run = encodeRun([{ key: k('a', 1), value: Uint8Array.of(1, 2, 3) }]);
    expect(() => b.addRun(run.subarray(0, run.length - 1))).toThrow(InvalidArgumentError);
    expect(() => b.addBytes(k('z', 1), new Uint8Array(0))).toThrow(/failed earlier/);
    b.abandon();
    // Past a run's first entry, the batch scan (assembly/table-run.ts) checks each entry the same way.
    const good = { key: k('a', 1), value: Uint8Array.of(1) };
    const hugeSeq = Uint8Array.of(0x62, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const bad: Array<[Uint8Array, RegExp]> = [
      [encodeRun([good, { key: k('b', 2, 0xff), value: new Uint8Array(0) }]), /unknown kind 255/],
      [encodeRun([good, { key: hugeSeq, value: new Uint8Array(0) }]), /2\^53/],
      [encodeRun([good, { key: k('b', 2), value: Uint8Array.of(1, 2) }]).subarray(0, -1), /truncated/],
      [encodeRun([good, { key: new Uint8Array(5), value: new Uint8Array(0) }]), /key under 8 bytes/],
    ];
    for (const [run, message] of bad) {
      const builder = new TableBuilder();
      expect(() => builder.addRun(run)).toThrow(message);
      expect(() => builder.addBytes(k('z', 1), new Uint8Array(0))).toThrow(/failed earlier/);
      builder.abandon();
    }
    expect(() => new TableBuilder({ blockSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new TableBuilder({ restartInterval: 0 })).toThrow(InvalidArgumentError);
    expect(() => new TableBuilder({ bitsPerKey: 0 })).toThrow(InvalidArgumentError);
    expect(() => new TableBuilder({ compression: 'zstd' as 'lz4' })).toThrow(InvalidArgumentError);
  });

  it('estimatedFileSize tracks the finished size', () => {
    const b = new TableBuilder({ compression: 'none' });
    for (let i = 0; i < 2000; i++) b.addBytes(k(`key-${10000 + i}`, 1), randomBytes(30, i + 1));
    const estimate = b.estimatedFileSize;
    const size = b.finish().bytes.length;
    expect(Math.abs(estimate - size) / size).toBeLessThan(0.05);
  });
});

// ---------------------------------------------------------------------------

describe('corruption', () => {
  const entries = sortEntries(
    Array.from({ length: 40 }, (_, i) => ({
      key: makeInternalKey(new TextEncoder().encode(`k${i % 13}`), i, i % 7 === 0 ? Kind.Deletion : Kind.Value),
      value: i % 7 === 0 ? new Uint8Array(0) : i % 2 ? compressibleBytes(40, i + 1) : randomBytes(12, i + 1),
    })),
  );
  let good: Uint8Array;
  beforeAll(() => {
    good = build(entries, { blockSize: 128, restartInterval: 4 });
  });

  /** Opens the damaged file and reads everything; returns the error thrown, or undefined if all reads matched. */
  function readAll(bytes: Uint8Array, fileSize = bytes.length): unknown {
    const file = writeFile(bytes);
    const handle = nodeFileSystem.open(file, 'read');
    const cache = new TestBlockCache(1 << 20, new BlockMap());
    let reader: TableReader | undefined;
    try {
      reader = TableReader.open(handle, fileCounter, fileSize, cache, { blockMap: cache.map });
      const it = reader.iterator();
      try {
        expectSameEntries(scanForward(it), entries, 'scan of damaged table');
      } finally {
        it.close();
      }
      // Twice: blocks read by the first pass are read from the cache's map by the second.
      for (let pass = 0; pass < 2; pass++) {
        for (const e of entries) {
          const { seq } = parseTrailer(e.key);
          const got = reader.get(userKeyOf(e.key), seq);
          const want = modelGet(entries, userKeyOf(e.key), seq)!;
          check(got !== undefined && got.seq === want.seq && sameBytes(got.value, want.value), () => 'get of damaged table');
        }
      }
      return undefined;
    } catch (err) {
      return err;
    } finally {
      if (reader) reader.close();
      else handle.closeSync();
      check(cache.pinned === 0, () => 'a pin leaked after corruption');
      cache.clear();
      cache.map!.destroy();
      fs.rmSync(file);
    }
  }

  function expectCorruption(err: unknown, what: string): void {
    check(err instanceof CorruptionError, () => `${what}: expected CorruptionError, got ${err === undefined ? 'success' : String(err)}`);
    check(/\.sst: /.test((err as Error).message) && /offset \d+/.test((err as Error).message), () => `${what}: message ${(err as Error).message}`);
  }

  it('the undamaged table reads back whole', () => {
    expect(good.length).toBeGreaterThan(300);
    expect(readAll(good)).toBeUndefined();
  });

  it('a bit flipped in any byte is reported as CorruptionError naming the file, never returned as data', () => {
    for (let pos = 0; pos < good.length; pos++) {
      const bad = good.slice();
      bad[pos]! ^= 1 << (pos % 8);
      expectCorruption(readAll(bad), `bit ${pos % 8} of byte ${pos}`);
    }
  });

  it('random multi-byte damage is detected too', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (flips) => {
        const bad = good.slice();
        for (const [at, mask] of flips) bad[at % bad.length]! ^= mask;
        fc.pre(!sameBytes(bad, good));
        expectCorruption(readAll(bad), `flips ${JSON.stringify(flips)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated file is rejected at open, whether its size is known or not', () => {
    for (let len = 0; len < good.length; len++) {
      const cut = good.slice(0, len);
      expectCorruption(readAll(cut), `truncated to ${len}`);
      if (len % 17 === 0) expectCorruption(readAll(cut, good.length), `truncated to ${len}, full size claimed`);
    }
  });
});
