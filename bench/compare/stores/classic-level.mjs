// classic-level (LevelDB through N-API) with its default options, keys and
// values as bytes.
import { ClassicLevel } from 'classic-level';

export const name = 'classic-level';
export const durability = 'default (sync: false): each write is in the LevelDB log, handed to the OS, before it resolves; no fsync per write. Sync puts ({ sync: true }) fsync the log';

export async function open(dir) {
  const db = new ClassicLevel(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return {
    name,
    batch: (ops) => db.batch(ops),
    put: (key, value, options) => db.put(key, value, options),
    get: (key) => db.get(key),
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
