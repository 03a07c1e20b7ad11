// Fuzzing every decoder with 1,000,000 generated inputs in all: mutations
// of valid encodings (bit flips, overwritten bytes, truncations, appended,
// inserted and copied-over runs) and plain random bytes. Each input must
// give a correct result or a CorruptionError; anything else (a WebAssembly
// trap, a RangeError, a TypeError, a hang) fails the test. Linear memory
// must not grow with the inputs: error paths free what they took.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptionError, nodeFileSystem } from '../src/index.js';
import { Kind, compareInternalKeys, makeInternalKey } from '../src/keys.js';
import { MemoryFile } from '../src/fs/memory-file.js';
import { TableBuilder } from '../src/table/builder.js';
import { TableReader } from '../src/table/reader.js';
import { decodeVersionEdit, encodeVersionEdit, type VersionEdit } from '../src/version/edit.js';
import { LogReader } from '../src/wal/reader.js';
import { LogWriter } from '../src/wal/writer.js';
import { BlockBuilder, BlockCursor, DecodedBlock } from '../src/wasm/block.js';
import { Region, u8, view } from '../src/wasm/heap.js';
import { propertiesSize, readProperties, writeProperties } from '../src/table/format.js';
import * as lz4 from '../src/wasm/lz4.js';
import { TestBlockCache } from './support/block-cache.js';
import { between, prng } from './support/crash-model.js';

const scratch = mkdtempSync(join(tmpdir(), 'varve-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Rand = () => number;

function randomBytes(rand: Rand, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Bytes that compress: runs and repeats of a small alphabet, with some noise. */
function compressible(rand: Rand, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rand() < 0.7 && i > 8 ? out[i - 1 - Math.floor(rand() * 8)]! : 97 + Math.floor(rand() * 6);
  return out;
}

/** One input: a mutation of `valid`, or (one time in ten) random bytes of about its length. */
function mutate(rand: Rand, valid: Uint8Array): Uint8Array {
  const pick = rand();
  if (pick < 0.1 || valid.length === 0) return randomBytes(rand, between(rand, 0, Math.max(8, Math.ceil(valid.length * 1.2))));
  const out = valid.slice();
  const at = () => between(rand, 0, out.length - 1);
  if (pick < 0.4) {
    for (let n = between(rand, 1, 4); n > 0; n--) {
      const i = at();
      out[i]! ^= 1 << between(rand, 0, 7);
    }
    return out;
  }
  if (pick < 0.55) {
    for (let n = between(rand, 1, 3); n > 0; n--) out[at()] = Math.floor(rand() * 256);
    return out;
  }
  if (pick < 0.7) return out.subarray(0, between(rand, 0, out.length - 1));
  if (pick < 0.9) {
    // Random bytes inserted at a random place (appended, one time in two).
    const i = rand() < 0.5 ? out.length : at();
    const extra = randomBytes(rand, between(rand, 1, 16));
    const grown = new Uint8Array(out.length + extra.length);
    grown.set(out.subarray(0, i));
    grown.set(extra, i);
    grown.set(out.subarray(i), i + extra.length);
    return grown;
  }
  // A run copied over another place: lengths and offsets that look plausible.
  const from = at();
  const len = between(rand, 1, Math.min(32, out.length - from));
  out.copyWithin(at(), from, from + len);
  return out;
}

interface Tally {
  inputs: number;
  ok: number;
  corrupt: number;
}

/** Runs `decode` on `count` inputs mutated from `templates`; a non-CorruptionError fails at once, naming the input. */
function fuzz(name: string, seed: number, count: number, templates: Uint8Array[], decode: (input: Uint8Array, template: number) => void): Tally {
  const rand = prng(seed);
  const tally: Tally = { inputs: 0, ok: 0, corrupt: 0 };
  const memoryBefore = u8().length;
  for (let i = 0; i < count; i++) {
    const t = i % templates.length;
    const input = mutate(rand, templates[t]!);
    tally.inputs++;
    try {
      decode(input, t);
      tally.ok++;
    } catch (err) {
      if (!(err instanceof CorruptionError)) {
        throw new Error(`${name} input ${i} (template ${t}, ${input.length} bytes: ${Buffer.from(input.subarray(0, 64)).toString('hex')}...) threw ${String(err)}`, { cause: err });
      }
      tally.corrupt++;
    }
  }
  // Grown memory would mean leaks on some path (a few MiB of slack for caches and staging).
  expect(u8().length - memoryBefore, `${name}: linear memory grew`).toBeLessThanOrEqual(16 * 1024 * 1024);
  return tally;
}

const totals: Record<string, Tally> = {};

describe('fuzzing the decoders', () => {
  it('LZ4 decompress: 300,000 inputs', () => {
    const rand = prng(1);
    const raw = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? randomBytes(rand, between(rand, 0, 300)) : compressible(rand, between(rand, 1, 4000))));
    const templates = raw.map((r) => lz4.compress(r));
    totals.lz4 = fuzz('lz4', 11, 300_000, templates, (input, t) => {
      const out = lz4.decompress(input, raw[t]!.length);
      expect(out.length).toBe(raw[t]!.length);
    });
    expect(totals.lz4.ok).toBeGreaterThan(0);
    expect(totals.lz4.corrupt).toBeGreaterThan(0);
  }, 120_000);

  it('data blocks, decoded whole and walked by a cursor: 200,000 inputs', () => {
    const rand = prng(2);
    const templates = Array.from({ length: 40 }, () => {
      const b = new BlockBuilder(between(rand, 1, 16));
      const keys = Array.from({ length: between(rand, 1, 60) }, (_, i) => makeInternalKey(randomBytes(rand, between(rand, 0, 16)), i, Kind.Value)).sort(compareInternalKeys);
      for (const k of keys) b.add(k, randomBytes(rand, between(rand, 0, 40)));
      const bytes = b.finishCopy();
      b.destroy();
      return bytes;
    });
    const region = new Region(1 << 16);
    const cursor = new BlockCursor();
    totals.block = fuzz('block', 12, 200_000, templates, (input) => {
      const ptr = region.load(input);
      const decoded = DecodedBlock.decode(ptr, input.length);
      let bytes = 0;
      for (let i = 0; i < decoded.count; i++) bytes += decoded.keyLen(i) + decoded.valueLen(i);
      decoded.release();
      cursor.init(ptr, input.length);
      let steps = 0;
      for (let ok = cursor.first(); ok; ok = cursor.next()) steps++;
      for (let ok = cursor.last(); ok; ok = cursor.prev()) steps--;
      expect(steps).toBe(0);
      expect(bytes).toBeGreaterThanOrEqual(0);
    });
    cursor.destroy();
    region.release();
    expect(totals.block.ok).toBeGreaterThan(0);
  }, 120_000);

  it('WAL and MANIFEST log framing: 200,000 inputs', () => {
    const rand = prng(3);
    const templates = Array.from({ length: 30 }, (_, t) => {
      const path = join(scratch, `${t}.log`);
      const file = nodeFileSystem.open(path, 'write');
      const writer = new LogWriter(file);
      // One log in five holds a record that spans the 32 KiB block boundary (first and last fragments).
      if (t % 5 === 0) writer.addRecordBytes(randomBytes(rand, between(rand, 32_000, 34_000)));
      for (let n = between(rand, 1, 8); n > 0; n--) writer.addRecordBytes(randomBytes(rand, between(rand, 0, 500)));
      writer.flushSync();
      file.closeSync();
      return readFileSync(path);
    });
    totals.log = fuzz('log', 13, 200_000, templates, (input) => {
      const reader = new LogReader(input, 'fuzz.log', { tailMayBeTorn: input.length % 2 === 0 });
      while (reader.next() !== undefined);
    });
    expect(totals.log.ok).toBeGreaterThan(0);
  }, 180_000);

  it('MANIFEST version edits: 200,000 inputs', () => {
    const rand = prng(4);
    const templates = Array.from({ length: 40 }, () => {
      const edit: VersionEdit = { deletedFiles: [], newFiles: [] };
      if (rand() < 0.5) edit.comparator = 'varve.bytewise';
      if (rand() < 0.7) edit.logNumber = between(rand, 0, 1e6);
      if (rand() < 0.7) edit.nextFileNumber = between(rand, 1, 1e6);
      if (rand() < 0.7) edit.lastSequence = between(rand, 0, 2 ** 40);
      for (let n = between(rand, 0, 4); n > 0; n--) edit.deletedFiles.push({ level: between(rand, 0, 6), number: between(rand, 1, 1e5) });
      for (let n = between(rand, 0, 4); n > 0; n--) {
        const [a, b] = [makeInternalKey(randomBytes(rand, between(rand, 0, 12)), between(rand, 0, 1e6), Kind.Value), makeInternalKey(randomBytes(rand, between(rand, 0, 12)), between(rand, 0, 1e6), Kind.Value)];
        const [smallest, largest] = compareInternalKeys(a, b) <= 0 ? [a, b] : [b, a];
        const s1 = between(rand, 0, 1e6);
        edit.newFiles.push({ level: between(rand, 0, 6), meta: { number: between(rand, 1, 1e5), size: between(rand, 1, 1e8), smallest, largest, smallestSeq: s1, largestSeq: s1 + between(rand, 0, 1000) } });
      }
      return encodeVersionEdit(edit);
    });
    totals.edit = fuzz('edit', 14, 200_000, templates, (input) => {
      decodeVersionEdit(input, 'fuzz-MANIFEST', 0);
    });
    expect(totals.edit.ok).toBeGreaterThan(0);
  }, 120_000);

  it('tables (footer, properties, index, filter, data blocks) opened and read whole: 50,000 inputs', () => {
    const rand = prng(5);
    const templates = Array.from({ length: 20 }, (_, t) => {
      const b = new TableBuilder({ blockSize: between(rand, 128, 1024), restartInterval: between(rand, 1, 16), compression: t % 2 === 0 ? 'lz4' : 'none', creationTime: 1 });
      const keys = [...new Set(Array.from({ length: between(rand, 1, 80) }, () => `k${between(rand, 0, 9999)}`))].sort();
      keys.forEach((k, i) => b.addBytes(makeInternalKey(Buffer.from(k), i + 1, Kind.Value), compressible(rand, between(rand, 0, 60))));
      return b.finish().bytes;
    });
    const cache = new TestBlockCache(1 << 20);
    let fileNumber = 0;
    totals.table = fuzz('table', 15, 50_000, templates, (input) => {
      const reader = TableReader.open(new MemoryFile('fuzz.vt', input), ++fileNumber, input.length, cache);
      try {
        const it = reader.iterator();
        try {
          for (it.seekToFirst(); it.valid(); it.next()) reader.get(it.key().subarray(0, it.key().length - 8), 2 ** 40);
        } finally {
          it.close();
        }
      } finally {
        reader.close();
      }
    });
    expect(totals.table.ok).toBeGreaterThan(0);
  }, 180_000);

  it('properties blocks, parsed without their checksum: 50,000 inputs', () => {
    const rand = prng(6);
    const templates = Array.from({ length: 20 }, () => {
      const b = new TableBuilder({ creationTime: 1 });
      const n = between(rand, 0, 30);
      for (let i = 0; i < n; i++) b.addBytes(makeInternalKey(Buffer.from(`k${String(i).padStart(4, '0')}`), i + 1, i % 5 === 0 ? Kind.Deletion : Kind.Value), randomBytes(rand, between(rand, 0, 20)));
      const { properties } = b.finish();
      const region = new Region(propertiesSize(properties));
      writeProperties(u8(), view(), region.ptr, properties);
      const bytes = u8().slice(region.ptr, region.ptr + propertiesSize(properties));
      region.release();
      return bytes;
    });
    const region = new Region(1 << 12);
    totals.properties = fuzz('properties', 16, 50_000, templates, (input) => {
      const ptr = region.load(input);
      readProperties(u8(), view(), ptr, input.length);
    });
    region.release();
    expect(totals.properties.ok).toBeGreaterThan(0);
  }, 120_000);

  it('came to 1,000,000 inputs in all', () => {
    const all = Object.values(totals).reduce((sum, t) => sum + t.inputs, 0);
    console.log(`fuzz: ${all} inputs; ${Object.entries(totals).map(([k, t]) => `${k} ${t.inputs} (${t.ok} decoded, ${t.corrupt} CorruptionError)`).join('; ')}`);
    expect(all).toBe(1_000_000);
  });
});
