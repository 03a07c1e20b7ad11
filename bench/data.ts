// Deterministic inputs for the kernel benchmarks.
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

/**
 * Values like db_bench's: runs of random bytes repeated so that the data
 * compresses to about half its size.
 */
export function halfCompressibleBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const source = randomBytes(size, seed);
  let i = 0;
  let s = 0;
  while (i < size) {
    const run = Math.min(16, size - i);
    out.set(source.subarray(s, s + run), i);
    i += run;
    // Repeat the run once: half the bytes are fresh, half are copies.
    const rep = Math.min(run, size - i);
    out.set(out.subarray(i - run, i - run + rep), i);
    i += rep;
    s += run;
  }
  return out;
}

/** 16-byte keys in db_bench's style: zero-padded decimal numbers. */
export function numberedKeys(count: number, seed: number): Uint8Array[] {
  const keys: Uint8Array[] = [];
  let x = seed >>> 0 || 1;
  const enc = new TextEncoder();
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys.push(enc.encode(String(x >>> 0).padStart(16, '0')));
  }
  return keys;
}
