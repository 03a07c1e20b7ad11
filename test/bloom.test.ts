import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptionError, InvalidArgumentError } from '../src/errors.js';
import {
  BLOOM_TRAILER_BYTES,
  HASH_BYTES,
  Region,
  bloomBuild,
  bloomBuildAt,
  bloomCheck,
  bloomCheckAt,
  bloomMayContain,
  bloomMayContainAt,
  bloomMayContainBatch,
  bloomMayContainBatchAt,
  bloomProbesFor,
  bloomSize,
  hashBatch,
  hashBatchAt,
  heap,
  raw,
} from '../src/wasm/index.js';

// ---- A plain model of the filter format (docs/FORMAT.md) ----

/** Expected false-positive rate of a 512-bit-blocked filter: block loads are Poisson(512 / bitsPerKey). */
function expectedFpRate(bitsPerKey: number, probes: number): number {
  const lambda = 512 / bitsPerKey;
  let p = Math.exp(-lambda);
  let rate = 0;
  for (let m = 0; m < 4000; m++) {
    if (m > 0) p *= lambda / m;
    if (m > lambda && p < 1e-20) break;
    rate += p * (1 - (1 - 1 / 512) ** (m * probes)) ** probes;
  }
  return rate;
}

/** The probe-count rule: fewest probes within 1% of the best expected rate. */
function modelProbes(bitsPerKey: number): number {
  const rates = Array.from({ length: 24 }, (_, i) => expectedFpRate(bitsPerKey, i + 1));
  const best = Math.min(...rates);
  return rates.findIndex((r) => r <= best * 1.01) + 1;
}

function modelBuild(hashes: BigUint64Array, bitsPerKey: number, probes: number): Uint8Array {
  const blocks = Math.max(1, Math.ceil((hashes.length * bitsPerKey) / 512));
  const out = new Uint8Array(blocks * 64 + 8);
  for (const h of hashes) {
    const block = Number(((h >> 32n) * BigInt(blocks)) >> 32n);
    let x = Number(h & 0xffffffffn);
    for (let j = 0; j < probes; j++) {
      const bit = x >>> 23;
      out[block * 64 + (bit >> 3)]! |= 1 << (bit & 7);
      x = Math.imul(x, 0x9e3779b9) >>> 0;
    }
  }
  new DataView(out.buffer).setUint32(blocks * 64, blocks, true);
  out[blocks * 64 + 4] = probes;
  out[blocks * 64 + 7] = 1;
  return out;
}

function modelMayContain(filter: Uint8Array, h: bigint): boolean {
  const blocks = (filter.length - 8) / 64;
  const probes = filter[filter.length - 4]!;
  const block = Number(((h >> 32n) * BigInt(blocks)) >> 32n);
  let x = Number(h & 0xffffffffn);
  for (let j = 0; j < probes; j++) {
    const bit = x >>> 23;
    if ((filter[block * 64 + (bit >> 3)]! & (1 << (bit & 7))) === 0) return false;
    x = Math.imul(x, 0x9e3779b9) >>> 0;
  }
  return true;
}

// ---- Large-scale helpers, all in linear memory ----

/**
 * Hashes keys "0000000000000000".."" numbered [first, first + count) (16
 * ASCII digits each, like db_bench's keys); returns a region of 8-byte hashes.
 */
function hashNumberedKeys(first: number, count: number): Region {
  const keys = new Region(count * 16 + (count + 1) * 4);
  const keysPtr = keys.ptr;
  const offsetsPtr = keysPtr + count * 16;
  const mem = heap.u8();
  const dv = heap.view();
  for (let i = 0; i < count; i++) {
    let n = first + i;
    const at = keysPtr + i * 16;
    for (let d = 15; d >= 0; d--) {
      mem[at + d] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
    dv.setUint32(offsetsPtr + i * 4, i * 16, true);
  }
  dv.setUint32(offsetsPtr + count * 4, count * 16, true);
  const hashes = new Region(count * HASH_BYTES);
  hashBatchAt(keysPtr, count * 16, offsetsPtr, count, hashes.ptr);
  keys.release();
  return hashes;
}

function buildInPlace(hashes: Region, count: number, bitsPerKey: number): { filter: Region; len: number } {
  const size = bloomSize(count, bitsPerKey);
  const filter = new Region(size);
  const len = bloomBuildAt(hashes.ptr, count, bitsPerKey, filter.ptr, size);
  return { filter, len };
}

function probeAll(filter: Region, len: number, hashes: Region, count: number): number {
  const out = new Region(count);
  const maybe = bloomMayContainBatchAt(filter.ptr, len, hashes.ptr, count, out.ptr);
  let ones = 0;
  for (const b of heap.u8().subarray(out.ptr, out.ptr + count)) ones += b;
  expect(ones).toBe(maybe);
  out.release();
  return maybe;
}

const N = 1_000_000;
const present = hashNumberedKeys(0, N);
const absent = hashNumberedKeys(N, N);

function measuredFpRate(bitsPerKey: number): number {
  const { filter, len } = buildInPlace(present, N, bitsPerKey);
  expect(probeAll(filter, len, present, N), 'false negatives').toBe(N);
  const rate = probeAll(filter, len, absent, N) / N;
  const model = expectedFpRate(bitsPerKey, bloomProbesFor(bitsPerKey));
  console.log(
    `bloom ${bitsPerKey} bits/key, ${bloomProbesFor(bitsPerKey)} probes: ` +
      `false positives ${(rate * 100).toFixed(3)}% over ${N} absent keys (model ${(model * 100).toFixed(3)}%)`,
  );
  filter.release();
  return rate;
}

/** Allowed rate: the model plus 10% and four standard deviations of sampling noise. */
function bound(bitsPerKey: number): number {
  const model = expectedFpRate(bitsPerKey, bloomProbesFor(bitsPerKey));
  return model * 1.1 + 4 * Math.sqrt(model / N);
}

describe('bloom filter: accuracy at 1,000,000 keys', () => {
  it('has no false negative and at most 1.2% false positives at 10 bits/key', () => {
    const rate = measuredFpRate(10);
    expect(rate).toBeLessThanOrEqual(0.012);
    expect(rate).toBeLessThanOrEqual(bound(10));
  });

  it.each([5, 15, 20])('stays within the blocked-filter model at %i bits/key', (bitsPerKey) => {
    expect(measuredFpRate(bitsPerKey)).toBeLessThanOrEqual(bound(bitsPerKey));
  });
});

describe('bloom filter: format and API', () => {
  it('chooses the probe count of the model from 1 to 64 bits/key', () => {
    // Every quarter bit, and every 10 millibits around each change of count.
    const points = new Set<number>();
    for (let millibits = 1000; millibits <= 64_000; millibits += 250) points.add(millibits);
    for (let centibits = 100; centibits < 6400; centibits++) {
      if (bloomProbesFor(centibits / 100) !== bloomProbesFor((centibits + 1) / 100)) {
        for (let d = -60; d <= 60; d += 10) points.add(Math.min(64_000, centibits * 10 + d));
      }
    }
    expect(points.size).toBeGreaterThan(400);
    for (const millibits of points) {
      expect(bloomProbesFor(millibits / 1000), `${millibits} millibits`).toBe(modelProbes(millibits / 1000));
    }
  });

  it('writes exactly the bytes of the model and answers as the model (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 300 }),
        fc.double({ min: 1, max: 64, noNaN: true }),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 50 }),
        (list, bitsPerKey, others) => {
          const hashes = BigUint64Array.from(list);
          const filter = bloomBuild(hashes, bitsPerKey);
          expect(filter.length).toBe(bloomSize(hashes.length, bitsPerKey));
          expect(filter).toEqual(modelBuild(hashes, bitsPerKey, bloomProbesFor(bitsPerKey)));
          const probes = BigUint64Array.from(others);
          const batch = bloomMayContainBatch(filter, probes);
          probes.forEach((h, i) => {
            expect(batch[i]).toBe(modelMayContain(filter, h) ? 1 : 0);
            expect(bloomMayContain(filter, h)).toBe(modelMayContain(filter, h));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never forgets a key (property over key sets and bits/key)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 500 }),
        fc.double({ min: 1, max: 64, noNaN: true }),
        (keys, bitsPerKey) => {
          const hashes = hashBatch(keys);
          const filter = bloomBuild(hashes, bitsPerKey);
          expect(bloomCheck(filter)).toBe(bloomProbesFor(bitsPerKey));
          expect(Array.from(bloomMayContainBatch(filter, hashes)).every((b) => b === 1)).toBe(true);
          for (const h of hashes) expect(bloomMayContain(filter, h)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps its on-disk bytes (golden vector: keys "a", "b", "c" at 10 bits/key)', () => {
    const enc = new TextEncoder();
    const filter = bloomBuild(hashBatch(['a', 'b', 'c'].map((k) => enc.encode(k))), 10);
    expect(Buffer.from(filter).toString('hex')).toBe(
      '0800000000002000000000000000000000000801000000000000000040001000' +
        '000a000120020000000008008000000000110000100000000000000002000000' +
        '0100000006000001',
    );
  });

  it('sizes filters in whole 64-byte blocks plus the trailer', () => {
    expect(bloomSize(0, 10)).toBe(64 + BLOOM_TRAILER_BYTES);
    expect(bloomSize(1, 10)).toBe(64 + BLOOM_TRAILER_BYTES);
    expect(bloomSize(51, 10)).toBe(64 + BLOOM_TRAILER_BYTES);
    expect(bloomSize(52, 10)).toBe(128 + BLOOM_TRAILER_BYTES);
    expect(bloomSize(1_000_000, 10)).toBe(19_532 * 64 + BLOOM_TRAILER_BYTES);
    expect(bloomProbesFor(10)).toBe(6);
  });

  it('an empty key set gives a filter that contains nothing', () => {
    const filter = bloomBuild(new BigUint64Array(0), 10);
    expect(bloomCheck(filter)).toBe(6);
    const probes = hashBatch([new Uint8Array(0), new Uint8Array([1]), new Uint8Array([1, 2, 3])]);
    expect(Array.from(bloomMayContainBatch(filter, probes))).toEqual([0, 0, 0]);
  });

  it('rejects bad arguments', () => {
    for (const bitsPerKey of [0, 0.99, 64.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => bloomSize(10, bitsPerKey), String(bitsPerKey)).toThrow(InvalidArgumentError);
      expect(() => bloomProbesFor(bitsPerKey)).toThrow(InvalidArgumentError);
    }
    expect(() => bloomSize(-1, 10)).toThrow(InvalidArgumentError);
    expect(() => bloomSize(0xffffffff, 64)).toThrow(InvalidArgumentError);
    expect(() => bloomMayContain(bloomBuild(new BigUint64Array(1), 10), -1n)).toThrow(InvalidArgumentError);
    const region = new Region(1024);
    expect(() => bloomBuildAt(region.ptr, 10, 10, region.ptr + 128, 71)).toThrow(InvalidArgumentError);
    expect(bloomBuildAt(region.ptr, 10, 10, region.ptr + 128, 72)).toBe(72);
    region.release();
  });
});

describe('bloom filter: malformed filters', () => {
  const hashes = hashBatch(Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`key${i}`)));
  const absentHashes = hashBatch(Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`other${i}`)));
  const good = bloomBuild(hashes, 10);

  function damaged(edit: (f: Uint8Array, trailer: number) => void): Uint8Array {
    const copy = good.slice();
    edit(copy, copy.length - BLOOM_TRAILER_BYTES);
    return copy;
  }

  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['trailer only', good.slice(good.length - BLOOM_TRAILER_BYTES)],
    ['truncated by one byte', good.slice(1)],
    ['one byte too long', Uint8Array.from([...good, 0])],
    ['truncated by a whole block', good.slice(64)],
    ['unknown tag', damaged((f, t) => (f[t + 7] = 2))],
    ['zero probes', damaged((f, t) => (f[t + 4] = 0))],
    ['too many probes', damaged((f, t) => (f[t + 4] = 33))],
    ['reserved byte set', damaged((f, t) => (f[t + 5] = 1))],
    ['block count too large', damaged((f, t) => new DataView(f.buffer).setUint32(t, 0xffffffff, true))],
    ['block count zero', damaged((f, t) => new DataView(f.buffer).setUint32(t, 0, true))],
  ];

  it.each(cases)('%s: reported as corruption, probed as "may contain"', (_name, filter) => {
    expect(() => bloomCheck(filter)).toThrow(CorruptionError);
    for (const h of absentHashes) expect(bloomMayContain(filter, h)).toBe(true);
    expect(Array.from(bloomMayContainBatch(filter, absentHashes)).every((b) => b === 1)).toBe(true);
  });

  it('the undamaged filter excludes most absent keys (so the cases above can fail)', () => {
    expect(bloomCheck(good)).toBe(6);
    const answers = bloomMayContainBatch(good, absentHashes);
    expect(answers.reduce((n, b) => n + b, 0)).toBeLessThan(20);
  });

  it('arbitrary bytes never trap (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (bytes, h) => {
        let probes = -1;
        try {
          probes = bloomCheck(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptionError);
        }
        const answer = bloomMayContain(bytes, h);
        if (probes < 0) expect(answer).toBe(true);
        expect(bloomMayContainBatch(bytes, BigUint64Array.of(h))[0]).toBe(answer ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary block bits under a valid trailer never trap, even at the end of memory', () => {
    // A filter whose last byte is the last byte of linear memory, so any read
    // past it traps. The page is grown behind the allocator's back: TLSF only
    // adds pages it grows itself, so it never hands this one out.
    raw.memory.grow(1);
    const mem = heap.u8();
    const len = 64 * 4 + BLOOM_TRAILER_BYTES;
    const ptr = mem.length - len;
    mem.fill(0xff, ptr, ptr + len - BLOOM_TRAILER_BYTES);
    heap.view().setUint32(ptr + len - 8, 4, true);
    mem.set([32, 0, 0, 1], ptr + len - 4);
    expect(bloomCheckAt(ptr, len)).toBe(32);
    for (const h of absentHashes) {
      expect(bloomMayContainAt(ptr, len, Number(h & 0xffffffffn), Number(h >> 32n))).toBe(true);
    }
    mem.fill(0, ptr, ptr + len);
  });
});
