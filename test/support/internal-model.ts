// Shared by the memtable and iterator tests: entries as plain objects, their
// internal-key order (the model's), an array-backed InternalIterator, and
// helpers that load entries into memtables through write batches.
import fc from 'fast-check';
import { WriteBatch } from '../../src/batch.js';
import type { InternalIterator } from '../../src/iterator/internal.js';
import { Kind, makeInternalKey } from '../../src/keys.js';
import { Memtable } from '../../src/memtable/memtable.js';
import { Region } from '../../src/wasm/heap.js';

export interface Rec {
  key: Uint8Array;
  seq: number;
  kind: number;
  value: Uint8Array;
}

export const EMPTY = new Uint8Array(0);

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Internal-key order: user key ascending, then (seq, kind) descending. */
export function compareRecs(a: Rec, b: Rec): number {
  return compareBytes(a.key, b.key) || b.seq - a.seq || b.kind - a.kind;
}

export function ikeyOf(r: Rec): Uint8Array {
  return makeInternalKey(r.key, r.seq, r.kind);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A readable form of an internal entry, for comparisons whose failures print well. */
export function show(ikey: Uint8Array, value: Uint8Array): string {
  return `${hex(ikey)}=${hex(value)}`;
}

/** An InternalIterator over a sorted array of entries, the plainest possible source. */
export class ArrayIterator implements InternalIterator {
  readonly #keys: Uint8Array[];
  readonly #values: Uint8Array[];
  #i = -1;
  readonly #staged = new Region();
  readonly #stagedValue = new Region();
  closed = 0;

  constructor(sorted: Rec[]) {
    this.#keys = sorted.map(ikeyOf);
    this.#values = sorted.map((r) => r.value);
  }

  /** Index of the first key >= target. */
  #lowerBound(target: Uint8Array): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareInternal(this.#keys[mid]!, target) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  valid(): boolean {
    return this.#i >= 0 && this.#i < this.#keys.length;
  }
  seekToFirst(): void {
    this.#i = 0;
  }
  seekToLast(): void {
    this.#i = this.#keys.length - 1;
  }
  seek(target: Uint8Array): void {
    this.#i = this.#lowerBound(target);
  }
  seekForPrev(target: Uint8Array): void {
    const i = this.#lowerBound(target);
    this.#i = i < this.#keys.length && compareInternal(this.#keys[i]!, target) === 0 ? i : i - 1;
  }
  next(): void {
    this.#i++;
  }
  prev(): void {
    this.#i--;
  }
  key(): Uint8Array {
    return this.#keys[this.#i]!;
  }
  /** The current key copied into this iterator's own region of linear memory (where the merging iterator compares keys). */
  get keyPtr(): number {
    return this.#staged.load(this.key());
  }
  get keyLen(): number {
    return this.key().length;
  }
  value(): Uint8Array {
    return this.#values[this.#i]!;
  }
  /** The current value copied into a second region of linear memory, as keyPtr. */
  get valuePtr(): number {
    return this.#stagedValue.load(this.value());
  }
  get valueLen(): number {
    return this.value().length;
  }
  close(): void {
    this.closed++;
    this.#staged.release();
    this.#stagedValue.release();
  }
}

/** The model's own internal-key comparison, independent of src/keys.ts. */
export function compareInternal(a: Uint8Array, b: Uint8Array): number {
  const c = compareBytes(a.subarray(0, a.length - 8), b.subarray(0, b.length - 8));
  if (c !== 0) return c;
  for (let j = 7; j >= 0; j--) {
    const x = a[a.length - 8 + j]!;
    const y = b[b.length - 8 + j]!;
    if (x !== y) return y - x;
  }
  return 0;
}

/** Inserts records (any sequences) into a memtable, one write batch per record. */
export function insertRecs(mem: Memtable, recs: Rec[]): void {
  const batch = new WriteBatch();
  try {
    for (const r of recs) {
      batch.clear();
      batch.setSequence(r.seq);
      batch.putWithKind(r.kind, r.key, r.value);
      mem.insertBatchAt(batch.ptr, batch.len);
    }
  } finally {
    batch.release();
  }
}

/** Keys over a four-letter alphabet, so random histories hold many versions per key. */
export const userKeyArb = fc
  .uint8Array({ maxLength: 4 })
  .map((k) => k.map((b) => [0x00, 0x01, 0x61, 0xff][b % 4]!));

export const kindArb = fc.constantFrom(Kind.Deletion, Kind.Value, Kind.Value, Kind.ValueWithExpiry, Kind.RangeDeletion);
/** Kinds a memtable's skip list holds: range deletions are kept beside it (test/rangedel.test.ts). */
export const pointKindArb = fc.constantFrom(Kind.Deletion, Kind.Value, Kind.Value, Kind.ValueWithExpiry);

/** The clock reading the expiry tests judge values at. */
export const NOW = 1_700_000_000_000;

/** A stored value of kind ValueWithExpiry: 8-byte LE expiry (two u32 halves, low first), then `value`. Independent of src/expiry.ts. */
export function withExpiry(expiresAt: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + value.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, expiresAt % 2 ** 32, true);
  dv.setUint32(4, Math.floor(expiresAt / 2 ** 32), true);
  out.set(value, 8);
  return out;
}

/** The expiry of a stored value made by withExpiry. */
export function expiryIn(stored: Uint8Array): number {
  const dv = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  return dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
}

/** Expiries around NOW: lapsed, lapsing exactly now (expired: expiry <= now), still live. */
export const expiryArb = fc.constantFrom(NOW - 1000, NOW - 1, NOW, NOW + 1, NOW + 1000);
