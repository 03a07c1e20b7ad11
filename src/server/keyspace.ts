// The Redis keyspace over one varve database: string keys, each with an
// optional expiry (the engine's expiresAt). Commands run one at a time on
// the event loop, but an engine write is visible only once committed, so
// a command issued after a write and before its commit (a pipelined INCR
// after a SET, or another client's) would read the old value. The overlay
// holds each issued, uncommitted write until its commit: reads consult it
// first, so every command sees every command issued before it, as on a
// Redis server. A write that fails leaves the overlay; the database then
// refuses writes (ERR_READ_ONLY) and reads show what was committed. The
// overlay is built by the first read while writes are pending, so a run of
// writes alone (a bulk load, redis-benchmark's SET) never pays for it.
//
// Writes issued in one turn of the event loop are committed together at
// its end (see turn.ts), as one engine batch: one WAL record, and one
// fsync with --appendfsync always. Each command's writes stay atomic, as
// they are part of that batch.
import type { BatchOp, Database } from '../db.js';
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from '../options.js';
import { latin1 } from './args.js';
import { CommandError } from './command.js';
import { Commit } from './commit.js';
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

/** Writes issued together: this turn's until handed to the engine as one batch, then until that batch settles. */
interface Group {
  writes: KeyWrite[];
  /** Its place in issue order: the overlay entries it sets carry it. */
  generation: number;
  bytes: number;
  commit: Commit;
}

interface Pending {
  entry: Entry | null;
  /** The group that wrote it; a later group's write of the key replaces it. */
  generation: number;
}

function toBatchOp({ key, entry }: KeyWrite): BatchOp {
  if (entry === null) return { type: 'del', key };
  if (entry.expiresAt === undefined) return { type: 'put', key, value: entry.value };
  return { type: 'put', key, value: entry.value, expiresAt: entry.expiresAt };
}

function checkLimits(key: Uint8Array, entry: Entry | null): void {
  if (key.length > MAX_KEY_SIZE) throw new CommandError(`ERR key of ${key.length} bytes is over varve's limit of ${MAX_KEY_SIZE}`);
  if (entry !== null && entry.value.length > MAX_VALUE_SIZE) throw new CommandError(`ERR value of ${entry.value.length} bytes is over varve's limit of ${MAX_VALUE_SIZE}`);
}

export class Keyspace {
  readonly db: Database;
  readonly #sync: boolean;
  readonly #turn: TurnEnd;
  /** Groups issued and not yet settled, in issue order; the last may be this turn's. */
  readonly #unsettled: Group[] = [];
  /** This turn's writes, not yet handed to the engine (the last of #unsettled). */
  #group: Group | undefined;
  #generation = 0;
  /**
   * The newest unsettled write of each key, by the key's bytes as a latin1
   * string (one char per byte, so distinct keys stay distinct). Made by the
   * first read that needs it, so writes alone never pay for it; kept up to
   * date while it exists; dropped once nothing is unsettled. While it is
   * undefined, no FLUSHDB is pending, and building it from #unsettled gives
   * what keeping it would have.
   */
  #overlay: Map<string, Pending> | undefined;
  /** withPrefetch()'s entries of its keys, and the next one get() may take. */
  #ahead: { keys: Uint8Array[]; entries: Array<Entry | undefined>; next: number } | undefined;
  /** FLUSHDBs issued and not yet committed: until they are, keys outside the overlay read as deleted. */
  #clearsPending = 0;
  /** The newest write handed to the engine's queue; commits go in issue order, so once it settles every earlier write has (one committed at once needs no wait). */
  #latest: Promise<unknown> = Promise.resolve();
  /** #commitGroup is queued for the end of the turn (an early #commit leaves it queued for the next group). */
  #commitQueued = false;
  readonly #commitGroup = (): void => {
    this.#commitQueued = false;
    this.#commit(true);
  };

  /** `sync`: every write waits for fdatasync before it is acknowledged (--appendfsync always). */
  constructor(db: Database, sync: boolean, turn: TurnEnd) {
    this.db = db;
    this.#sync = sync;
    this.#turn = turn;
  }

  /** The key's live entry as of every command issued so far, or undefined (missing or expired at `now`). */
  get(key: Uint8Array, now: number): Entry | undefined {
    const overlay = this.#overlay ?? (this.#unsettled.length > 0 ? this.#buildOverlay() : undefined);
    const pending = overlay === undefined ? undefined : overlay.get(latin1(key));
    if (pending === undefined && this.#clearsPending > 0) return undefined;
    const entry = pending === undefined ? this.#stored(key) : pending.entry;
    if (entry === undefined || entry === null) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) return undefined;
    return entry;
  }

  /** The key's entry in the store: from the prefetch when it read this key (skipping keys the overlay answered). */
  #stored(key: Uint8Array): Entry | undefined {
    const ahead = this.#ahead;
    if (ahead !== undefined) {
      for (let i = ahead.next; i < ahead.keys.length; i++) {
        if (ahead.keys[i] !== key) continue;
        ahead.next = i + 1;
        return ahead.entries[i];
      }
    }
    return this.db.getEntrySync(key);
  }

  /**
   * Runs `run`, which calls get() with `keys` (the same objects), in order,
   * with nothing else changing the store meanwhile (a run of pipelined
   * GETs): the keys are read from the store in one batch first, which is
   * faster than one by one, and get() answers each from it when it meets
   * that key next (the overlay still goes first). Should the batch read
   * fail, get() reads each key as usual, and meets the error itself.
   */
  withPrefetch(keys: Uint8Array[], run: () => void): void {
    try {
      this.#ahead = { keys, entries: this.db.getEntriesSync(keys), next: 0 };
    } catch {
      this.#ahead = undefined;
    }
    try {
      run();
    } finally {
      this.#ahead = undefined;
    }
  }

  /**
   * Issues `writes` as one atomic write; visible to get() at once, settled
   * once committed (and synced with --appendfsync always). The commit is
   * shared by every write of the turn. A key or value beyond the engine's
   * limits throws CommandError before anything is issued: the engine would
   * refuse the whole batch, and with it the turn's other writes.
   */
  write(writes: KeyWrite[]): Commit {
    for (const { key, entry } of writes) checkLimits(key, entry);
    const group = this.#group ?? this.#startGroup();
    const overlay = this.#overlay;
    for (const write of writes) {
      group.writes.push(write);
      group.bytes += write.key.length + (write.entry?.value.length ?? 0);
      if (overlay !== undefined) overlay.set(latin1(write.key), { entry: write.entry, generation: group.generation });
    }
    const commit = group.commit;
    if (group.bytes >= MAX_GROUP_BYTES) this.#commit();
    return commit;
  }

  #startGroup(): Group {
    const group: Group = { writes: [], generation: ++this.#generation, bytes: 0, commit: new Commit() };
    this.#group = group;
    this.#unsettled.push(group);
    if (!this.#commitQueued) {
      this.#commitQueued = true;
      this.#turn.commit(this.#commitGroup);
    }
    return group;
  }

  #buildOverlay(): Map<string, Pending> {
    const overlay = new Map<string, Pending>();
    for (const group of this.#unsettled) {
      for (const { key, entry } of group.writes) overlay.set(latin1(key), { entry, generation: group.generation });
    }
    this.#overlay = overlay;
    return overlay;
  }

  /**
   * Hands the writes issued and not yet handed over to the engine, as one
   * batch. With `atOnce` (the turn's end calling), writes that need no
   * fsync are committed and settled on this stack when the engine needs no
   * wait, sparing the promises; elsewhere a command is running, and
   * settling would have its connection run the requests after it inside it.
   */
  #commit(atOnce = false): void {
    const group = this.#group;
    if (group === undefined) return;
    this.#group = undefined;
    const ops = group.writes.map(toBatchOp);
    if (atOnce && !this.#sync && this.#commitNow(group, ops)) return;
    const settle = () => this.#settle(group);
    const committed = this.db.batch(ops, { sync: this.#sync });
    this.#latest = committed.then(settle, settle);
    group.commit.follow(committed);
  }

  /** Commits the group on this stack and settles it; false (nothing done) when the engine would make it wait. */
  #commitNow(group: Group, ops: BatchOp[]): boolean {
    let failed = false;
    let err: unknown;
    try {
      if (!this.db.batchNow(ops)) return false;
    } catch (e) {
      failed = true;
      err = e;
    }
    this.#settle(group);
    group.commit.settle(failed, err);
    return true;
  }

  /** A group's batch committed or failed: its writes leave the overlay, unless a later group wrote the key again. */
  #settle(group: Group): void {
    this.#unsettled.splice(this.#unsettled.indexOf(group), 1);
    const overlay = this.#overlay;
    if (overlay === undefined) return;
    for (const { key } of group.writes) {
      const name = latin1(key);
      const pending = overlay.get(name);
      if (pending !== undefined && pending.generation <= group.generation) overlay.delete(name);
    }
    this.#dropOverlayIfIdle();
  }

  #dropOverlayIfIdle(): void {
    if (this.#unsettled.length === 0 && this.#clearsPending === 0) this.#overlay = undefined;
  }

  /** Deletes every key (FLUSHDB) with one range tombstone, which also covers every write issued before it. */
  flush(): Commit {
    this.#commit();
    // Every key reads as deleted until the clear commits, but what is written after it.
    this.#overlay = new Map();
    this.#clearsPending++;
    const committed = this.db.clear({}, { sync: this.#sync });
    const settle = () => {
      this.#clearsPending--;
      this.#dropOverlayIfIdle();
    };
    this.#latest = committed.then(settle, settle);
    const commit = new Commit();
    commit.follow(committed);
    return commit;
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

  /** Key writes issued and not yet settled (for INFO). */
  get pendingWrites(): number {
    let n = 0;
    for (const group of this.#unsettled) n += group.writes.length;
    return n;
  }
}
