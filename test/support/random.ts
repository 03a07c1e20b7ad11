// Deterministic pseudo-random bytes for tests (xorshift32), so a failure
// reproduces from its seed.
export function randomBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text-like bytes that compress well: words drawn from a small vocabulary. */
export function compressibleBytes(size: number, seed: number): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta ', 'key:', 'value=', '0000', '\n', 'lsm ', 'tree '];
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  let i = 0;
  const enc = new TextEncoder();
  while (i < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const w = enc.encode(words[(x >>> 0) % words.length]!);
    for (let j = 0; j < w.length && i < size; j++) out[i++] = w[j]!;
  }
  return out;
}
