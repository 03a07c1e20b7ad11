// The key of a point read, staged once in linear memory with its hash, for
// every memtable and table the read consults (src/db.ts #get).
import { SEEK_KIND, TRAILER_SIZE, writeTrailer } from './keys.js';
import { HASH_BYTES, hashAt } from './wasm/hash.js';
import { Region, u8, view } from './wasm/heap.js';

/** A key staged in linear memory for a point read, as the memtables and tables take it. */
export interface StagedKey {
  userKey: Uint8Array;
  /** Address of the seek target: the user key, then a trailer of `seq` with the seek kind. */
  target: number;
  targetLen: number;
  seq: number;
  /** The halves of the user key's XXH64, seed 0. */
  h1: number;
  h2: number;
}

/**
 * A point read's key staged in linear memory once, for every source the
 * read consults (memtables, then tables): the seek target (the user key,
 * then a trailer for the snapshot sequence) and the key's XXH64 (seed 0),
 * whose halves probe the table blooms and whose low half the memtables'
 * user-key indexes. Valid until the next stage().
 */
export class PointLookup implements StagedKey {
  /** An 8-byte hash, then the seek target. */
  readonly #region = new Region(64);
  userKey: Uint8Array = new Uint8Array(0);
  target = 0;
  targetLen = 0;
  /** The snapshot sequence the target's trailer holds. */
  seq = 0;
  h1 = 0;
  h2 = 0;

  stage(userKey: Uint8Array, snapshotSeq: number): this {
    const targetLen = userKey.length + TRAILER_SIZE;
    const hashPtr = this.#region.ensure(HASH_BYTES + targetLen);
    const target = hashPtr + HASH_BYTES;
    const mem = u8();
    mem.set(userKey, target);
    writeTrailer(mem, target + userKey.length, snapshotSeq, SEEK_KIND);
    hashAt(target, userKey.length, hashPtr);
    const dv = view();
    this.h1 = dv.getUint32(hashPtr, true);
    this.h2 = dv.getUint32(hashPtr + 4, true);
    this.userKey = userKey;
    this.seq = snapshotSeq;
    this.target = target;
    this.targetLen = targetLen;
    return this;
  }

  release(): void {
    this.#region.release();
  }
}
