// varve through its abstract-level face (varve/level, from the built
// package), keys and values as bytes: what a Level user gets, set beside
// classic-level with `--stores varve-level,classic-level`. Not in the
// default list, where it would count as one of varve's peers.
import { VarveLevel } from '../../../dist/level/index.js';
import { levelLikeStore } from './level-like.mjs';

export const name = 'varve-level';
export const durability = 'as varve: each write is in the WAL, handed to the OS, before it resolves; sync puts resolve after fdatasync';

export async function open(dir) {
  const db = new VarveLevel(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return levelLikeStore(name, db);
}
