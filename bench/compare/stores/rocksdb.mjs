// RocksDB through @nxtedition/rocksdb (N-API), with the binding's default
// options, keys and values as bytes.
import { RocksLevel } from '@nxtedition/rocksdb';

export const name = 'rocksdb';
export const durability = 'default (sync: false): each write is in the RocksDB WAL, handed to the OS, before it resolves; no fsync per write. Sync puts ({ sync: true }) fsync the WAL';

export async function open(dir) {
  const db = new RocksLevel(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return {
    name,
    batch: (ops) => db.batch(ops),
    put: (key, value, options) => db.put(key, value, options),
    // This binding's get rejects an absent key (abstract-level 1) instead of resolving undefined.
    get: (key) =>
      db.get(key).catch((err) => {
        if (err.code === 'LEVEL_NOT_FOUND') return undefined;
        throw err;
      }),
    iterate: (options) => db.iterator(options),
    /** One iterator, repositioned by each seek; closed after the workload. */
    cursor() {
      const it = db.iterator();
      return {
        seek(target, count) {
          it.seek(target);
          return it.nextv(count);
        },
        close: () => it.close(),
      };
    },
    close: () => db.close(),
  };
}
