// The Redis keyspace over one varve database: string keys, each with an
// optional expiry (the engine's expiresAt). Commands run one at a time on
// the event loop, but an engine write is visible only once committed, so
// a command issued after a write and before its commit (a pipelined INCR
// after a SET, or another client's) would read the old value. The overlay
// holds each issued, uncommitted write until its commit: reads consult it
// first, so every command sees every command issued before it, as on a
// Redis server. A write that fails leaves the overlay; the database then
// refuses writes (ERR_READ_ONLY) and reads show what was committed.
//
// Writes issued in one turn of the event loop are committed together at
// its end (see turn.ts), as one engine batch: one WAL record, and one
// fsync with --appendfsync always. Each command's writes stay atomic, as
// they are part of that batch.
import type { BatchOp, Database } from '../db.js';
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from '../options.js';
import { latin1 } from './args.js';
import { CommandError } from './command.js';
import type { TurnEnd } from './turn.js';

/** A live value and its expiry (ms since the epoch; undefined: none). */
export interface Entry {
  value: Uint8Array;
  expiresAt: number | undefined;
}

/** One key's new state in a write: a value (with its expiry) or, null, deleted. */
export interface KeyWrite {
  key: Uint8Array;
  entry: Entry | null;
}

/** A group of writes bigger than this is committed at once rather than at the end of the turn (bounds a WAL record). */
const MAX_GROUP_BYTES = 1024 * 1024;

/** Writes issued and not yet handed to the engine: they commit as one batch. */
interface Group {
  ops: BatchOp[];
  /** Overlay keys the group wrote. */
  keys: string[];
  /** The generation of its last write: overlay entries up to it are committed with it. */
  generation: number;
  bytes: number;
  committed: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const committed = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { ops: [], keys: [], generation: 0, bytes: 0, committed, resolve, reject };
}

interface Pending {
  entry: Entry | null;
  /** The write that set it; a later write of the key replaces it. */
  generation: number;
}


function checkLimits(key: Uint8Array, entry: Entry | null): void {
  if (key.length > MAX_KEY_SIZE) throw new CommandError(`ERR key of ${key.length} bytes is over varve's limit of ${MAX_KEY_SIZE}`);
  if (entry !== null && entry.value.length > MAX_VALUE_SIZE) throw new CommandError(`ERR value of ${entry.value.length} bytes is over varve's limit of ${MAX_VALUE_SIZE}`);
}

export class Keyspace {
  readonly db: Database;
  readonly #sync: boolean;
  readonly #turn: TurnEnd;
  /** Issued, uncommitted writes by key, as latin1 strings (one char per byte, so distinct keys stay distinct). */
  readonly #overlay = new Map<string, Pending>();
  #generation = 0;
  /** FLUSHDBs issued and not yet committed: until they are, keys outside the overlay read as deleted. */
  #clearsPending = 0;
  /** The newest write handed to the engine; commits go in issue order, so once it settles every earlier write has. */
  #latest: Promise<unknown> = Promise.resolve();
  /** This turn's writes, not yet handed to the engine. */
  #group: Group | undefined;
  readonly #commitGroup = (): void => this.#commit();

  /** `sync`: every write waits for fdatasync before it is acknowledged (--appendfsync always). */
  constructor(db: Database, sync: boolean, turn: TurnEnd) {
    this.db = db;
    this.#sync = sync;
    this.#turn = turn;
  }

  /** The key's live entry as of every command issued so far, or undefined (missing or expired at `now`). */
  get(key: Uint8Array, now: number): Entry | undefined {
    const pending = this.#overlay.size === 0 ? undefined : this.#overlay.get(latin1(key));
    if (pending === undefined && this.#clearsPending > 0) return undefined;
    const entry = pending === undefined ? this.db.getEntrySync(key) : pending.entry;
    if (entry === undefined || entry === null) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) return undefined;
    return entry;
  }

  /**
   * Issues `writes` as one atomic write; visible to get() at once, resolved
   * once committed (and synced with --appendfsync always). The promise is
   * shared by every write of the turn. A key or value beyond the engine's
   * limits throws CommandError before anything is issued: the engine would
   * refuse the whole batch, and with it the turn's other writes.
   */
  write(writes: KeyWrite[]): Promise<void> {
    for (const { key, entry } of writes) checkLimits(key, entry);
    const generation = ++this.#generation;
    const group = this.#group ?? this.#startGroup();
    group.generation = generation;
    for (const { key, entry } of writes) {
      const name = latin1(key);
      this.#overlay.set(name, { entry, generation });
      group.keys.push(name);
      group.bytes += key.length + (entry?.value.length ?? 0);
      if (entry === null) group.ops.push({ type: 'del', key });
      else if (entry.expiresAt === undefined) group.ops.push({ type: 'put', key, value: entry.value });
      else group.ops.push({ type: 'put', key, value: entry.value, expiresAt: entry.expiresAt });
    }
    const committed = group.committed;
    if (group.bytes >= MAX_GROUP_BYTES) this.#commit();
    return committed;
  }

  #startGroup(): Group {
    this.#group = newGroup();
    this.#turn.commit(this.#commitGroup);
    return this.#group;
  }

  /** Hands the writes issued and not yet handed over to the engine, as one batch. */
  #commit(): void {
    const group = this.#group;
    if (group === undefined) return;
    this.#group = undefined;
    const settle = () => {
      for (const name of group.keys) {
        const pending = this.#overlay.get(name);
        if (pending !== undefined && pending.generation <= group.generation) this.#overlay.delete(name);
      }
    };
    const committed = this.db.batch(group.ops, { sync: this.#sync });
    this.#latest = committed.then(settle, settle);
    committed.then(group.resolve, group.reject);
  }

  /** Deletes every key (FLUSHDB) with one range tombstone, which also covers every write issued before it. */
  flush(): Promise<void> {
    this.#commit();
    this.#overlay.clear();
    this.#clearsPending++;
    const committed = this.db.clear({}, { sync: this.#sync });
    const settle = () => this.#clearsPending--;
    this.#latest = committed.then(settle, settle);
    return committed;
  }

  /** Resolves once every write issued so far has committed or failed: iterations (SCAN, KEYS, DBSIZE) read the engine after it. */
  settled(): Promise<unknown> {
    this.#commit();
    return this.#latest;
  }

  /** The live keys, counted by a walk of the keyspace after every write issued so far has committed (O(keys)). */
  async count(): Promise<number> {
    await this.settled();
    let n = 0;
    const it = this.db.iterator();
    try {
      for (let batch = await it.nextv(4096); batch.length > 0; batch = await it.nextv(4096)) n += batch.length;
    } finally {
      await it.close();
    }
    return n;
  }

  /** Uncommitted writes (for INFO). */
  get pendingWrites(): number {
    return this.#overlay.size;
  }
}
