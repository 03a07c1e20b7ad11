// Point reads of many keys at one snapshot, staged once in linear memory
// for every memtable and table they consult (src/db.ts #getMany): one
// record per key (src/wasm/point-batch.ts), which the memtables and the
// tables read in one call each, their memory misses overlapping.
import { SEEK_KIND, TRAILER_SIZE, writeTrailer } from './keys.js';
import { PB_DONE, PB_NODE, PB_H1, PB_H2, PB_RECORD, PB_SEQ, PB_TARGET, PB_TARGET_LEN, pointBatchHash } from './wasm/point-batch.js';
import { Region, u8, view } from './wasm/heap.js';
import type { StagedKey } from './point-lookup.js';

export class PointBatch {
  readonly #region = new Region(64 * PB_RECORD);
  /** The staged user keys, by record. */
  userKeys: readonly Uint8Array[] = [];
  count = 0;
  /** Address of record 0. */
  records = 0;
  seq = 0;
  /** Record i's key as a StagedKey, for the paths that read one key at a time; refilled by key(). */
  readonly #key: StagedKey = { userKey: new Uint8Array(0), target: 0, targetLen: 0, seq: 0, h1: 0, h2: 0 };

  /** Stages `userKeys` at `snapshotSeq`, every record not done. Valid until the next stage(). */
  stage(userKeys: readonly Uint8Array[], snapshotSeq: number): this {
    const count = userKeys.length;
    let keyBytes = 0;
    for (const key of userKeys) keyBytes += key.length + TRAILER_SIZE;
    const records = this.#region.ensure(count * PB_RECORD + keyBytes);
    const mem = u8();
    const dv = view();
    mem.fill(0, records, records + count * PB_RECORD);
    let target = records + count * PB_RECORD;
    for (let i = 0; i < count; i++) {
      const key = userKeys[i]!;
      const r = records + i * PB_RECORD;
      mem.set(key, target);
      writeTrailer(mem, target + key.length, snapshotSeq, SEEK_KIND);
      dv.setUint32(r + PB_TARGET, target, true);
      dv.setUint32(r + PB_TARGET_LEN, key.length + TRAILER_SIZE, true);
      dv.setFloat64(r + PB_SEQ, snapshotSeq, true);
      target += key.length + TRAILER_SIZE;
    }
    pointBatchHash(records, count);
    this.userKeys = userKeys;
    this.count = count;
    this.records = records;
    this.seq = snapshotSeq;
    return this;
  }

  /** Address of record i. */
  record(i: number): number {
    return this.records + i * PB_RECORD;
  }

  done(i: number): boolean {
    return view().getUint32(this.record(i) + PB_DONE, true) !== 0;
  }

  /** The memtable node the last memtable probe found for record i (0: none). */
  node(i: number): number {
    return view().getUint32(this.record(i) + PB_NODE, true);
  }

  /** Marks record i answered: later sources skip it. */
  markDone(i: number): void {
    view().setUint32(this.record(i) + PB_DONE, 1, true);
  }

  /** Address of record i's seek target. */
  target(i: number): number {
    return view().getUint32(this.record(i) + PB_TARGET, true);
  }

  /** Record i as a StagedKey; the object is shared, valid until the next key(). */
  key(i: number): StagedKey {
    const r = this.record(i);
    const dv = view();
    const key = this.#key;
    key.userKey = this.userKeys[i]!;
    key.target = dv.getUint32(r + PB_TARGET, true);
    key.targetLen = dv.getUint32(r + PB_TARGET_LEN, true);
    key.seq = this.seq;
    key.h1 = dv.getUint32(r + PB_H1, true);
    key.h2 = dv.getUint32(r + PB_H2, true);
    return key;
  }

  release(): void {
    this.#region.release();
  }
}
