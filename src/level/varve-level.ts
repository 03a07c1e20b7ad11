// varve as an abstract-level database: `new VarveLevel(location, options)`.
// A face over the engine: every operation is the engine's own (its reads
// are synchronous at one sequence, so gets and iterators have implicit
// snapshots; explicit snapshots are engine snapshots; clear() without a
// limit is one range tombstone). abstract-level does the encodings,
// deferred open, sublevels, hooks and events.
import { AbstractLevel, type AbstractDatabaseOptions, type AbstractOpenOptions } from 'abstract-level';
import { open, type BatchOp, type Database } from '../db.js';
import { DEFAULTS, type Options } from '../options.js';
import type { DatabaseStats } from '../stats.js';
import type { VerifyReport } from '../verify.js';
import { LevelError, levelError, recoded } from './errors.js';
import { toFormat, type Encoded } from './formats.js';
import { VarveIterator, VarveKeyIterator, VarveValueIterator, engineBounds, type PrivateIteratorOptions } from './iterators.js';
import { VarveSnapshot, engineSnapshot } from './snapshot.js';

/** The constructor's options: abstract-level's (encodings, passive) and the engine's (see Options). */
export type VarveLevelOptions<K, V> = AbstractDatabaseOptions<K, V> & Omit<Options, 'createIfMissing' | 'errorIfExists'>;

/** What abstract-level hands the private write methods; `sync`, `ttl` and `expiresAt` pass through from the caller. */
interface PrivateWriteOptions {
  sync?: boolean;
  ttl?: number;
  expiresAt?: number;
}

interface PrivateReadOptions {
  keyEncoding: string;
  valueEncoding?: string;
  snapshot?: unknown;
}

interface PrivateOp {
  type: 'put' | 'del';
  key: Encoded;
  value?: Encoded;
  ttl?: number;
  expiresAt?: number;
}

const MANIFEST = {
  encodings: { buffer: true, view: true, utf8: true },
  implicitSnapshots: true,
  explicitSnapshots: true,
  getSync: true,
  has: true,
  seek: true,
  permanence: true,
  createIfMissing: true,
  errorIfExists: true,
  signals: { iterators: true },
  additionalMethods: { compactRange: true, checkpoint: true, verify: true, stats: true },
};

/** The engine's options among the constructor's (abstract-level's own are left to it). */
function engineOptions(options: Record<string, unknown>): Options {
  return Object.fromEntries(Object.entries(options).filter(([name]) => name in DEFAULTS && name !== 'createIfMissing' && name !== 'errorIfExists'));
}

function readOptions(options: PrivateReadOptions): { snapshot?: ReturnType<typeof engineSnapshot> } {
  const snapshot = engineSnapshot(options);
  return snapshot === undefined ? {} : { snapshot };
}

function writeOptions(options: PrivateWriteOptions): { sync?: boolean } {
  return options.sync === undefined ? {} : { sync: options.sync };
}

export class VarveLevel<KDefault = string, VDefault = string> extends AbstractLevel<Encoded, KDefault, VDefault> {
  readonly location: string;
  readonly #options: Options;
  #engine: Database | undefined;

  constructor(location: string, options: VarveLevelOptions<KDefault, VDefault> = {}) {
    if (typeof location !== 'string' || location === '') throw new TypeError("The first argument 'location' must be a non-empty string");
    super(MANIFEST, options);
    this.location = location;
    this.#options = engineOptions(options as Record<string, unknown>);
  }

  /** The engine database underneath, for what only varve has (getEntry, memoryUsage, on('error')). Only while open. */
  get engine(): Database {
    if (this.#engine === undefined) throw new LevelError('LEVEL_DATABASE_NOT_OPEN', 'Database is not open');
    return this.#engine;
  }

  async _open(options: AbstractOpenOptions): Promise<void> {
    const { createIfMissing, errorIfExists } = options;
    this.#engine = await recoded(() => open(this.location, { ...this.#options, createIfMissing, errorIfExists }));
  }

  async _close(): Promise<void> {
    const engine = this.#engine;
    this.#engine = undefined;
    await recoded(() => engine?.close());
  }

  async _get(key: Encoded, options: PrivateReadOptions): Promise<Encoded | undefined> {
    return this._getSync(key, options);
  }

  _getSync(key: Encoded, options: PrivateReadOptions): Encoded | undefined {
    try {
      const value = this.engine.getSync(key, readOptions(options));
      return value === undefined ? undefined : toFormat(value, options.valueEncoding ?? 'view');
    } catch (err) {
      throw levelError(err);
    }
  }

  _getMany(keys: Encoded[], options: PrivateReadOptions): Promise<Array<Encoded | undefined>> {
    return recoded(async () => {
      const values = await this.engine.getMany(keys, readOptions(options));
      return values.map((v) => (v === undefined ? undefined : toFormat(v, options.valueEncoding ?? 'view')));
    });
  }

  async _has(key: Encoded, options: PrivateReadOptions): Promise<boolean> {
    return this._getSync(key, options) !== undefined;
  }

  _hasMany(keys: Encoded[], options: PrivateReadOptions): Promise<boolean[]> {
    return recoded(async () => (await this.engine.getMany(keys, readOptions(options))).map((v) => v !== undefined));
  }

  _put(key: Encoded, value: Encoded, options: PrivateWriteOptions): Promise<void> {
    const { ttl, expiresAt } = options;
    return recoded(() => this.engine.put(key, value, { ...writeOptions(options), ...(ttl === undefined ? {} : { ttl }), ...(expiresAt === undefined ? {} : { expiresAt }) }));
  }

  _del(key: Encoded, options: PrivateWriteOptions): Promise<void> {
    return recoded(() => this.engine.del(key, writeOptions(options)));
  }

  _batch(operations: PrivateOp[], options: PrivateWriteOptions): Promise<void> {
    const ops: BatchOp[] = operations.map(({ type, key, value, ttl, expiresAt }) =>
      type === 'del' ? { type, key } : { type, key, value: value!, ...(ttl === undefined ? {} : { ttl }), ...(expiresAt === undefined ? {} : { expiresAt }) },
    );
    return recoded(() => this.engine.batch(ops, writeOptions(options)));
  }

  /**
   * Without a limit or snapshot: one range tombstone over the bounds,
   * atomic. Otherwise the keys the iterator would visit (the first `limit`,
   * as of the snapshot), deleted in batches.
   */
  _clear(options: PrivateIteratorOptions & PrivateWriteOptions): Promise<void> {
    const { limit, snapshot } = options;
    if (limit === -1 && snapshot === undefined) return recoded(() => this.engine.clear(engineBounds(options), writeOptions(options)));
    return recoded(async () => {
      const it = new VarveKeyIterator(this, this.engine, { ...options, keyEncoding: 'view' });
      try {
        for (let keys = await it._nextv(1024); keys.length > 0; keys = await it._nextv(1024)) {
          await this.engine.batch(keys.map((key) => ({ type: 'del', key })), writeOptions(options));
        }
      } finally {
        await it._close();
      }
    });
  }

  _iterator(options: PrivateIteratorOptions): VarveIterator {
    return new VarveIterator(this, this.engine, options);
  }

  _keys(options: PrivateIteratorOptions): VarveKeyIterator {
    return new VarveKeyIterator(this, this.engine, options);
  }

  _values(options: PrivateIteratorOptions): VarveValueIterator {
    return new VarveValueIterator(this, this.engine, options);
  }

  _snapshot(options: { owner: unknown }): VarveSnapshot {
    return new VarveSnapshot(options, this.engine.snapshot());
  }

  // ---- varve's additional methods (db.supports.additionalMethods) ----

  /** Waits out a deferred open; the engine once open. */
  async #ready(): Promise<Database> {
    if (this.status === 'opening') await this.open({ passive: true });
    return this.engine;
  }

  /** Compacts the tables holding keys in [start, end] (all with neither); keys in the database's key encoding. */
  async compactRange(start?: KDefault, end?: KDefault): Promise<void> {
    const engine = await this.#ready();
    const encode = (k: KDefault | undefined) => (k === undefined ? undefined : (this.keyEncoding().encode(k) as Encoded));
    await recoded(() => engine.compactRange(encode(start), encode(end)));
  }

  /** A consistent copy of the database in `dir`, which must not exist (hard links where it can). */
  async checkpoint(dir: string): Promise<void> {
    const engine = await this.#ready();
    await recoded(() => engine.checkpoint(dir));
  }

  /** Re-reads every live file and checks every checksum; reports what it found, repairs nothing. */
  async verify(): Promise<VerifyReport> {
    const engine = await this.#ready();
    return recoded(() => engine.verify());
  }

  /** The engine's statistics (levels, caches, stalls, compactions). */
  async stats(): Promise<DatabaseStats> {
    const engine = await this.#ready();
    return engine.stats();
  }
}
