// The table worker threads of one database, shared by its flushes and its
// compactions. A job takes the idle worker used last: a compaction after a
// flush runs on the thread the flush warmed, whose JIT has already compiled
// the table-building code a first compaction on a fresh thread would
// compile again (about a quarter of that compaction's CPU, measured).
// A thread starts only when every one started is busy, so a database runs
// as many as its jobs ever overlapped: the flushes (one at a time), the
// background compactions and a manual one.
import { ClosedError } from '../errors.js';
import { TableWorker } from './table-worker.js';

export class TableWorkers {
  readonly #all: TableWorker[] = [];
  /** Idle workers, the one used last at the end. */
  readonly #idle: TableWorker[] = [];
  #terminated = false;

  /** Worker threads started so far (each starts on its first job). */
  get threads(): number {
    return this.#all.length;
  }

  /** The workers' linear memories, as of their last jobs. */
  get wasmMemoryBytes(): number {
    return this.#all.reduce((sum, w) => sum + w.wasmMemoryBytes, 0);
  }

  /** Bytes of the buffers the workers share with this thread for compaction I/O. */
  get sharedBytes(): number {
    return this.#all.reduce((sum, w) => sum + w.sharedBytes, 0);
  }

  /** Runs `job` on the idle worker used last, or on a new one when none idles; throws ClosedError once terminated. */
  async run<T>(job: (worker: TableWorker) => Promise<T>): Promise<T> {
    const worker = this.#take();
    try {
      return await job(worker);
    } finally {
      this.#idle.push(worker);
    }
  }

  #take(): TableWorker {
    if (this.#terminated) throw new ClosedError('the table workers are terminated');
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    const worker = new TableWorker();
    this.#all.push(worker);
    return worker;
  }

  /** Stops every thread; what still waits on one rejects, and later jobs throw ClosedError. */
  async terminate(): Promise<void> {
    this.#terminated = true;
    await Promise.all(this.#all.map((w) => w.terminate()));
  }
}
