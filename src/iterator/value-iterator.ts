// The iterator users hold: an async iterable of [key, value] pairs over a
// DbIterator. Entries are pulled from the engine in batches so the promise
// machinery is paid once per batch, not once per entry; the view is fixed
// when the iterator is created, so batching changes nothing visible. A
// batch starts at one entry after each seek (and at the start) and doubles
// with each refill up to BATCH: a seek followed by one next() reads one
// entry, not BATCH of them, and a long scan soon pulls BATCH at a time.
// Every few hundred entries the event loop gets a turn (src/read-pacer.ts).
import { ClosedError, InvalidArgumentError } from '../errors.js';
import { keyBytes } from '../encoding.js';
import { eventLoopTurn, type ReadPacer } from '../read-pacer.js';
import type { DbIterator, DbIteratorOptions, IteratorEntry } from './db-iterator.js';

export interface IteratorOptions {
  gt?: Uint8Array | string;
  gte?: Uint8Array | string;
  lt?: Uint8Array | string;
  lte?: Uint8Array | string;
  /** Descending key order. Default false. */
  reverse?: boolean;
  /** Most entries to yield; -1 or undefined for all. */
  limit?: number;
}

const BATCH = 256;

export class ValueIterator implements AsyncIterableIterator<IteratorEntry> {
  readonly #inner: DbIterator;
  readonly #onClose: () => void;
  #buffer: IteratorEntry[] = [];
  #position = 0;
  /** Entries the next refill pulls: 1 after a seek, doubling up to BATCH. */
  #batch = 1;
  #closed = false;
  readonly #pacer: ReadPacer;
  readonly #onSeek: (target: Uint8Array) => void;

  /** `pacer` is shared with the database's other reads; `onSeek` hears every seek's target (the engine charges seek compaction). */
  constructor(inner: DbIterator, pacer: ReadPacer, onClose: () => void, onSeek: (target: Uint8Array) => void) {
    this.#inner = inner;
    this.#pacer = pacer;
    this.#onSeek = onSeek;
    this.#onClose = onClose;
  }

  /** Validates user options into the DbIterator's form (without the snapshot). */
  static bounds(options: IteratorOptions): Omit<DbIteratorOptions, 'snapshot'> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('iterator options must be an object');
    const bound = (v: Uint8Array | string | undefined) => (v === undefined ? undefined : keyBytes(v));
    if (options.reverse !== undefined && typeof options.reverse !== 'boolean') throw new InvalidArgumentError('option reverse must be a boolean');
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < -1)) throw new InvalidArgumentError('option limit must be an integer >= -1');
    return { gt: bound(options.gt), gte: bound(options.gte), lt: bound(options.lt), lte: bound(options.lte), reverse: options.reverse ?? false, limit };
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('the iterator is closed');
  }

  /** A turn of the event loop the pacer asked for; the iterator may have been closed meanwhile. */
  async #turn(): Promise<void> {
    await eventLoopTurn();
    this.#check();
  }

  async next(): Promise<IteratorResult<IteratorEntry>> {
    this.#check();
    if (this.#pacer.owed()) await this.#turn();
    if (this.#position >= this.#buffer.length) {
      this.#buffer = this.#inner.nextv(this.#batch);
      this.#batch = Math.min(BATCH, this.#batch * 2);
      this.#position = 0;
      if (this.#buffer.length === 0) {
        await this.close();
        return { done: true, value: undefined };
      }
    }
    return { done: false, value: this.#buffer[this.#position++]! };
  }

  /** Up to `n` entries; fewer only at the end. */
  async nextv(n: number): Promise<IteratorEntry[]> {
    this.#check();
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('nextv takes a non-negative integer');
    if (this.#pacer.owed(n)) await this.#turn();
    const out = this.#buffer.slice(this.#position, this.#position + n);
    this.#position += out.length;
    if (out.length < n) out.push(...this.#inner.nextv(n - out.length));
    return out;
  }

  /** Every remaining entry; closes the iterator. */
  async all(): Promise<IteratorEntry[]> {
    const out: IteratorEntry[] = [];
    for (let batch = await this.nextv(BATCH); batch.length > 0; batch = await this.nextv(BATCH)) out.push(...batch);
    await this.close();
    return out;
  }

  /** Moves to the first entry at or after `target` (at or before, in reverse), within the bounds. */
  seek(target: Uint8Array | string): void {
    this.#check();
    this.#buffer = [];
    this.#position = 0;
    this.#batch = 1;
    const key = keyBytes(target);
    this.#onSeek(key);
    this.#inner.seek(key);
  }

  /** Releases what the iterator holds. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer = [];
    this.#inner.close();
    this.#onClose();
  }

  /** Called by `break` in for-await. */
  async return(): Promise<IteratorResult<IteratorEntry>> {
    await this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
