// RocksDB through @nxtedition/rocksdb (N-API), with the binding's default
// options, keys and values as bytes.
import { RocksLevel } from '@nxtedition/rocksdb';
import { levelLikeStore } from './level-like.mjs';

export const name = 'rocksdb';
export const durability = 'default (sync: false): each write is in the RocksDB WAL, handed to the OS, before it resolves; no fsync per write. Sync puts ({ sync: true }) fsync the WAL';

export async function open(dir) {
  const db = new RocksLevel(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  // This binding's get rejects an absent key (abstract-level 1) instead of resolving undefined.
  const get = (key) =>
    db.get(key).catch((err) => {
      if (err.code === 'LEVEL_NOT_FOUND') return undefined;
      throw err;
    });
  // This binding's put passes its options to the batch entry, not to the write, so { sync: true } would not
  // fsync: a one-entry batch carries them to the write instead.
  const put = (key, value, options) => db.batch([{ type: 'put', key, value }], options);
  return levelLikeStore(name, db, { get, put });
}
