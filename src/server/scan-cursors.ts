// SCAN cursors. Redis's cursor is a number clients hand back unchanged; a
// varve walk resumes after a key, which does not fit in a number. So the
// server keeps the last key of each walk under a fresh number, and forgets
// the oldest beyond a bound: a client that resumes a forgotten cursor (or
// one from before a restart) gets an error, never a wrong walk.
import { latin1 } from './args.js';
import { CommandError } from './command.js';

const MAX_CURSORS = 100_000;

export class ScanCursors {
  /** Insertion-ordered, so the first entry is the oldest. */
  readonly #keys = new Map<number, Uint8Array>();
  #next = 1;

  /** A cursor that resumes after `lastKey`. */
  save(lastKey: Uint8Array): string {
    const id = this.#next++;
    this.#keys.set(id, lastKey.slice());
    if (this.#keys.size > MAX_CURSORS) this.#keys.delete(this.#keys.keys().next().value!);
    return String(id);
  }

  /** The key to resume after; undefined for cursor 0 (a new walk). */
  resume(cursor: Uint8Array): Uint8Array | undefined {
    const text = latin1(cursor);
    if (!/^\d+$/.test(text)) throw new CommandError('ERR invalid cursor');
    const id = Number(text);
    if (id === 0) return undefined;
    const key = this.#keys.get(id);
    if (key === undefined) throw new CommandError('ERR invalid cursor');
    return key;
  }
}
