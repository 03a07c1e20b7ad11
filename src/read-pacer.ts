// Reads answered on this thread (memtables, cached blocks, preads) settle
// their promises at once, so a loop of awaited reads runs wholly in
// microtasks and the event loop never turns while it lasts: finished
// flushes and compactions, WAL fsyncs and the application's own timers and
// sockets all wait for the loop to end, and the tree's debt grows under a
// read-heavy load. A pacer counts reads and, every READS_PER_TURN, has one
// of them settle after a turn of the event loop instead (setImmediate runs
// after pending I/O callbacks and worker messages).
import { setImmediate } from 'node:timers';

/** About 0.1 to 1 ms of reads: the turn costs a few microseconds, well under 1% of them. */
export const READS_PER_TURN = 256;

export class ReadPacer {
  #reads = 0;

  /** Counts `n` reads; true when the event loop is owed a turn. */
  owed(n = 1): boolean {
    this.#reads += n;
    if (this.#reads < READS_PER_TURN) return false;
    this.#reads = 0;
    return true;
  }

  /** `value`, the answer of `reads` reads, settled at once or, when a turn is owed, after one. */
  settle<T>(value: T, reads = 1): Promise<T> {
    return this.owed(reads) ? eventLoopTurn().then(() => value) : Promise.resolve(value);
  }
}

/** Resolves after the event loop has run its pending callbacks once. */
export function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
