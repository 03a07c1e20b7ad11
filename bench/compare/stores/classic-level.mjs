// classic-level (LevelDB through N-API) with its default options, keys and
// values as bytes.
import { ClassicLevel } from 'classic-level';

export const name = 'classic-level';
export const durability = 'default (sync: false): each write is in the LevelDB log, handed to the OS, before it resolves; no fsync per write';

export async function open(dir) {
  const db = new ClassicLevel(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return {
    name,
    batch: (ops) => db.batch(ops),
    put: (key, value) => db.put(key, value),
    get: (key) => db.get(key),
    iterate: () => db.iterator(),
    close: () => db.close(),
  };
}
