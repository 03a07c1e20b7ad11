// classic-level (LevelDB through N-API) with its default options, keys and
// values as bytes.
import { ClassicLevel } from 'classic-level';
import { levelLikeStore } from './level-like.mjs';

export const name = 'classic-level';
export const durability = 'default (sync: false): each write is in the LevelDB log, handed to the OS, before it resolves; no fsync per write. Sync puts ({ sync: true }) fsync the log';

export async function open(dir) {
  const db = new ClassicLevel(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return levelLikeStore(name, db);
}
