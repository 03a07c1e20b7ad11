// varve, imported from the built package (npm run build makes dist/ and
// build/varve.wasm), with its default options.
import { open as openVarve } from '../../../dist/index.js';

export const name = 'varve';
export const durability = 'default (sync: false): each write is in the WAL, handed to the OS, before it resolves; no fsync per write';

export async function open(dir) {
  const db = await openVarve(dir);
  return {
    name,
    batch: (ops) => db.batch(ops),
    put: (key, value) => db.put(key, value),
    get: (key) => db.get(key),
    iterate: () => db.iterator(),
    close: () => db.close(),
  };
}
