// The Redis keyspace over one varve database: string keys, each with an
// optional expiry (the engine's expiresAt). Commands run one at a time on
// the event loop, but an engine write is visible only once committed, so
// a command issued after a write and before its commit (a pipelined INCR
// after a SET, or another client's) would read the old value. The overlay
// holds each issued, uncommitted write until its commit: reads consult it
// first, so every command sees every command issued before it, as on a
// Redis server. A write that fails leaves the overlay; the database then
// refuses writes (ERR_READ_ONLY) and reads show what was committed.
import { Buffer } from 'node:buffer';
import type { BatchOp, Database } from '../db.js';

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

interface Pending {
  entry: Entry | null;
  /** The write that set it; a later write of the key replaces it. */
  generation: number;
}

/** Overlay keys: the key's bytes as a latin1 string (one char per byte, so distinct keys stay distinct). */
function overlayKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export class Keyspace {
  readonly db: Database;
  readonly #sync: boolean;
  readonly #overlay = new Map<string, Pending>();
  #generation = 0;
  /** FLUSHDBs issued and not yet committed: until they are, keys outside the overlay read as deleted. */
  #clearsPending = 0;
  /** The newest write issued; commits go in issue order, so once it settles every earlier write has. */
  #latest: Promise<unknown> = Promise.resolve();

  /** `sync`: every write waits for fdatasync before it is acknowledged (--appendfsync always). */
  constructor(db: Database, sync: boolean) {
    this.db = db;
    this.#sync = sync;
  }

  /** The key's live entry as of every command issued so far, or undefined (missing or expired at `now`). */
  get(key: Uint8Array, now: number): Entry | undefined {
    const pending = this.#overlay.size === 0 ? undefined : this.#overlay.get(overlayKey(key));
    if (pending === undefined && this.#clearsPending > 0) return undefined;
    const entry = pending === undefined ? this.db.getEntrySync(key) : pending.entry;
    if (entry === undefined || entry === null) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) return undefined;
    return entry;
  }

  /** Issues `writes` as one atomic batch; visible to get() at once, resolved once committed (and synced with --appendfsync always). */
  write(writes: KeyWrite[]): Promise<void> {
    const generation = ++this.#generation;
    const ops: BatchOp[] = [];
    for (const { key, entry } of writes) {
      this.#overlay.set(overlayKey(key), { entry, generation });
      if (entry === null) ops.push({ type: 'del', key });
      else if (entry.expiresAt === undefined) ops.push({ type: 'put', key, value: entry.value });
      else ops.push({ type: 'put', key, value: entry.value, expiresAt: entry.expiresAt });
    }
    const settle = () => {
      for (const { key } of writes) {
        const name = overlayKey(key);
        if (this.#overlay.get(name)?.generation === generation) this.#overlay.delete(name);
      }
    };
    const committed = this.db.batch(ops, { sync: this.#sync });
    this.#latest = committed.then(settle, settle);
    return committed;
  }

  /** Deletes every key (FLUSHDB) with one range tombstone, which also covers every write issued before it. */
  flush(): Promise<void> {
    this.#overlay.clear();
    this.#clearsPending++;
    const committed = this.db.clear({}, { sync: this.#sync });
    const settle = () => this.#clearsPending--;
    this.#latest = committed.then(settle, settle);
    return committed;
  }

  /** Resolves once every write issued so far has committed or failed: iterations (SCAN, KEYS, DBSIZE) read the engine after it. */
  settled(): Promise<unknown> {
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
