// The workloads of the comparison, in db_bench's shape, and the inputs they
// share. Every store child builds the same inputs from the same seed, so the
// stores see identical keys, values and orders.
import { Buffer } from 'node:buffer';

export const KEY_SIZE = 16;
export const VALUE_SIZE = 100;
export const BATCH_SIZE = 1000;
/** Distinct values in the pool; value(i) is slot i % VALUE_SLOTS. */
const VALUE_SLOTS = 10_000;
/** Each phase is timed in this many slices; a row reports the median slice's rate. */
const SLICES = 20;
/** Entries seekrandom reads after each seek. */
const SEEK_READS = 10;
/** Keys per getMany in readmany. */
const READ_MANY = 16;
/** Concurrent writers of fillsync-64. */
const SYNC_WRITERS = 64;

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

/** How many writes fillsync and fillsync-64 make: each waits for an fsync, so a hundredth of n (at least 64). */
export function syncWrites(n) {
  return Math.max(SYNC_WRITERS, Math.floor(n / 100));
}

/**
 * The inputs of one run: n keys, their values, the fill order, a second
 * order for overwrite, and the read sample (also the seek sample).
 */
export function makeInputs({ n, reads, seed }) {
  const random = generator(seed);
  const pool = valuePool(random);
  return {
    n,
    value: (i) => pool.subarray((i % VALUE_SLOTS) * VALUE_SIZE, (i % VALUE_SLOTS + 1) * VALUE_SIZE),
    randomOrder: permutation(n, random),
    overwriteOrder: permutation(n, random),
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

  /** `minSliceOps`: the fewest operations a slice may hold (concurrent writers finish in bursts; a slice must span several). */
  constructor(totalOps, minSliceOps = 1) {
    this.#sliceOps = Math.max(minSliceOps, Math.ceil(totalOps / SLICES));
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

/** Writes keys indexAt(0..count-1), each with valueOf(i), in batches of BATCH_SIZE. */
async function putInBatches(store, count, indexAt, valueOf) {
  const meter = new Meter(count);
  for (let start = 0; start < count; start += BATCH_SIZE) {
    const end = Math.min(count, start + BATCH_SIZE);
    const ops = new Array(end - start);
    for (let j = start; j < end; j++) {
      const i = indexAt(j);
      ops[j - start] = { type: 'put', key: key(i), value: valueOf(i) };
    }
    await store.batch(ops);
    meter.done(end - start);
  }
  return meter.finish();
}

/** Writes keys indexAt(0..count-1) as single puts, each awaited before the next. */
async function putOneByOne(store, count, indexAt, valueOf, options) {
  const meter = new Meter(count);
  for (let j = 0; j < count; j++) {
    const i = indexAt(j);
    await store.put(key(i), valueOf(i), options);
    meter.done(1);
  }
  return meter.finish();
}

/** `writers` concurrent loops, writer w putting keys indexAt(j) for j = w, w + writers, ..., each put awaited with sync. */
async function concurrentSyncPuts(store, count, writers, indexAt, valueOf) {
  const meter = new Meter(count, 4 * writers);
  const writer = async (w) => {
    for (let j = w; j < count; j += writers) {
      const i = indexAt(j);
      await store.put(key(i), valueOf(i), { sync: true });
      meter.done(1);
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return meter.finish();
}

/** The value key i holds in `state` (overwrite moves every key to another slot). */
function expectedValue(inputs, state, i) {
  return inputs.value(i + state.shift);
}

/** Throws unless the store holds keys indexAt(0..count-1), sampled about 1000 times, with their values: a comparison of wrong stores is worthless. */
async function checkPresent(store, inputs, state, count, indexAt) {
  const step = Math.max(1, Math.floor(count / 1000));
  for (let j = 0; j < count; j += step) {
    const i = indexAt(j);
    const got = await store.get(key(i));
    if (got === undefined || Buffer.compare(got, expectedValue(inputs, state, i)) !== 0) {
      throw new Error(`${store.name}: key ${i} reads back ${got === undefined ? 'missing' : 'a wrong value'}`);
    }
  }
}

/** Throws unless keys indexAt(0..count-1), sampled about 1000 times, are absent. */
async function checkAbsent(store, count, indexAt) {
  const step = Math.max(1, Math.floor(count / 1000));
  for (let j = 0; j < count; j += step) {
    const i = indexAt(j);
    if ((await store.get(key(i))) !== undefined) throw new Error(`${store.name}: deleted key ${i} still reads back`);
  }
}

/** One pass of the store's iterator in `order`; throws unless it yields all n entries starting at the right end. */
async function scan(store, inputs, reverse) {
  const meter = new Meter(inputs.n);
  let count = 0;
  let bytes = 0;
  let first;
  for await (const [k, v] of store.iterate({ reverse })) {
    if (count === 0) first = k;
    count++;
    bytes += k.length + v.length;
    meter.done(1);
  }
  const result = meter.finish();
  const expectedBytes = inputs.n * (KEY_SIZE + VALUE_SIZE);
  if (count !== inputs.n || bytes !== expectedBytes) {
    throw new Error(`${store.name}: ${reverse ? 'readreverse' : 'readseq'} saw ${count} entries and ${bytes} bytes, expected ${inputs.n} and ${expectedBytes}`);
  }
  if (Buffer.compare(first, key(reverse ? inputs.n - 1 : 0)) !== 0) throw new Error(`${store.name}: ${reverse ? 'readreverse' : 'readseq'} started at the wrong key`);
  return result;
}

/** Up to `count` entries from the first key at or after `target`: through the store's cursor if it has one, else a bounded iterator. */
async function readFrom(store, cursor, target, count) {
  if (cursor !== undefined) return cursor.seek(target, count);
  const out = [];
  for await (const entry of store.iterate({ gte: target, limit: count })) out.push(entry);
  return out;
}

const identity = (j) => j;

/**
 * The workloads, in the order a full run takes them. A `fresh` workload
 * fills a new store in an empty directory; the others run on the store the
 * last fresh workload filled, as db_bench does. `leavesFull` says whether
 * the store then holds all n keys (the reads need that); a workload
 * without it leaves the store as it found it. `run(store, inputs, state)`
 * may change `state`, what the store's keys hold.
 */
export const WORKLOADS = [
  {
    name: 'fillseq',
    label: 'fillseq, batches of 1000',
    fresh: true,
    leavesFull: true,
    async run(store, inputs, state) {
      const result = await putInBatches(store, inputs.n, identity, inputs.value);
      await checkPresent(store, inputs, state, inputs.n, identity);
      return result;
    },
  },
  {
    name: 'fillseq-put',
    label: 'fillseq, awaited single puts',
    fresh: true,
    leavesFull: true,
    async run(store, inputs, state) {
      const result = await putOneByOne(store, inputs.n, identity, inputs.value);
      await checkPresent(store, inputs, state, inputs.n, identity);
      return result;
    },
  },
  {
    name: 'fillsync',
    label: 'fillsync (n/100), awaited sync puts',
    fresh: true,
    leavesFull: false,
    async run(store, inputs, state) {
      const count = syncWrites(inputs.n);
      const at = (j) => inputs.randomOrder[j];
      const result = await putOneByOne(store, count, at, inputs.value, { sync: true });
      await checkPresent(store, inputs, state, count, at);
      return result;
    },
  },
  {
    name: 'fillsync-64',
    label: `fillsync-64 (n/100), ${SYNC_WRITERS} writers of sync puts`,
    fresh: true,
    leavesFull: false,
    async run(store, inputs, state) {
      const count = syncWrites(inputs.n);
      const at = (j) => inputs.randomOrder[j];
      const result = await concurrentSyncPuts(store, count, SYNC_WRITERS, at, inputs.value);
      await checkPresent(store, inputs, state, count, at);
      return result;
    },
  },
  {
    name: 'fillrandom',
    label: 'fillrandom, batches of 1000',
    fresh: true,
    leavesFull: true,
    async run(store, inputs, state) {
      const at = (j) => inputs.randomOrder[j];
      const result = await putInBatches(store, inputs.n, at, inputs.value);
      await checkPresent(store, inputs, state, inputs.n, at);
      return result;
    },
  },
  {
    name: 'overwrite',
    label: 'overwrite, batches of 1000',
    fresh: false,
    leavesFull: true,
    async run(store, inputs, state) {
      // Every key once more, in another random order, with a different value.
      state.shift += 1;
      const at = (j) => inputs.overwriteOrder[j];
      const result = await putInBatches(store, inputs.n, at, (i) => expectedValue(inputs, state, i));
      await checkPresent(store, inputs, state, inputs.n, at);
      return result;
    },
  },
  {
    name: 'readrandom',
    label: 'readrandom, awaited get',
    fresh: false,
    async run(store, inputs, state) {
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
      await checkPresent(store, inputs, state, inputs.n, identity);
      return result;
    },
  },
  {
    name: 'readmany',
    label: 'readmany, awaited getMany of 16',
    fresh: false,
    async run(store, inputs, state) {
      // The readrandom sample in groups of 16 keys, each group one getMany awaited before the next.
      const sample = inputs.readSample;
      const meter = new Meter(sample.length);
      let missing = 0;
      for (let s = 0; s < sample.length; s += READ_MANY) {
        const keys = [];
        for (let j = s; j < Math.min(sample.length, s + READ_MANY); j++) keys.push(writeKey(sample[j], new Uint8Array(KEY_SIZE)));
        for (const got of await store.getMany(keys)) if (got === undefined || got.length !== VALUE_SIZE) missing++;
        meter.done(keys.length);
      }
      const result = meter.finish();
      if (missing > 0) throw new Error(`${store.name}: readmany found ${missing} of ${sample.length} keys missing or short`);
      return result;
    },
  },
  {
    name: 'readmissing',
    label: 'readmissing, awaited get',
    fresh: false,
    async run(store, inputs) {
      // Keys n..2n-1 were never written; each shares the 16-byte shape of the present ones.
      const sample = inputs.readSample;
      const meter = new Meter(sample.length);
      const k = new Uint8Array(KEY_SIZE);
      let found = 0;
      for (let s = 0; s < sample.length; s++) {
        if ((await store.get(writeKey(inputs.n + sample[s], k))) !== undefined) found++;
        meter.done(1);
      }
      const result = meter.finish();
      if (found > 0) throw new Error(`${store.name}: readmissing found ${found} of ${sample.length} absent keys`);
      return result;
    },
  },
  {
    name: 'readseq',
    label: 'readseq, iterator',
    fresh: false,
    run: (store, inputs) => scan(store, inputs, false),
  },
  {
    name: 'readreverse',
    label: 'readreverse, reverse iterator',
    fresh: false,
    run: (store, inputs) => scan(store, inputs, true),
  },
  {
    name: 'seekrandom',
    label: `seekrandom, seek + ${SEEK_READS} entries`,
    fresh: false,
    async run(store, inputs) {
      const sample = inputs.readSample;
      const cursor = store.cursor?.();
      const meter = new Meter(sample.length);
      let wrong = 0;
      for (let s = 0; s < sample.length; s++) {
        const i = sample[s];
        const target = key(i);
        const entries = await readFrom(store, cursor, target, SEEK_READS);
        if (entries.length !== Math.min(SEEK_READS, inputs.n - i) || Buffer.compare(entries[0][0], target) !== 0) wrong++;
        meter.done(1);
      }
      const result = meter.finish();
      await cursor?.close();
      if (wrong > 0) throw new Error(`${store.name}: seekrandom read the wrong entries after ${wrong} of ${sample.length} seeks`);
      return result;
    },
  },
  {
    name: 'deleterandom',
    label: 'deleterandom, batches of 1000',
    fresh: false,
    leavesFull: false,
    async run(store, inputs) {
      // Every key once, in the fill's random order: the store ends empty.
      const meter = new Meter(inputs.n);
      for (let start = 0; start < inputs.n; start += BATCH_SIZE) {
        const end = Math.min(inputs.n, start + BATCH_SIZE);
        const ops = new Array(end - start);
        for (let j = start; j < end; j++) ops[j - start] = { type: 'del', key: key(inputs.randomOrder[j]) };
        await store.batch(ops);
        meter.done(end - start);
      }
      const result = meter.finish();
      await checkAbsent(store, inputs.n, (j) => inputs.randomOrder[j]);
      return result;
    },
  },
];

export function workloadNamed(name) {
  const w = WORKLOADS.find((x) => x.name === name);
  if (w === undefined) throw new Error(`unknown workload ${name}; known: ${WORKLOADS.map((x) => x.name).join(', ')}`);
  return w;
}
