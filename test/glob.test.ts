// Redis glob patterns (KEYS, SCAN MATCH) against a model: the same pattern
// turned into a regular expression.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { globMatch, literalPrefix } from '../src/server/glob.js';

const enc = new TextEncoder();

/** The model: * any run, ? any one char, [set] with ranges and ^, \x the char x. */
function toRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      const body = pattern.slice(i + 1, close);
      const negate = body.startsWith('^');
      re += `[${negate ? '^' : ''}${(negate ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// Patterns over a small alphabet (so matches are common), sets always closed and non-empty.
const atom = fc.oneof(
  fc.constantFrom('a', 'b', 'c', '*', '?', '\\*', '\\a'),
  fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'ab', 'a-c', 'b-c')).map(([neg, set]) => `[${neg ? '^' : ''}${set}]`),
);
const pattern = fc.array(atom, { maxLength: 8 }).map((atoms) => atoms.join(''));
const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '*'), maxLength: 10 });

describe('glob patterns', () => {
  it('match exactly what the regular-expression model matches', () => {
    fc.assert(
      fc.property(pattern, key, (p, k) => {
        expect(globMatch(enc.encode(p), enc.encode(k))).toBe(toRegExp(p).test(k));
      }),
      { numRuns: 20_000 },
    );
  });

  it('have a literal prefix every matching key starts with', () => {
    fc.assert(
      fc.property(pattern, key, (p, k) => {
        const prefix = new TextDecoder().decode(literalPrefix(enc.encode(p)));
        if (globMatch(enc.encode(p), enc.encode(k))) expect(k.startsWith(prefix)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('take a pathological pattern without exponential backtracking', () => {
    const p = enc.encode('a*'.repeat(50) + 'b');
    const k = enc.encode('a'.repeat(5000));
    const started = performance.now();
    expect(globMatch(p, k)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
