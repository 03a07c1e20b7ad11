import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as nodeFs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { WriteBatch } from '../src/batch.js';
import { ClosedError, CorruptionError, InvalidArgumentError, IOError } from '../src/errors.js';
import type { FileHandle } from '../src/fs/filesystem.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import { BLOCK_SIZE, HEADER_SIZE, framedLength } from '../src/wal/format.js';
import { LogReader } from '../src/wal/reader.js';
import { LogWriter } from '../src/wal/writer.js';
import { Region } from '../src/wasm/index.js';
import { randomBytes } from './support/random.js';

const require = createRequire(import.meta.url);
const CRC32C = require('crc-32/crc32c') as { buf(data: Uint8Array, seed?: number): number };

// ---- A reference encoder, written from docs/FORMAT.md, with the layout it produced ----

interface Fragment {
  start: number;
  end: number;
  record: number;
  type: number;
}

interface Layout {
  bytes: Uint8Array;
  fragments: Fragment[];
  /** Offset of each record's first fragment header. */
  recordStarts: number[];
  /** Offset just past each record's last fragment. */
  recordEnds: number[];
}

function mask(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function encodeLog(records: Uint8Array[]): Layout {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const push = (chunk: Uint8Array): void => {
    chunks.push(chunk);
    length += chunk.length;
  };
  const fragments: Fragment[] = [];
  const recordStarts: number[] = [];
  const recordEnds: number[] = [];
  records.forEach((payload, record) => {
    let done = 0;
    let first = true;
    do {
      const room = BLOCK_SIZE - (length % BLOCK_SIZE);
      if (room < HEADER_SIZE) push(new Uint8Array(room));
      const n = Math.min(BLOCK_SIZE - (length % BLOCK_SIZE) - HEADER_SIZE, payload.length - done);
      const last = done + n === payload.length;
      const type = first ? (last ? 1 : 2) : last ? 4 : 3;
      const fragment = new Uint8Array(HEADER_SIZE + n);
      fragment[6] = type;
      fragment.set(payload.subarray(done, done + n), HEADER_SIZE);
      const crc = mask(CRC32C.buf(fragment.subarray(6)) >>> 0);
      fragment.set([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24, n & 0xff, n >>> 8]);
      const start = length;
      if (first) recordStarts.push(start);
      push(fragment);
      fragments.push({ start, end: length, record, type });
      done += n;
      first = false;
    } while (done < payload.length);
    recordEnds.push(length);
  });
  return { bytes: new Uint8Array(Buffer.concat(chunks)), fragments, recordStarts, recordEnds };
}

/** Byte equality with a short failure message (deep equality of large arrays is slow and its diff huge). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  if (actual.length === expected.length && Buffer.compare(actual, expected) === 0) return;
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  expect({ what, length: actual.length, firstDifference: at }).toEqual({ what, length: expected.length, firstDifference: -1 });
}

/** Record-by-record equality, via expectSameBytes. */
function expectSameRecords(actual: Uint8Array[], expected: Uint8Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((r, i) => expectSameBytes(r, expected[i]!, `record ${i}`));
}

// ---- Helpers ----

let dir: string;
beforeEach(() => {
  dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'varve-wal-'));
});
afterEach(() => {
  nodeFs.rmSync(dir, { recursive: true, force: true });
});

/** Writes `records` through LogWriter, flushing after every `flushEvery` records; returns the file's bytes. */
function writeLog(name: string, records: Uint8Array[], flushEvery = 1): Uint8Array {
  const file = path.join(dir, name);
  const writer = new LogWriter(nodeFileSystem.open(file, 'write'));
  records.forEach((record, i) => {
    writer.addRecordBytes(record);
    if ((i + 1) % flushEvery === 0) writer.flushSync();
  });
  writer.close();
  return readBytes(file);
}

/** A file's bytes as a plain Uint8Array (node's Buffer compares unequal to one). */
function readBytes(file: string): Uint8Array {
  return new Uint8Array(nodeFileSystem.readFile(file));
}

interface ReadResult {
  records: Uint8Array[];
  offsets: number[];
  tornAt: number | undefined;
}

function readLog(bytes: Uint8Array, name: string, tailMayBeTorn: boolean): ReadResult {
  const reader = new LogReader(bytes, name, { tailMayBeTorn });
  const records: Uint8Array[] = [];
  const offsets: number[] = [];
  for (let r = reader.next(); r !== undefined; r = reader.next()) {
    records.push(new Uint8Array(r));
    offsets.push(reader.offset);
  }
  expect(reader.next()).toBeUndefined();
  return { records, offsets, tornAt: reader.tornAt };
}

/** The records read before a CorruptionError, and the error. */
function readUntilError(bytes: Uint8Array, name: string, tailMayBeTorn: boolean): { records: Uint8Array[]; error: unknown } {
  const reader = new LogReader(bytes, name, { tailMayBeTorn });
  const records: Uint8Array[] = [];
  try {
    for (let r = reader.next(); r !== undefined; r = reader.next()) records.push(new Uint8Array(r));
  } catch (error) {
    expect(() => reader.next(), 'a failed reader keeps failing').toThrow(error as Error);
    return { records, error };
  }
  return { records, error: undefined };
}

function sizedRecords(sizes: number[], seed: number): Uint8Array[] {
  return sizes.map((size, i) => randomBytes(size, seed * 1000 + i + 1));
}

/** Mixed sizes: mostly small, some spanning blocks. */
function mixedRecords(count: number, seed: number): Uint8Array[] {
  const sizes: number[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const pick = x % 10;
    sizes.push(pick < 6 ? x % 200 : pick < 9 ? x % 4000 : 30_000 + (x % 40_000));
  }
  return sizedRecords(sizes, seed);
}

// ---- Tests ----

describe('log writer', () => {
  it('writes exactly the documented framing', () => {
    const sizes = [0, 1, 100, BLOCK_SIZE - HEADER_SIZE, BLOCK_SIZE - 6, BLOCK_SIZE, 3 * BLOCK_SIZE + 5, 0, 7, 32_700, 60, 0];
    const records = sizedRecords(sizes, 1);
    expectSameBytes(writeLog('000001.log', records), encodeLog(records).bytes);
    expectSameBytes(writeLog('000002.log', records, 1000), encodeLog(records).bytes);
  });

  it('frames payloads already in linear memory, such as a write batch', () => {
    const batch = new WriteBatch();
    for (let i = 0; i < 500; i++) batch.put(randomBytes(16, i + 1), randomBytes(100, i + 7));
    batch.setSequence(42);
    const file = path.join(dir, '000003.log');
    const writer = new LogWriter(nodeFileSystem.open(file, 'write'));
    writer.addRecord(batch.ptr, batch.len);
    writer.addRecord(batch.ptr, 0);
    expect(writer.pendingBytes).toBe(writer.offset);
    writer.flushSync();
    expect(writer.pendingBytes).toBe(0);
    expect(writer.offset).toBe(nodeFs.statSync(file).size);
    writer.close();
    const { records } = readLog(readBytes(file), file, false);
    expect(records).toEqual([batch.bytes().slice(), new Uint8Array(0)]);
    batch.release();
  });

  it('refuses a record outside linear memory, and use after close', () => {
    const writer = new LogWriter(nodeFileSystem.open(path.join(dir, 'x.log'), 'write'));
    expect(() => writer.addRecord(-1, 4)).toThrow(InvalidArgumentError);
    expect(() => writer.addRecord(0, 0x7fffffff)).toThrow(InvalidArgumentError);
    expect(() => writer.addRecord(1.5, 1)).toThrow(InvalidArgumentError);
    expect(writer.offset).toBe(0);
    writer.close();
    writer.close();
    expect(() => writer.addRecordBytes(new Uint8Array(1))).toThrow(ClosedError);
    expect(() => writer.flushSync()).toThrow(ClosedError);
  });

  it('continues the block layout when appending to an existing log', () => {
    const records = mixedRecords(40, 3);
    const file = path.join(dir, '000004.log');
    for (let from = 0; from < records.length; from += 7) {
      const writer = new LogWriter(nodeFileSystem.open(file, 'append'), nodeFs.existsSync(file) ? nodeFs.statSync(file).size : 0);
      for (const record of records.slice(from, from + 7)) writer.addRecordBytes(record);
      writer.close();
    }
    expectSameBytes(readBytes(file), encodeLog(records).bytes);
  });

  it('places fragments right at 6, 7 and 8 bytes left in a block', () => {
    for (const left of [6, 7, 8]) {
      for (const second of [0, 10]) {
        const records = sizedRecords([BLOCK_SIZE - HEADER_SIZE - left, second], left);
        const bytes = writeLog(`left-${left}-${second}.log`, records);
        const at = BLOCK_SIZE - left;
        if (left === 6) {
          expect(bytes.subarray(at, BLOCK_SIZE)).toEqual(new Uint8Array(6));
          expect(bytes[BLOCK_SIZE + 6]).toBe(1); // FULL at the next block
          expect(bytes.length).toBe(BLOCK_SIZE + HEADER_SIZE + second);
        } else if (second === 0) {
          expect(bytes[at + 6]).toBe(1); // an empty FULL fits in the block's last 7 or 8 bytes
          expect(bytes.length).toBe(at + HEADER_SIZE);
        } else {
          const inFirst = left - HEADER_SIZE;
          expect(bytes[at + 4]).toBe(inFirst); // FIRST carries 0 or 1 payload bytes
          expect(bytes[at + 6]).toBe(2);
          expect(bytes[BLOCK_SIZE + 4]).toBe(second - inFirst);
          expect(bytes[BLOCK_SIZE + 6]).toBe(4); // LAST
        }
        expectSameBytes(bytes, encodeLog(records).bytes);
        const read = readLog(bytes, 'x', false);
        expectSameRecords(read.records, records);
        expect(read.offsets).toEqual(encodeLog(records).recordStarts);
      }
    }
  });

  it('computes framed lengths that match the bytes written', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: BLOCK_SIZE - 1 }), fc.integer({ min: 0, max: 5 * BLOCK_SIZE }), (blockOffset, len) => {
        const size = framedLength(blockOffset, len);
        const fragments = Math.max(1, Math.ceil((size - HEADER_SIZE) / BLOCK_SIZE));
        expect(size).toBeGreaterThanOrEqual(len + HEADER_SIZE);
        expect(size).toBeLessThanOrEqual(len + (fragments + 1) * HEADER_SIZE + 6);
      }),
    );
    const records = sizedRecords([5, 70_000, 0, 32_755], 9);
    const layout = encodeLog(records);
    let offset = 0;
    records.forEach((r, i) => {
      offset += framedLength(offset % BLOCK_SIZE, r.length);
      expect(offset).toBe(layout.recordEnds[i]);
    });
  });
});

describe('log round trips', () => {
  it('reads back records of 0, 1, a block less its header, many blocks and 5 MiB', () => {
    const sizes = [0, 1, BLOCK_SIZE - HEADER_SIZE, 1, 10 * BLOCK_SIZE + 123, 5 * 1024 * 1024, 2, 0];
    const records = sizedRecords(sizes, 2);
    const bytes = writeLog('000005.log', records, 3);
    const read = readLog(bytes, '000005.log', false);
    expectSameRecords(read.records, records);
    expect(read.offsets).toEqual(encodeLog(records).recordStarts);
    expect(read.tornAt).toBeUndefined();
  });

  it('a 5 MiB record from linear memory round-trips', () => {
    const payload = randomBytes(5 * 1024 * 1024, 77);
    const region = new Region(payload.length);
    region.load(payload);
    const file = path.join(dir, '000006.log');
    const writer = new LogWriter(nodeFileSystem.open(file, 'write'));
    writer.addRecord(region.ptr, payload.length);
    writer.syncSync();
    writer.close();
    region.release();
    const read = readLog(readBytes(file), file, false);
    expectSameRecords(read.records, [payload]);
  });

  it('any sequence of records, in any flush grouping, reads back identically', () => {
    const sizeArb = fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(0, 1, BLOCK_SIZE - 14, BLOCK_SIZE - 8, BLOCK_SIZE - HEADER_SIZE, BLOCK_SIZE - 6, BLOCK_SIZE),
      fc.integer({ min: 300, max: 3 * BLOCK_SIZE }),
    );
    let run = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(sizeArb, fc.boolean(), fc.boolean()), { maxLength: 30 }), fc.integer({ min: 1, max: 1 << 30 }), (ops, seed) => {
        const records = ops.map(([size], i) => randomBytes(size, seed + i));
        const file = path.join(dir, `prop-${run++}.log`);
        const writer = new LogWriter(nodeFileSystem.open(file, 'write'));
        const region = new Region(16);
        ops.forEach(([, fromMemory, flush], i) => {
          const record = records[i]!;
          if (fromMemory) writer.addRecord(region.load(record), record.length);
          else writer.addRecordBytes(record);
          if (flush) writer.flushSync();
        });
        writer.close();
        region.release();
        const bytes = readBytes(file);
        expectSameBytes(bytes, encodeLog(records).bytes);
        const read = readLog(bytes, file, false);
        expectSameRecords(read.records, records);
        expect(read.offsets).toEqual(encodeLog(records).recordStarts);
      }),
      { numRuns: 60 },
    );
  });
});

describe('torn tails', () => {
  /** What a reader must return for the first `cut` bytes: complete records, and where the torn part starts. */
  function expectedAt(layout: Layout, cut: number): { count: number; tornAt: number | undefined } {
    const count = layout.recordEnds.filter((end) => end <= cut).length;
    const next = layout.recordStarts[count];
    // Bytes past the last complete record that do not reach the next header are trailer zeros.
    const tornAt = next !== undefined && cut > next ? next : undefined;
    return { count, tornAt };
  }

  it('truncation at every offset of the last 64 KiB yields the complete records before the cut', () => {
    // Just over 64 KiB: small records, a block trailer, empty records, records spanning two and three blocks.
    const sizes = [300, 20, 150, BLOCK_SIZE - 520, 3, 0, 2000, 90, 1, 500, 5, 0, 7, 20, BLOCK_SIZE + 9, 40, 1000];
    const records = sizedRecords(sizes, 6);
    const bytes = writeLog('000007.log', records);
    const layout = encodeLog(records);
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    expect(bytes.length).toBeLessThan(72 * 1024);
    for (let cut = bytes.length - 64 * 1024; cut <= bytes.length; cut++) {
      const read = readLog(bytes.subarray(0, cut), 'x', true);
      const want = expectedAt(layout, cut);
      if (read.records.length !== want.count || read.tornAt !== want.tornAt) {
        expect({ cut, count: read.records.length, tornAt: read.tornAt }).toEqual({ cut, ...want });
      }
      for (let i = 0; i < want.count; i++) {
        if (Buffer.compare(read.records[i]!, records[i]!) !== 0) expect({ cut, record: i }).toBe('identical');
      }
    }
  }, 60_000);

  it('a log truncated on disk reads as its complete records', () => {
    const records = mixedRecords(30, 8);
    const file = path.join(dir, '000008.log');
    const full = writeLog('000008.log', records);
    const layout = encodeLog(records);
    // Shrinking only: truncate would extend the file with zeros.
    for (const cut of [full.length - 1, layout.recordEnds[25]!, layout.recordStarts[20]! + 3]) {
      nodeFs.truncateSync(file, cut);
      const read = readLog(readBytes(file), file, true);
      expect(read.records).toEqual(records.slice(0, expectedAt(layout, cut).count));
      expect(read.tornAt).toBe(expectedAt(layout, cut).tornAt);
    }
  });

  it('a torn tail is corruption when the caller does not allow one', () => {
    const records = sizedRecords([10, 20, 30], 4);
    const layout = encodeLog(records);
    const cut = layout.recordStarts[2]! + 12;
    const { records: got, error } = readUntilError(layout.bytes.subarray(0, cut), '000009.log', false);
    expect(got).toEqual(records.slice(0, 2));
    expect(error).toBeInstanceOf(CorruptionError);
    expect((error as Error).message).toBe(`000009.log: corrupt log at offset ${layout.recordStarts[2]}: truncated fragment payload (damaged tail)`);
    // The same bytes with a torn tail allowed end cleanly.
    expect(readLog(layout.bytes.subarray(0, cut), 'x', true).tornAt).toBe(layout.recordStarts[2]);
  });

  it('a zero-filled tail, as after a crash with preallocated blocks, is torn', () => {
    const records = mixedRecords(10, 11);
    const layout = encodeLog(records);
    for (const zeros of [1, 6, 7, 100, 3 * BLOCK_SIZE]) {
      const bytes = new Uint8Array(layout.bytes.length + zeros);
      bytes.set(layout.bytes);
      const read = readLog(bytes, 'x', true);
      expect(read.records).toEqual(records);
      const end = layout.bytes.length;
      const inTrailer = BLOCK_SIZE - (end % BLOCK_SIZE) < HEADER_SIZE;
      const blockEnd = end - (end % BLOCK_SIZE) + BLOCK_SIZE;
      // Zeros inside a block trailer are the trailer; past it they are damage.
      const tornAt = inTrailer ? (end + zeros > blockEnd ? blockEnd : undefined) : zeros >= 1 ? end : undefined;
      expect(read.tornAt).toBe(tornAt);
      if (tornAt !== undefined) expect(readUntilError(bytes, 'x', false).error).toBeInstanceOf(CorruptionError);
    }
    expect(readLog(new Uint8Array(2 * BLOCK_SIZE), 'x', true)).toEqual({ records: [], offsets: [], tornAt: 0 });
    expect(readLog(new Uint8Array(0), 'x', false)).toEqual({ records: [], offsets: [], tornAt: undefined });
  });

  it('log framing inside a torn record is not mistaken for later records', () => {
    const inner = encodeLog(sizedRecords([5, 9, 300, 40], 12)).bytes;
    const records = [randomBytes(50, 1), inner, randomBytes(20, 2)];
    const layout = encodeLog(records);
    // Cut inside the second record's payload: everything after the cut is the inner log's bytes.
    for (const cut of [layout.recordStarts[1]! + HEADER_SIZE + 10, layout.recordEnds[1]! - 1]) {
      const read = readLog(layout.bytes.subarray(0, cut), 'x', true);
      expect(read.records).toEqual(records.slice(0, 1));
      expect(read.tornAt).toBe(layout.recordStarts[1]);
    }
  });
});

describe('corruption', () => {
  it('a flipped bit anywhere is reported with the file and offset, or (outside its length) drops only the last record', () => {
    const records = mixedRecords(25, 13);
    const layout = encodeLog(records);
    const bytes = layout.bytes;
    const lastFragment = layout.fragments[layout.fragments.length - 1]!;
    const lastRecord = records.length - 1;
    /** Offset the reader must name for damage at byte b: its fragment's header, or the trailer it is in. */
    function damageOffset(b: number): number {
      const f = layout.fragments.find((frag) => b >= frag.start && b < frag.end);
      if (f) return f.start;
      return layout.fragments.filter((frag) => frag.end <= b).pop()!.end; // a block trailer starts where a fragment ended
    }
    /** The last fragment's length field: flipped, its checksum still holds over a prefix, so it was written whole. */
    const lengthOfLast = (b: number): boolean => b === lastFragment.start + 4 || b === lastFragment.start + 5;
    const positions: number[] = [];
    for (let b = 0; b < bytes.length; b += 97) positions.push(b);
    for (const f of layout.fragments) positions.push(f.start, f.start + 4, f.start + 5, f.start + 6, f.start + 7, f.end - 1);
    for (let b = BLOCK_SIZE - 6; b < bytes.length; b += BLOCK_SIZE) positions.push(b, b + 5);
    let seed = 1;
    for (const b of positions) {
      if (b >= bytes.length) continue;
      const flipped = bytes.slice();
      seed = (seed * 48271) % 2147483647;
      flipped[b]! ^= 1 << (seed % 8);
      const inLastFragment = b >= lastFragment.start;
      for (const tailMayBeTorn of [true, false]) {
        const { records: got, error } = readUntilError(flipped, 'wal/000010.log', tailMayBeTorn);
        // Records read before any error are never damaged data.
        got.forEach((r, i) => {
          if (Buffer.compare(r, records[i]!) !== 0) expect({ b, record: i }).toBe('identical');
        });
        if (inLastFragment && tailMayBeTorn && !lengthOfLast(b)) {
          expect(error, `byte ${b}`).toBeUndefined();
          expect(got.length).toBe(lastRecord);
          continue;
        }
        expect(error, `byte ${b}`).toBeInstanceOf(CorruptionError);
        const tail = inLastFragment ? '(damaged tail)' : '(valid data follows at offset';
        const want = `wal/000010.log: corrupt log at offset ${damageOffset(b)}: `;
        const message = (error as Error).message;
        if (!message.startsWith(want) || !message.includes(tail)) expect({ b, message }).toEqual({ b, message: `${want}... ${tail}` });
      }
    }
  });

  it('damage followed by a valid record is corruption even when a torn tail is allowed', () => {
    const records = sizedRecords([100, 200, 300], 14);
    const layout = encodeLog(records);
    const bytes = layout.bytes.slice();
    bytes[layout.recordStarts[1]! + 20]! ^= 0x10;
    const { records: got, error } = readUntilError(bytes, 'db/000011.log', true);
    expect(got).toEqual(records.slice(0, 1));
    expect((error as Error).message).toBe(
      `db/000011.log: corrupt log at offset ${layout.recordStarts[1]}: fragment checksum mismatch (valid data follows at offset ${layout.recordStarts[2]})`,
    );
  });

  it('valid data after a damaged length is found, in its block by the checksum or at a later block start', () => {
    const records = sizedRecords([100, 200, 40_000, 30], 15);
    const layout = encodeLog(records);
    const bytes = layout.bytes.slice();
    // A length that crosses the block hides where the next fragment starts; the stored checksum finds the true end.
    bytes[layout.recordStarts[1]! + 5] = 0xff;
    const { error } = readUntilError(bytes, 'x', true);
    expect((error as Error).message).toBe(
      `x: corrupt log at offset ${layout.recordStarts[1]}: fragment length ${200 | 0xff00} crosses the block boundary (valid data follows at offset ${layout.recordStarts[2]})`,
    );
    // With the checksum damaged too, the next block start is still trusted.
    bytes[layout.recordStarts[1]!] ^= 1;
    const second = readUntilError(bytes, 'x', true);
    expect((second.error as Error).message).toBe(
      `x: corrupt log at offset ${layout.recordStarts[1]}: fragment length ${200 | 0xff00} crosses the block boundary (valid data follows at offset ${BLOCK_SIZE})`,
    );
  });

  it('a damaged length in the last block, with whole records after it, is corruption, not a torn tail', () => {
    const records = sizedRecords([100, 200, 300, 30], 18);
    const layout = encodeLog(records);
    for (const bit of [0, 3, 7]) {
      for (const byte of [4, 5]) {
        const bytes = layout.bytes.slice();
        bytes[layout.recordStarts[1]! + byte]! ^= 1 << bit;
        const { error } = readUntilError(bytes, 'x', true);
        expect((error as Error | undefined)?.message, `bit ${bit} of length byte ${byte}`).toContain(`valid data follows at offset ${layout.recordStarts[2]}`);
      }
    }
  });

  it('fragments out of sequence are corruption', () => {
    const parts = encodeLog(sizedRecords([70_000], 16)); // FIRST, MIDDLE, LAST
    const full = encodeLog(sizedRecords([10], 17));
    const [first, middle] = parts.fragments;
    const slice = (f: Fragment): Uint8Array => parts.bytes.slice(f.start, f.end);
    const cat = (...xs: Uint8Array[]): Uint8Array => Uint8Array.from(xs.flatMap((x) => [...x]));
    // A MIDDLE without a FIRST (it fills its block), then a FULL.
    const orphan = readUntilError(cat(slice(middle!), full.bytes), 'x', true);
    expect((orphan.error as Error).message).toBe('x: corrupt log at offset 0: MIDDLE fragment outside a record (valid data follows at offset 0)');
    // A FIRST, then a FULL in the next block: the open record never ended.
    const unfinished = readUntilError(cat(slice(first!), full.bytes), 'x', true);
    expect((unfinished.error as Error).message).toBe(`x: corrupt log at offset ${BLOCK_SIZE}: FULL fragment inside an open record (valid data follows at offset ${BLOCK_SIZE})`);
    // A FIRST and a MIDDLE at the end of the file: a torn record.
    const torn = readLog(parts.bytes.subarray(0, 2 * BLOCK_SIZE), 'x', true);
    expect(torn).toEqual({ records: [], offsets: [], tornAt: 0 });
    expect((readUntilError(parts.bytes.subarray(0, 2 * BLOCK_SIZE), 'x', false).error as Error).message).toBe(
      `x: corrupt log at offset ${2 * BLOCK_SIZE}: file ends inside a record (damaged tail)`,
    );
  });

  it('non-zero bytes in a block trailer are damage', () => {
    const records = sizedRecords([BLOCK_SIZE - HEADER_SIZE - 3, 10], 18);
    const layout = encodeLog(records);
    const bytes = layout.bytes.slice();
    bytes[BLOCK_SIZE - 2] = 1;
    expect((readUntilError(bytes, 'x', true).error as Error).message).toBe(
      `x: corrupt log at offset ${BLOCK_SIZE - 3}: non-zero bytes in a block trailer (valid data follows at offset ${BLOCK_SIZE})`,
    );
  });
});

// ---- Poisoning ----

/** A FileHandle that delegates to a real file and fails the calls the test arms. */
class FaultyFile implements FileHandle {
  failWrite = false;
  failSync = false;
  /** Delays every datasync by this many ms (so syncs overlap). */
  syncDelay = 0;
  constructor(readonly inner: FileHandle) {}
  get path(): string {
    return this.inner.path;
  }
  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.inner.readSync(buffer, offset, length, position);
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.inner.read(buffer, offset, length, position);
  }
  writeSync(buffer: Uint8Array, offset: number, length: number, position: number | null): void {
    if (this.failWrite) throw new IOError(`write ${this.path} failed: ENOSPC`, { cause: Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }) });
    this.inner.writeSync(buffer, offset, length, position);
  }
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<void> {
    return this.inner.write(buffer, offset, length, position);
  }
  async datasync(): Promise<void> {
    const fail = this.failSync;
    if (this.syncDelay > 0) await new Promise((r) => setTimeout(r, this.syncDelay));
    if (fail) throw new IOError(`fdatasync ${this.path} failed: EIO`);
    await this.inner.datasync();
  }
  datasyncSync(): void {
    if (this.failSync) throw new IOError(`fdatasync ${this.path} failed: EIO`);
    this.inner.datasyncSync();
  }
  size(): number {
    return this.inner.size();
  }
  closeSync(): void {
    this.inner.closeSync();
  }
}

describe('writer poisoning', () => {
  function faulty(): { file: FaultyFile; writer: LogWriter } {
    const file = new FaultyFile(nodeFileSystem.open(path.join(dir, '000012.log'), 'write'));
    return { file, writer: new LogWriter(file) };
  }

  function expectPoisoned(writer: LogWriter, error: unknown): void {
    expect(error).toBeInstanceOf(IOError);
    const region = new Region(8);
    for (const call of [
      () => writer.addRecordBytes(new Uint8Array(3)),
      () => writer.addRecord(region.ptr, 8),
      () => writer.flushSync(),
      () => writer.syncSync(),
    ]) {
      let thrown: unknown;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBe(error);
    }
    region.release();
  }

  it('a failed write poisons the writer, even after the fault clears', async () => {
    const { file, writer } = faulty();
    writer.addRecordBytes(new Uint8Array(10));
    writer.flushSync();
    writer.addRecordBytes(new Uint8Array(20));
    file.failWrite = true;
    let error: unknown;
    try {
      writer.flushSync();
    } catch (err) {
      error = err;
    }
    file.failWrite = false;
    expectPoisoned(writer, error);
    await expect(writer.sync()).rejects.toBe(error);
    writer.close(); // releases without rethrowing
    expect(nodeFs.statSync(file.path).size).toBe(17);
  });

  it('a failed sync poisons the writer', async () => {
    const { file, writer } = faulty();
    writer.addRecordBytes(new Uint8Array(10));
    file.failSync = true;
    const error = await writer.sync().catch((err: unknown) => err);
    file.failSync = false;
    expectPoisoned(writer, error);
    writer.close();
  });

  it('a failed synchronous sync poisons the writer', () => {
    const { file, writer } = faulty();
    writer.addRecordBytes(new Uint8Array(10));
    file.failSync = true;
    let error: unknown;
    try {
      writer.syncSync();
    } catch (err) {
      error = err;
    }
    file.failSync = false;
    expectPoisoned(writer, error);
    writer.close();
  });

  it('a sync that succeeds while an overlapping one fails is not trusted', async () => {
    const { file, writer } = faulty();
    writer.addRecordBytes(new Uint8Array(10));
    file.syncDelay = 20;
    file.failSync = true;
    const failing = writer.sync();
    file.failSync = false;
    writer.addRecordBytes(new Uint8Array(10));
    const overlapping = writer.sync();
    const [a, b] = await Promise.allSettled([failing, overlapping]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason).toBe((a as PromiseRejectedResult).reason);
    writer.close();
  });
});

describe('sync placement', () => {
  /** A log file whose syncs do nothing but take `delayMs` (async: a timer; inline: a busy wait) and are counted. */
  /** A file whose syncs take `delayMs` on a fake clock, the writer's: how syncs are placed then cannot depend on how busy the machine is. */
  class TimedSyncFile extends FaultyFile {
    delayMs = 0;
    inline = 0;
    offThread = 0;
    clockMs = 0;
    override async datasync(): Promise<void> {
      this.offThread++;
      this.clockMs += this.delayMs;
    }
    override datasyncSync(): void {
      this.inline++;
      this.clockMs += this.delayMs;
    }
  }

  function timed(): { file: TimedSyncFile; writer: LogWriter } {
    const file = new TimedSyncFile(nodeFileSystem.open(path.join(dir, '000013.log'), 'write'));
    return { file, writer: new LogWriter(file, 0, () => file.clockMs) };
  }

  it('fast syncs run on the calling thread after the first; a slow one sends the next off it', async () => {
    const { file, writer } = timed();
    expect(writer.syncsInline).toBe(false);
    await writer.sync();
    expect(file.offThread).toBe(1);
    for (let i = 0; i < 5; i++) await writer.sync();
    expect(file.inline).toBe(5);
    file.delayMs = 3;
    await writer.sync(); // inline, and slow
    expect(writer.syncsInline).toBe(false);
    await writer.sync();
    expect(file.offThread).toBe(2);
    expect(file.inline).toBe(6);
    writer.close();
  });

  it('a disk whose syncs are slow keeps them off the calling thread', async () => {
    const { file, writer } = timed();
    file.delayMs = 2;
    for (let i = 0; i < 6; i++) await writer.sync();
    expect(file.offThread).toBe(6);
    expect(file.inline).toBe(0);
    writer.close();
  });
});
