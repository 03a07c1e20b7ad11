// WriteBatch: the engine's unit of atomic writes, encoded straight into
// linear memory in the format the memtable kernel reads and the WAL stores
// as a record payload (docs/FORMAT.md, "Write batch"):
//   u64 LE first sequence, u32 LE count, then per record: kind u8,
//   varint32 key length, key, and unless kind is deletion varint32 value
//   length, value. Record i has sequence first + i.
import { InvalidArgumentError } from './errors.js';
import { EXPIRY_SIZE, MAX_EXPIRY, writeExpiry } from './expiry.js';
import { Kind, isKind } from './keys.js';
import { varintLength, writeVarint } from './varint.js';
import { encodeEnd } from './rangedel/tombstone.js';
import { Region, u8, view } from './wasm/heap.js';

export const BATCH_HEADER_SIZE = 12;

const EMPTY = new Uint8Array(0);


export class WriteBatch {
  #region: Region;
  #len = BATCH_HEADER_SIZE;
  #count = 0;
  #sequence = 0;

  constructor(initialCapacity = 256) {
    this.#region = new Region(Math.max(BATCH_HEADER_SIZE, initialCapacity));
    this.#writeHeader();
  }

  /** Address of the encoded batch in linear memory; moves when the batch grows. */
  get ptr(): number {
    if (this.#region.ptr === 0) throw new InvalidArgumentError('write batch is released');
    return this.#region.ptr;
  }

  /** Encoded length in bytes, header included. */
  get len(): number {
    return this.#len;
  }

  get count(): number {
    return this.#count;
  }

  get sequence(): number {
    return this.#sequence;
  }

  /** Sets the first record's sequence (assigned by the engine when the batch commits). */
  setSequence(seq: number): this {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new InvalidArgumentError(`sequence must be an integer in 0..2^53-1, got ${seq}`);
    }
    this.#sequence = seq;
    this.#writeHeader();
    return this;
  }

  put(key: Uint8Array, value: Uint8Array): this {
    return this.#append(Kind.Value, key, value);
  }

  /**
   * A value that lapses at `expiresAt` (ms since the epoch): kind
   * ValueWithExpiry, its stored value the 8-byte expiry then `value`.
   */
  putWithExpiry(key: Uint8Array, value: Uint8Array, expiresAt: number): this {
    if (!Number.isSafeInteger(expiresAt) || expiresAt < 0 || expiresAt > MAX_EXPIRY) {
      throw new InvalidArgumentError(`expiresAt must be an integer in 0..2^53-1, got ${expiresAt}`);
    }
    return this.#append(Kind.ValueWithExpiry, key, value, expiresAt);
  }

  del(key: Uint8Array): this {
    return this.#append(Kind.Deletion, key, EMPTY);
  }

  /**
   * Deletes every key in [start, end); `end` undefined deletes every key at
   * or after `start`. The record is start#seq of kind RangeDeletion with the
   * end as its value (empty for no end).
   */
  deleteRange(start: Uint8Array, end: Uint8Array | undefined): this {
    return this.#append(Kind.RangeDeletion, start, encodeEnd(end));
  }

  /** Appends a record of any kind; a deletion carries no value. */
  putWithKind(kind: number, key: Uint8Array, value: Uint8Array): this {
    if (!isKind(kind)) {
      throw new InvalidArgumentError(`unknown entry kind ${kind}`);
    }
    if (kind === Kind.Deletion && value.length !== 0) throw new InvalidArgumentError('a deletion carries no value');
    return this.#append(kind, key, value);
  }

  /** A view of the encoded bytes, valid until the next allocation in linear memory. */
  bytes(): Uint8Array {
    return u8().subarray(this.ptr, this.ptr + this.#len);
  }

  /** Empties the batch, keeping its memory and sequence. */
  clear(): void {
    this.#len = BATCH_HEADER_SIZE;
    this.#count = 0;
    this.#writeHeader();
  }

  /** Frees the batch's memory; using the batch afterwards throws. */
  release(): void {
    this.#region.release();
  }

  /** Appends one record; with `expiresAt` its stored value is the expiry followed by `value`. */
  #append(kind: number, key: Uint8Array, value: Uint8Array, expiresAt?: number): this {
    const hasValue = kind !== Kind.Deletion;
    const valueLength = value.length + (expiresAt === undefined ? 0 : EXPIRY_SIZE);
    const size = 1 + varintLength(key.length) + key.length + (hasValue ? varintLength(valueLength) + valueLength : 0);
    this.#reserve(size);
    const bytes = u8();
    let pos = this.ptr + this.#len;
    bytes[pos++] = kind;
    pos = writeVarint(bytes, pos, key.length);
    bytes.set(key, pos);
    pos += key.length;
    if (hasValue) {
      pos = writeVarint(bytes, pos, valueLength);
      if (expiresAt !== undefined) {
        writeExpiry(bytes, pos, expiresAt);
        pos += EXPIRY_SIZE;
      }
      bytes.set(value, pos);
      pos += value.length;
    }
    this.#len = pos - this.ptr;
    this.#count++;
    view().setUint32(this.ptr + 8, this.#count, true);
    return this;
  }

  /** Grows the region, keeping the encoded bytes, so that `extra` more bytes fit. */
  #reserve(extra: number): void {
    const ptr = this.ptr;
    const needed = this.#len + extra;
    if (needed <= this.#region.capacity) return;
    if (needed > 0x7fff0000) throw new InvalidArgumentError(`write batch would exceed ${0x7fff0000} bytes`);
    const grown = new Region(Math.max(needed, this.#region.capacity * 2));
    u8().copyWithin(grown.ptr, ptr, ptr + this.#len);
    this.#region.release();
    this.#region = grown;
  }

  #writeHeader(): void {
    const dv = view();
    const ptr = this.ptr;
    dv.setUint32(ptr, this.#sequence % 0x100000000, true);
    dv.setUint32(ptr + 4, Math.floor(this.#sequence / 0x100000000), true);
    dv.setUint32(ptr + 8, this.#count, true);
  }
}
