import { wasm, WriteBatch, Kind, MAX_SEQUENCE } from 'varve';
import type { Case } from '../harness.js';
import { halfCompressibleBytes, numberedKeys } from '../data.js';
import { JsArraySkipList, JsSkipList } from './js-skiplist.js';

const BATCHES = 32;
const BATCH_SIZE = 1000;
const ENTRIES = BATCHES * BATCH_SIZE; // ~4.5 MiB of nodes: a typical memtable
const VALUE_SIZE = 100;
const GETS = 1000;
const KEY_SLOT = 24; // a 16-byte key and 8 spare bytes for the seek trailer

interface Record {
  key: Uint8Array;
  value: Uint8Array;
}

function makeRecords(): Record[] {
  const keys = numberedKeys(ENTRIES, 2024);
  const values = halfCompressibleBytes(ENTRIES * VALUE_SIZE, 7);
  return keys.map((key, i) => ({ key, value: values.subarray(i * VALUE_SIZE, (i + 1) * VALUE_SIZE) }));
}

/** The write batches as the engine holds them: encoded in linear memory, sequences assigned. */
function makeBatches(records: Record[]): WriteBatch[] {
  const batches: WriteBatch[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const batch = new WriteBatch(BATCH_SIZE * 128);
    batch.setSequence(1 + b * BATCH_SIZE);
    for (const r of records.slice(b * BATCH_SIZE, (b + 1) * BATCH_SIZE)) batch.put(r.key, r.value);
    batches.push(batch);
  }
  return batches;
}

function fillVarve(list: wasm.SkipList, batches: WriteBatch[]): number {
  list.reset();
  for (const b of batches) list.insertBatchAt(b.ptr, b.len);
  return list.count;
}

// One fill function per rival, so each keeps a monomorphic insert call site.
// The rival's batch: records in a JS array, record i with sequence first + i.
function fillObjects(records: Record[]): JsSkipList {
  const list = new JsSkipList();
  for (let b = 0; b < BATCHES; b++) {
    const first = 1 + b * BATCH_SIZE;
    for (let i = 0; i < BATCH_SIZE; i++) {
      const r = records[b * BATCH_SIZE + i]!;
      list.insert(r.key, first + i, Kind.Value, r.value);
    }
  }
  return list;
}

function fillArrays(records: Record[]): JsArraySkipList {
  const list = new JsArraySkipList();
  for (let b = 0; b < BATCHES; b++) {
    const first = 1 + b * BATCH_SIZE;
    for (let i = 0; i < BATCH_SIZE; i++) {
      const r = records[b * BATCH_SIZE + i]!;
      list.insert(r.key, first + i, Kind.Value, r.value);
    }
  }
  return list;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Both lists' entries in order, as [key, seq, value]; read once, before timing, to compare. */
function varveEntries(list: wasm.SkipList): Array<[Uint8Array, number, Uint8Array]> {
  const out: Array<[Uint8Array, number, Uint8Array]> = [];
  const c = list.cursor();
  for (let ok = c.first(); ok; ok = c.next()) out.push([c.key(), c.seq, c.value()]);
  return out;
}

function objectEntries(list: JsSkipList): Array<[Uint8Array, number, Uint8Array]> {
  const out: Array<[Uint8Array, number, Uint8Array]> = [];
  for (let n = list.head.next[0] ?? null; n !== null; n = n.next[0] ?? null) out.push([n.key, n.seq, n.value]);
  return out;
}

function arrayEntries(list: JsArraySkipList): Array<[Uint8Array, number, Uint8Array]> {
  const out: Array<[Uint8Array, number, Uint8Array]> = [];
  for (let n = list.next(0, 0); n !== 0; n = list.next(n, 0)) out.push([list.key(n), list.seq(n), list.values[n]!]);
  return out;
}

function verifySame(name: string, a: Array<[Uint8Array, number, Uint8Array]>, b: Array<[Uint8Array, number, Uint8Array]>): void {
  if (a.length !== ENTRIES || b.length !== ENTRIES) throw new Error(`${name}: ${b.length} entries, varve ${a.length}`);
  a.forEach(([k, s, v], i) => {
    const [k2, s2, v2] = b[i]!;
    if (!sameBytes(k, k2) || s !== s2 || !sameBytes(v, v2)) throw new Error(`${name} disagrees with varve at entry ${i}`);
  });
}

export function cases(): Case[] {
  const records = makeRecords();
  const batches = makeBatches(records);
  const list = new wasm.SkipList();
  fillVarve(list, batches);
  const objects = fillObjects(records);
  const arrays = fillArrays(records);
  const entries = varveEntries(list);
  verifySame('object skip list', entries, objectEntries(objects));
  verifySame('typed-array skip list', entries, arrayEntries(arrays));

  // Gets of present keys in random order; varve's keys sit in linear memory.
  const probes = Array.from({ length: GETS }, (_, i) => records[(i * 7919) % ENTRIES]!.key);
  const keyArea = new wasm.Region(GETS * KEY_SLOT);
  probes.forEach((k, i) => wasm.heap.write(keyArea.ptr + i * KEY_SLOT, k));
  const getVarve = (): number => {
    let found = 0;
    for (let i = 0; i < GETS; i++) if (list.findAt(keyArea.ptr + i * KEY_SLOT, 16, MAX_SEQUENCE) !== 0) found++;
    return found;
  };
  const getObjects = (): number => {
    let found = 0;
    for (let i = 0; i < GETS; i++) if (objects.get(probes[i]!, MAX_SEQUENCE) !== null) found++;
    return found;
  };
  const getArrays = (): number => {
    let found = 0;
    for (let i = 0; i < GETS; i++) if (arrays.get(probes[i]!, MAX_SEQUENCE) !== 0) found++;
    return found;
  };
  probes.forEach((k, i) => {
    const v = list.get(k);
    const o = objects.get(k, MAX_SEQUENCE);
    const a = arrays.get(k, MAX_SEQUENCE);
    if (!v || !o || a === 0 || v.seq !== o.seq || v.seq !== arrays.seq(a) || !sameBytes(v.value, o.value) || !sameBytes(v.value, arrays.values[a]!)) {
      throw new Error(`gets disagree on probe ${i}`);
    }
  });
  if (getVarve() !== GETS || getObjects() !== GETS || getArrays() !== GETS) throw new Error('a get missed');

  const insertOp = `insert ${BATCHES} batches x ${BATCH_SIZE} (16 B keys, 100 B values)`;
  const getOp = `get ${GETS} random keys of ${ENTRIES / 1000}k`;
  const varveInsert = () => fillVarve(list, batches);
  return [
    {
      kernel: 'skiplist', op: insertOp, unit: 'M/s', perCall: ENTRIES, varve: varveInsert, bar: 2,
      rival: { name: 'JS skip list, typed arrays', fn: () => fillArrays(records).count },
    },
    {
      kernel: 'skiplist', op: insertOp, unit: 'M/s', perCall: ENTRIES, varve: varveInsert, bar: 2,
      rival: { name: 'JS skip list, objects', fn: () => fillObjects(records).count },
    },
    {
      kernel: 'skiplist', op: getOp, unit: 'M/s', perCall: GETS, varve: getVarve,
      rival: { name: 'JS skip list, typed arrays', fn: getArrays },
    },
    {
      kernel: 'skiplist', op: getOp, unit: 'M/s', perCall: GETS, varve: getVarve,
      rival: { name: 'JS skip list, objects', fn: getObjects },
    },
  ];
}
