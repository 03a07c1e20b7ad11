// The workloads of the comparison, in db_bench's shape, and the inputs they
// share. Every store child builds the same inputs from the same seed, so the
// stores see identical keys, values and orders.

export const KEY_SIZE = 16;
export const VALUE_SIZE = 100;
export const BATCH_SIZE = 1000;
/** Distinct values in the pool; value(i) is slot i % VALUE_SLOTS. */
const VALUE_SLOTS = 10_000;
/** Each phase is timed in this many slices; a row reports the median slice's rate. */
const SLICES = 20;

/** xorshift32: a small deterministic generator, so every child draws the same numbers. */
function generator(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Key i as db_bench spells it: the decimal number zero-padded to 16 bytes. */
export function writeKey(i, out) {
  for (let p = KEY_SIZE - 1; p >= 0; p--) {
    out[p] = 48 + (i % 10);
    i = Math.floor(i / 10);
  }
  return out;
}

export function key(i) {
  return writeKey(i, new Uint8Array(KEY_SIZE));
}

/**
 * Values like db_bench's: each 100-byte slot is 50 random bytes followed by
 * a copy of them, so a value compresses to about half.
 */
function valuePool(random) {
  const pool = new Uint8Array(VALUE_SLOTS * VALUE_SIZE);
  const half = VALUE_SIZE / 2;
  for (let slot = 0; slot < VALUE_SLOTS; slot++) {
    const start = slot * VALUE_SIZE;
    for (let b = 0; b < half; b++) pool[start + b] = random() & 0xff;
    pool.copyWithin(start + half, start, start + half);
  }
  return pool;
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
function permutation(n, random) {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random() % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

function sample(count, n, random) {
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = random() % n;
  return out;
}

/** The inputs of one run: n keys, their values, the fill order and the read sample. */
export function makeInputs({ n, reads, seed }) {
  const random = generator(seed);
  const pool = valuePool(random);
  return {
    n,
    value: (i) => pool.subarray((i % VALUE_SLOTS) * VALUE_SIZE, (i % VALUE_SLOTS + 1) * VALUE_SIZE),
    randomOrder: permutation(n, random),
    readSample: sample(reads, n, random),
  };
}

/**
 * Times a phase in slices of about 1/SLICES of its operations. `done(k)`
 * after each unit of k operations; `finish()` gives the phase's figures.
 */
export class Meter {
  #sliceOps;
  #start = performance.now();
  #sliceStart = this.#start;
  #inSlice = 0;
  #ops = 0;
  #rates = [];

  constructor(totalOps) {
    this.#sliceOps = Math.max(1, Math.ceil(totalOps / SLICES));
  }

  done(k) {
    this.#inSlice += k;
    if (this.#inSlice >= this.#sliceOps) this.#closeSlice();
  }

  #closeSlice() {
    const now = performance.now();
    this.#rates.push((this.#inSlice * 1000) / (now - this.#sliceStart));
    this.#ops += this.#inSlice;
    this.#inSlice = 0;
    this.#sliceStart = now;
  }

  finish() {
    if (this.#inSlice > 0) this.#closeSlice();
    const seconds = (performance.now() - this.#start) / 1000;
    return { ops: this.#ops, seconds, opsPerSec: median(this.#rates), wholePhaseOpsPerSec: this.#ops / seconds, sliceOpsPerSec: this.#rates };
  }
}

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function fillInBatches(store, inputs, indexAt) {
  const meter = new Meter(inputs.n);
  for (let start = 0; start < inputs.n; start += BATCH_SIZE) {
    const end = Math.min(inputs.n, start + BATCH_SIZE);
    const ops = new Array(end - start);
    for (let j = start; j < end; j++) {
      const i = indexAt(j);
      ops[j - start] = { type: 'put', key: key(i), value: inputs.value(i) };
    }
    await store.batch(ops);
    meter.done(end - start);
  }
  return meter.finish();
}

/** Throws unless the store holds key i with its value: a comparison of wrong stores is worthless. */
async function checkSample(store, inputs, count) {
  const step = Math.max(1, Math.floor(inputs.n / count));
  for (let i = 0; i < inputs.n; i += step) {
    const got = await store.get(key(i));
    if (got === undefined || Buffer.compare(got, inputs.value(i)) !== 0) {
      throw new Error(`${store.name}: key ${i} reads back ${got === undefined ? 'missing' : 'a wrong value'}`);
    }
  }
}

/**
 * The workloads, in the order a full run takes them. A `fresh` workload
 * fills a new store in an empty directory; the others run on the store the
 * last fresh workload filled, as db_bench does.
 */
export const WORKLOADS = [
  {
    name: 'fillseq',
    label: 'fillseq, batches of 1000',
    fresh: true,
    run: (store, inputs) => fillInBatches(store, inputs, (j) => j),
  },
  {
    name: 'fillrandom',
    label: 'fillrandom, batches of 1000',
    fresh: true,
    run: (store, inputs) => fillInBatches(store, inputs, (j) => inputs.randomOrder[j]),
  },
  {
    name: 'readrandom',
    label: 'readrandom, awaited get',
    fresh: false,
    async run(store, inputs) {
      const sample = inputs.readSample;
      const meter = new Meter(sample.length);
      // One key buffer, rewritten per get: each get is awaited before the next.
      const k = new Uint8Array(KEY_SIZE);
      let missing = 0;
      for (let s = 0; s < sample.length; s++) {
        const got = await store.get(writeKey(sample[s], k));
        if (got === undefined || got.length !== VALUE_SIZE) missing++;
        meter.done(1);
      }
      const result = meter.finish();
      if (missing > 0) throw new Error(`${store.name}: readrandom found ${missing} of ${sample.length} keys missing or short`);
      await checkSample(store, inputs, 1000);
      return result;
    },
  },
  {
    name: 'readseq',
    label: 'readseq, iterator',
    fresh: false,
    async run(store, inputs) {
      const meter = new Meter(inputs.n);
      let count = 0;
      let bytes = 0;
      for await (const [k, v] of store.iterate()) {
        count++;
        bytes += k.length + v.length;
        meter.done(1);
      }
      const result = meter.finish();
      if (count !== inputs.n || bytes !== inputs.n * (KEY_SIZE + VALUE_SIZE)) {
        throw new Error(`${store.name}: readseq saw ${count} entries and ${bytes} bytes, expected ${inputs.n} and ${inputs.n * (KEY_SIZE + VALUE_SIZE)}`);
      }
      return result;
    },
  },
];

export function workloadNamed(name) {
  const w = WORKLOADS.find((x) => x.name === name);
  if (w === undefined) throw new Error(`unknown workload ${name}; known: ${WORKLOADS.map((x) => x.name).join(', ')}`);
  return w;
}
