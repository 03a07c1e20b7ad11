// abstract-level's three iterators (entries, keys, values) over one engine
// iterator each. The engine iterator fixes its view when created, which is
// the implicit snapshot abstract-level asks for; abstract-level counts the
// limit itself, so the engine iterator is given none.
import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level';
import type { Database } from '../db.js';
import type { ValueIterator } from '../iterator/value-iterator.js';
import type { IteratorEntry } from '../iterator/db-iterator.js';
import { LevelAbortError, LevelError, recoded } from './errors.js';
import { toFormat, type Encoded } from './formats.js';
import { engineSnapshot } from './snapshot.js';

/** The private options abstract-level hands _iterator, _keys and _values (keys and bounds already encoded). */
export interface PrivateIteratorOptions {
  gt?: Encoded;
  gte?: Encoded;
  lt?: Encoded;
  lte?: Encoded;
  reverse: boolean;
  limit: number;
  keyEncoding: string;
  valueEncoding?: string;
  snapshot?: unknown;
  /** Aborts the call in progress (abstract-level rejects later calls itself). */
  signal?: AbortSignal;
}

/**
 * The bounds as the engine takes them. Level gives gte precedence over gt
 * and lte over lt; the engine would take the tighter of each pair.
 */
export function engineBounds(options: PrivateIteratorOptions): { gt?: Encoded; gte?: Encoded; lt?: Encoded; lte?: Encoded } {
  const { gt, gte, lt, lte } = options;
  return { ...(gte === undefined ? { gt } : { gte }), ...(lte === undefined ? { lt } : { lte }) };
}

/**
 * One engine iterator, read in batches and mapped to what the Level
 * iterator yields. Without an explicit snapshot the engine iterator is made
 * at once (its view is the implicit snapshot); with one it is made at first
 * use, after abstract-level has checked that the snapshot is still open.
 */
class Cursor<T> {
  readonly #db: Database;
  readonly #options: PrivateIteratorOptions;
  readonly #map: (entry: IteratorEntry) => T;
  #made: ValueIterator | undefined;

  constructor(db: Database, options: PrivateIteratorOptions, map: (entry: IteratorEntry) => T) {
    this.#db = db;
    this.#options = options;
    this.#map = map;
    if (options.snapshot === undefined) this.#made = this.#engine();
  }

  #engine(): ValueIterator {
    if (this.#made !== undefined) return this.#made;
    const snapshot = engineSnapshot(this.#options);
    if (snapshot?.released) throw new LevelError('LEVEL_SNAPSHOT_NOT_OPEN', 'Snapshot is not open');
    const { reverse, limit } = this.#options;
    this.#made = this.#db.iterator({ ...engineBounds(this.#options), reverse, limit, snapshot });
    return this.#made;
  }

  async next(): Promise<T | undefined> {
    const [entry] = await this.nextv(1);
    return entry;
  }

  /** Up to `size` items; an empty array at the end. */
  nextv(size: number): Promise<T[]> {
    return recoded(async () => {
      const entries = await this.#engine().nextv(size);
      if (this.#options.signal?.aborted) throw new LevelAbortError();
      return entries.map(this.#map);
    });
  }

  async all(): Promise<T[]> {
    const out: T[] = [];
    for (let batch = await this.nextv(256); batch.length > 0; batch = await this.nextv(256)) out.push(...batch);
    return out;
  }

  seek(target: Encoded): void {
    this.#engine().seek(target);
  }

  async close(): Promise<void> {
    await this.#made?.close();
  }
}

export class VarveIterator extends AbstractIterator<unknown, Encoded, Encoded> {
  readonly #cursor: Cursor<[Encoded, Encoded]>;

  constructor(owner: unknown, db: Database, options: PrivateIteratorOptions) {
    super(owner, options as never);
    const { keyEncoding, valueEncoding = 'view' } = options;
    this.#cursor = new Cursor(db, options, ([k, v]) => [toFormat(k, keyEncoding), toFormat(v, valueEncoding)]);
  }

  _next(): Promise<[Encoded, Encoded] | undefined> {
    return this.#cursor.next();
  }
  _nextv(size: number): Promise<Array<[Encoded, Encoded]>> {
    return this.#cursor.nextv(size);
  }
  _all(): Promise<Array<[Encoded, Encoded]>> {
    return this.#cursor.all();
  }
  _seek(target: Encoded): void {
    this.#cursor.seek(target);
  }
  _close(): Promise<void> {
    return this.#cursor.close();
  }
}

export class VarveKeyIterator extends AbstractKeyIterator<unknown, Encoded> {
  readonly #cursor: Cursor<Encoded>;

  constructor(owner: unknown, db: Database, options: PrivateIteratorOptions) {
    super(owner, options as never);
    const { keyEncoding } = options;
    this.#cursor = new Cursor(db, options, ([k]) => toFormat(k, keyEncoding));
  }

  _next(): Promise<Encoded | undefined> {
    return this.#cursor.next();
  }
  _nextv(size: number): Promise<Encoded[]> {
    return this.#cursor.nextv(size);
  }
  _all(): Promise<Encoded[]> {
    return this.#cursor.all();
  }
  _seek(target: Encoded): void {
    this.#cursor.seek(target);
  }
  _close(): Promise<void> {
    return this.#cursor.close();
  }
}

export class VarveValueIterator extends AbstractValueIterator<unknown, Encoded, Encoded> {
  readonly #cursor: Cursor<Encoded>;

  constructor(owner: unknown, db: Database, options: PrivateIteratorOptions) {
    super(owner, options as never);
    const { valueEncoding = 'view' } = options;
    this.#cursor = new Cursor(db, options, ([, v]) => toFormat(v, valueEncoding));
  }

  _next(): Promise<Encoded | undefined> {
    return this.#cursor.next();
  }
  _nextv(size: number): Promise<Encoded[]> {
    return this.#cursor.nextv(size);
  }
  _all(): Promise<Encoded[]> {
    return this.#cursor.all();
  }
  _seek(target: Encoded): void {
    this.#cursor.seek(target);
  }
  _close(): Promise<void> {
    return this.#cursor.close();
  }
}
