// memory-level: a sorted tree in JavaScript memory, no files. Not a peer in
// durability; it is the ceiling a pure-JS store reaches with no I/O at all.
import { MemoryLevel } from 'memory-level';
import { levelLikeStore } from './level-like.mjs';

export const name = 'memory-level';
/** Not a peer: left out of the best-peer ratio. */
export const ceiling = true;
export const durability = 'none: in memory only, nothing reaches a file (the disk rows read 0); sync puts are the same as the others';

export async function open() {
  const db = new MemoryLevel({ keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return levelLikeStore(name, db);
}
