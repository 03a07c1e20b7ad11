import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CommandTable } from '../src/server/command-table.js';
import type { Command } from '../src/server/command.js';
import { commandTable } from '../src/server/commands/index.js';

const command = (name: string): Command => ({ name, arity: 1, flags: [], firstKey: 0, lastKey: 0, step: 0, run: () => () => {} });
const names = ['get', 'set', 'getset', 'getex', 'ping', 'del', 'incrbyfloat', 'x', 'a1-b_c'];
const byName = new Map(names.map((n) => [n, command(n)]));
const table = new CommandTable(byName);

/** The model: ASCII letters lowered (as Redis's strcasecmp does), then the map. */
const model = (arg: Uint8Array): Command | undefined =>
  byName.get(String.fromCharCode(...arg.map((c) => (c >= 65 && c <= 90 ? c + 32 : c))));

describe('CommandTable', () => {
  it('finds a command from its name in any ASCII case, and nothing else', () => {
    const nameArb = fc.constantFrom(...names).chain((n) =>
      fc.array(fc.boolean(), { minLength: n.length, maxLength: n.length }).map((upper) => Buffer.from([...n].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(''), 'latin1')),
    );
    // Near misses: a name with one byte changed, including to the byte 0x20 away from a non-letter.
    const nearArb = fc.tuple(fc.constantFrom(...names), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([n, at, byte]) => {
      const b = Buffer.from(n, 'latin1');
      b[at % b.length] = byte;
      return b;
    });
    // A name with bit 0x20 of one byte flipped: a case change for a letter, another byte for anything else.
    const flippedArb = fc.tuple(fc.constantFrom(...names), fc.nat()).map(([n, at]) => {
      const b = Buffer.from(n, 'latin1');
      b[at % b.length] ^= 0x20;
      return b;
    });
    const argArb = fc.oneof(nameArb, nearArb, flippedArb, fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u)));
    fc.assert(
      fc.property(argArb, (arg) => {
        expect(table.find(arg)).toBe(model(arg));
      }),
      { numRuns: 5000 },
    );
    // Sequences that look the same arrays up again, as the parser's shared names are: each answer is still the model's.
    fc.assert(
      fc.property(fc.array(argArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 30 }), (args, picks) => {
        for (const i of picks) {
          const arg = args[i % args.length]!;
          expect(table.find(arg)).toBe(model(arg));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('holds every command of varve serve under its name', () => {
    const served = commandTable(async () => '');
    for (const name of ['get', 'set', 'client', 'command', 'scan', 'flushall', 'incrbyfloat']) {
      expect(served.find(Buffer.from(name.toUpperCase()))?.name).toBe(name);
    }
    expect(served.find(Buffer.from('nosuchcommand'))).toBeUndefined();
  });
});
