// The store interface over anything with the abstract-level shape (batch,
// put, get, getMany, iterator with seek and nextv, close): varve, classic-level,
// rocksdb and memory-level differ only in how they open and in `get`.

/** `db` must be open; `get` and `put` override db.get and db.put where a binding differs. */
export function levelLikeStore(name, db, { get = (key) => db.get(key), put = (key, value, options) => db.put(key, value, options) } = {}) {
  return {
    name,
    batch: (ops) => db.batch(ops),
    put,
    get,
    getMany: (keys) => db.getMany(keys),
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
