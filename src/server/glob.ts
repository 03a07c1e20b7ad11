// Redis's glob patterns (KEYS, SCAN MATCH): * any run, ? any byte, [abc]
// [^a] [a-z] a set, \x the byte x. Matched over bytes, as Redis does.

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;

/** Whether `key` matches `pattern`. Iterative, with one backtrack point per star, so no pattern is exponential. */
export function globMatch(pattern: Uint8Array, key: Uint8Array): boolean {
  let p = 0;
  let k = 0;
  let starP = -1;
  let starK = 0;
  while (k < key.length) {
    if (p < pattern.length && pattern[p] === STAR) {
      starP = ++p;
      starK = k;
      continue;
    }
    const step = p < pattern.length ? matchOne(pattern, p, key[k]!) : -1;
    if (step > 0) {
      p += step;
      k++;
    } else if (starP >= 0) {
      p = starP;
      k = ++starK;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === STAR) p++;
  return p === pattern.length;
}

/** Pattern bytes consumed if the element at `p` matches `byte`; 0 if it does not. */
function matchOne(pattern: Uint8Array, p: number, byte: number): number {
  const c = pattern[p]!;
  if (c === QUESTION) return 1;
  if (c === BACKSLASH && p + 1 < pattern.length) return pattern[p + 1] === byte ? 2 : 0;
  if (c !== OPEN) return c === byte ? 1 : 0;
  let i = p + 1;
  const negate = pattern[i] === CARET;
  if (negate) i++;
  let hit = false;
  for (; i < pattern.length && pattern[i] !== CLOSE; i++) {
    if (pattern[i] === BACKSLASH && i + 1 < pattern.length) {
      if (pattern[++i] === byte) hit = true;
    } else if (pattern[i + 1] === DASH && i + 2 < pattern.length && pattern[i + 2] !== CLOSE) {
      const lo = Math.min(pattern[i]!, pattern[i + 2]!);
      const hi = Math.max(pattern[i]!, pattern[i + 2]!);
      if (byte >= lo && byte <= hi) hit = true;
      i += 2;
    } else if (pattern[i] === byte) hit = true;
  }
  // An unclosed set runs to the end of the pattern, as in Redis.
  return hit !== negate ? i - p + (i < pattern.length ? 1 : 0) : 0;
}

/** The bytes every matching key starts with: the pattern up to its first special byte (escapes resolved). */
export function literalPrefix(pattern: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let p = 0; p < pattern.length; p++) {
    const c = pattern[p]!;
    if (c === STAR || c === QUESTION || c === OPEN) break;
    if (c === BACKSLASH) {
      if (p + 1 >= pattern.length) break;
      out.push(pattern[++p]!);
    } else out.push(c);
  }
  return Uint8Array.from(out);
}
