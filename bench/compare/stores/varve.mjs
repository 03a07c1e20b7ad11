// varve, imported from the built package (npm run build makes dist/ and
// build/varve.wasm), with its default options.
import { open as openVarve } from '../../../dist/index.js';
import { levelLikeStore } from './level-like.mjs';

export const name = 'varve';
export const durability = 'default (sync: false): each write is in the WAL, handed to the OS, before it resolves; no fsync per write. Sync puts ({ sync: true }) resolve after the WAL is fdatasync\'ed';

export async function open(dir) {
  const db = await openVarve(dir);
  return levelLikeStore(name, db);
}
