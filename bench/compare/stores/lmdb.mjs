// LMDB through the lmdb package, with its default options (on Linux,
// overlappingSync: each commit is fsync'ed after it becomes visible), keys
// and values as raw bytes.
import { open as openLmdb } from 'lmdb';

export const name = 'lmdb';
export const durability = 'default: writes queued in one event turn commit together in a transaction on lmdb\'s writer thread, which resolves them once committed; the commit is then fsync\'ed (overlappingSync). Sync puts also await db.flushed, the fsync';

export async function open(dir) {
  const db = openLmdb({ path: dir, keyEncoding: 'binary', encoding: 'binary' });
  return {
    name,
    batch: (ops) =>
      db.batch(() => {
        for (const op of ops) {
          if (op.type === 'put') db.put(op.key, op.value);
          else db.remove(op.key);
        }
      }),
    async put(key, value, options) {
      await db.put(key, value);
      if (options?.sync) await db.flushed;
    },
    // lmdb reads synchronously from its memory map.
    get: (key) => db.get(key),
    getMany: (keys) => db.getMany(keys),
    async *iterate(options = {}) {
      const range = { reverse: options.reverse === true };
      if (options.gte !== undefined) range.start = options.gte;
      if (options.limit !== undefined) range.limit = options.limit;
      for (const { key, value } of db.getRange(range)) yield [key, value];
    },
    close: () => db.close(),
  };
}
