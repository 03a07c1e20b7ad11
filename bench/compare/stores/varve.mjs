// varve, imported from the built package (npm run build makes dist/ and
// build/varve.wasm), with its default options.
import { open as openVarve } from '../../../dist/index.js';

export const name = 'varve';
export const durability = 'default (sync: false): each write is in the WAL, handed to the OS, before it resolves; no fsync per write. Sync puts ({ sync: true }) resolve after the WAL is fdatasync\'ed';

export async function open(dir) {
  const db = await openVarve(dir);
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
