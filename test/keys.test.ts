import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  InvalidArgumentError,
  CorruptionError,
  Kind,
  MAX_SEQUENCE,
  SEEK_KIND,
  compareInternalKeys,
  makeInternalKey,
  makeSeekKey,
  parseTrailer,
  userKeyOf,
} from '../src/index.js';
import { Region, raw } from '../src/wasm/index.js';

const seqArb = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, 255, 256, 2 ** 24, 2 ** 32, MAX_SEQUENCE), fc.maxSafeNat());
const userKeyArb = fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ minLength: 0, maxLength: 3, min: 0, max: 2 }));
const internalKeyArb = fc.tuple(userKeyArb, seqArb, fc.integer({ min: 0, max: 255 })).map(([u, s, k]) => makeInternalKey(u, s, k));

/** The module's own comparison, the authority the JS model must agree with. */
function wasmCompare(a: Uint8Array, b: Uint8Array): number {
  const region = new Region(a.length + b.length);
  region.load(new Uint8Array([...a, ...b]));
  const c = raw.compareInternalKeys(region.ptr, a.length, region.ptr + a.length, b.length);
  region.release();
  return c;
}

describe('internal keys (JS helpers)', () => {
  it('round-trips user key, sequence and kind', () => {
    fc.assert(
      fc.property(userKeyArb, seqArb, fc.integer({ min: 0, max: 255 }), (user, seq, kind) => {
        const key = makeInternalKey(user, seq, kind);
        expect(key.length).toBe(user.length + 8);
        expect(userKeyOf(key)).toEqual(user);
        expect(parseTrailer(key)).toEqual({ seq, kind });
      }),
    );
  });

  it('writes the trailer as little-endian seq << 8 | kind', () => {
    const key = makeInternalKey(new Uint8Array([0xaa]), 0x0102030405, Kind.Value);
    expect([...key]).toEqual([0xaa, 0x01, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00]);
  });

  it('orders exactly like the module', () => {
    fc.assert(
      fc.property(internalKeyArb, internalKeyArb, (a, b) => {
        expect(Math.sign(compareInternalKeys(a, b))).toBe(Math.sign(wasmCompare(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts newer sequences first and a seek key before every visible version', () => {
    const user = new Uint8Array([1, 2, 3]);
    expect(compareInternalKeys(makeInternalKey(user, 9, 1), makeInternalKey(user, 8, 1))).toBeLessThan(0);
    expect(compareInternalKeys(makeSeekKey(user, 8), makeInternalKey(user, 8, SEEK_KIND - 1))).toBeLessThan(0);
    expect(compareInternalKeys(makeSeekKey(user, 8), makeInternalKey(user, 9, 0))).toBeGreaterThan(0);
  });

  it('rejects bad sequences, kinds and short keys', () => {
    expect(() => makeInternalKey(new Uint8Array(0), -1, 1)).toThrow(InvalidArgumentError);
    expect(() => makeInternalKey(new Uint8Array(0), 1.5, 1)).toThrow(InvalidArgumentError);
    expect(() => makeInternalKey(new Uint8Array(0), MAX_SEQUENCE + 1, 1)).toThrow(InvalidArgumentError);
    expect(() => makeInternalKey(new Uint8Array(0), 1, 256)).toThrow(InvalidArgumentError);
    expect(() => parseTrailer(new Uint8Array(7))).toThrow(InvalidArgumentError);
    expect(() => parseTrailer(new Uint8Array(8).fill(0xff))).toThrow(CorruptionError);
  });
});
