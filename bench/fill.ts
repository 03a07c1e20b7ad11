// The fillrandom inputs shared by the memory and event-loop benches, shaped
// as in bench/compare: 16-byte zero-padded decimal keys, 100-byte values of
// 50 random bytes and their copy (compressing to about half), a random order.

const VALUE_SIZE = 100;
const VALUE_SLOTS = 10_000;

/** xorshift32, seeded: the same numbers on every run. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Key i: its decimal digits zero-padded to 16 bytes, written into `out`. */
export function keyInto(i: number, out: Uint8Array): Uint8Array {
  for (let p = 15; p >= 0; p--) {
    out[p] = 48 + (i % 10);
    i = Math.floor(i / 10);
  }
  return out;
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const random = generator(seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random() % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export function valuePool(seed: number): Uint8Array {
  const random = generator(seed);
  const pool = new Uint8Array(VALUE_SLOTS * VALUE_SIZE);
  for (let slot = 0; slot < VALUE_SLOTS; slot++) {
    const start = slot * VALUE_SIZE;
    for (let b = 0; b < VALUE_SIZE / 2; b++) pool[start + b] = random() & 0xff;
    pool.copyWithin(start + VALUE_SIZE / 2, start, start + VALUE_SIZE / 2);
  }
  return pool;
}

/** The value of key i: a view of its pool slot. */
export function valueOf(pool: Uint8Array, i: number): Uint8Array {
  const slot = i % VALUE_SLOTS;
  return pool.subarray(slot * VALUE_SIZE, (slot + 1) * VALUE_SIZE);
}
