// The model side of the crash tests: deterministic write sequences for a
// crash-writer child (./crash-writer.mjs), a Map model of what they leave,
// and the check a recovered database must pass: its state equals the model
// after SOME prefix of the issued writes.
import type { Database } from '../../src/index.js';
import type { Write } from './child-writer.js';

const dec = new TextDecoder();

/** mulberry32: a seeded generator, so every sequence and kill time reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export const between = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export interface Shape {
  count: number;
  keys: number;
  minValue: number;
  maxValue: number;
  /** Probabilities of a delete, of a batch and of a range deletion (`range`, default 0); the rest are puts. */
  del: number;
  batch: number;
  range?: number;
  batchMin: number;
  batchMax: number;
  sync: number;
}

/** Letters to cut values from: cheaper than drawing every character. */
const LETTERS = valueLetters();

function valueLetters(): string {
  const rand = prng(99);
  let out = '';
  for (let i = 0; i < 8192; i++) out += String.fromCharCode(97 + Math.floor(rand() * 26));
  return out;
}

/** `tag`, then letters from a random place in LETTERS, `length` characters in all. */
export function valueText(rand: () => number, tag: string, length: number): string {
  let v = tag;
  while (v.length < length) {
    const from = Math.floor(rand() * LETTERS.length);
    v += LETTERS.slice(from, from + length - v.length);
  }
  return v;
}

/** Key i of a shape's key space; keys order as their numbers do. */
export const keyOf = (i: number): string => `k${String(i).padStart(5, '0')}`;

/** A deterministic write sequence; values are tagged with seed and index so no two writes store the same value. */
export function makeWrites(seed: number, shape: Shape): Write[] {
  const rand = prng(seed);
  const key = () => keyOf(between(rand, 0, shape.keys - 1));
  const value = (i: number, j: number) => valueText(rand, `${seed}.${i}.${j}:`, between(rand, shape.minValue, shape.maxValue));
  const range = shape.range ?? 0;
  const writes: Write[] = [];
  for (let i = 0; i < shape.count; i++) {
    const sync = rand() < shape.sync;
    const r = rand();
    if (r < shape.del) writes.push({ t: 'del', k: key(), sync });
    else if (r < shape.del + shape.batch) {
      const n = between(rand, shape.batchMin, shape.batchMax);
      const ops = Array.from({ length: n }, (_, j) => ({ k: key(), v: rand() < 0.15 ? null : value(i, j) }));
      writes.push({ t: 'batch', ops, sync });
    } else if (r < shape.del + shape.batch + range) {
      // Spans of up to a twentieth of the key space.
      const from = between(rand, 0, shape.keys - 1);
      writes.push({ t: 'range', from: keyOf(from), to: keyOf(from + between(rand, 1, Math.max(1, Math.floor(shape.keys / 20)))), sync });
    } else writes.push({ t: 'put', k: key(), v: value(i, 0), sync });
  }
  return writes;
}

/** Every key `w` changes when applied to `model`, with its new value (undefined: deleted), in order. */
function changes(model: ReadonlyMap<string, string>, w: Write): Array<[string, string | undefined]> {
  if (w.t === 'put') return [[w.k, w.v]];
  if (w.t === 'del') return [[w.k, undefined]];
  if (w.t === 'range') return [...model.keys()].filter((k) => k >= w.from && k < w.to).map((k) => [k, undefined]);
  return w.ops.map((o) => [o.k, o.v ?? undefined]);
}

export function applyWrite(model: Map<string, string>, w: Write): void {
  for (const [k, v] of changes(model, w)) (v === undefined ? model.delete(k) : model.set(k, v));
}

export function modelAfter(writes: Write[], count: number, base = new Map<string, string>()): Map<string, string> {
  const model = new Map(base);
  for (let i = 0; i < count; i++) applyWrite(model, writes[i]!);
  return model;
}

export async function readState(db: Database): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for await (const [k, v] of db.iterator()) state.set(dec.decode(k), dec.decode(v));
  return state;
}

/**
 * The prefix lengths p (writes[0..p) applied to `base`) whose model equals
 * `state`. A running count of keys where model and state differ makes each
 * step O(changed keys).
 */
export function matchingPrefixes(base: Map<string, string>, writes: Write[], state: Map<string, string>): number[] {
  const model = new Map(base);
  let differing = 0;
  for (const k of new Set([...model.keys(), ...state.keys()])) if (model.get(k) !== state.get(k)) differing++;
  const matches: number[] = differing === 0 ? [0] : [];
  writes.forEach((w, i) => {
    for (const [k, v] of changes(model, w)) {
      const before = model.get(k) !== state.get(k);
      if (v === undefined) model.delete(k);
      else model.set(k, v);
      const after = model.get(k) !== state.get(k);
      differing += Number(after) - Number(before);
    }
    if (differing === 0) matches.push(i + 1);
  });
  return matches;
}
