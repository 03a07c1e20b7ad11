// WindowedInput serves any read from its read-ahead window, refilling it on
// a miss: reads must return exactly the file's bytes, short only at the end.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WindowedInput } from '../src/compaction/windowed-input.js';
import { ClosedError, ReadOnlyError } from '../src/errors.js';

function input(file: Uint8Array, windowSize: number): { input: WindowedInput; fills: () => number; closes: () => number } {
  let fills = 0;
  let closes = 0;
  const fill = (into: Uint8Array, position: number, length: number): number => {
    fills++;
    expect(length).toBeLessThanOrEqual(into.length);
    const bytes = file.subarray(position, position + length);
    into.set(bytes);
    return bytes.length;
  };
  const w = new WindowedInput('t.vt', file.length, new Uint8Array(windowSize), fill, () => closes++);
  return { input: w, fills: () => fills, closes: () => closes };
}

describe('WindowedInput', () => {
  it('reads the same bytes as the file, at any position and length (model: the array)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.tuple(fc.nat(3200), fc.nat(1500)), { maxLength: 30 }),
        (file, windowSize, reads) => {
          const { input: w } = input(file, windowSize);
          for (const [position, length] of reads) {
            const out = new Uint8Array(length + 3);
            const n = w.readSync(out, 3, length, position);
            const want = file.subarray(position, position + length);
            expect(n).toBe(want.length);
            expect([...out.subarray(3, 3 + n)]).toEqual([...want]);
          }
        },
      ),
    );
  });

  it('refills only when a read leaves the window; refuses writes and use after close', () => {
    const file = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const { input: w, fills, closes } = input(file, 256);
    const out = new Uint8Array(16);
    for (let p = 0; p < 256; p += 16) w.readSync(out, 0, 16, p);
    expect(fills()).toBe(1);
    w.readSync(out, 0, 16, 250);
    expect(fills()).toBe(2);
    expect(() => w.writeSync()).toThrow(ReadOnlyError);
    w.closeSync();
    w.closeSync();
    expect(closes()).toBe(1);
    expect(() => w.readSync(out, 0, 1, 0)).toThrow(ClosedError);
  });
});
