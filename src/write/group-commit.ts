// Group commit: writers that arrive while a commit is in flight wait in a
// queue; the next commit takes all of them as one group, encodes their
// operations into ONE write batch (consecutive sequence numbers), frames it
// as ONE WAL record, hands it to the OS in one write, fdatasyncs once if any
// of them asked for sync, inserts it into the memtable in one WebAssembly
// call, and resolves them together. With no commit in flight a writer is
// committed at once, on its own call stack: an unsynced put costs no extra
// turn of the event loop. But a writer awaiting unsynced writes in a loop
// would then never finish a macrotask, starving timers and I/O: once commits
// have run for MAX_TURN_MS without the event loop turning, the next one
// waits for a turn (setImmediate). writeNow() commits on the caller's
// stack without a promise, when no wait is needed (an event loop's turn
// end committing what the turn gathered: varve serve).
//
// Invariant: commits run one at a time, in arrival order; a group's
// sequence numbers follow the previous group's.
import { performance } from 'node:perf_hooks'; // not the global, which Node defines as a getter: a call per use
import { setImmediate } from 'node:timers';
import { WriteBatch } from '../batch.js';
import { Kind } from '../keys.js';

/** How long commits may run on microtasks alone before they let the event loop turn. */
const MAX_TURN_MS = 4;

export interface WriteOp {
  kind: typeof Kind.Value | typeof Kind.Deletion | typeof Kind.ValueWithExpiry | typeof Kind.RangeDeletion;
  key: Uint8Array;
  /** The value; for a range deletion, the encoded end (src/rangedel/tombstone.ts). */
  value: Uint8Array | undefined;
  /** For ValueWithExpiry: ms since the epoch. */
  expiresAt: number | undefined;
}

/** What a commit needs from the engine; each step throws on failure. */
export interface CommitTarget {
  /** Sequence of the last committed operation. */
  lastSequence(): number;
  /** Frames the batch (in linear memory) into the WAL and hands it to the OS. */
  appendToLog(ptr: number, len: number): void;
  /** fdatasync of the WAL. */
  syncLog(): Promise<void>;
  /** Inserts the batch into the memtable and publishes its sequence numbers to readers. */
  apply(ptr: number, len: number, lastSequence: number): void;
  /** Waits, if needed, until the memtable has room (flush backlog); called before each commit. */
  makeRoom(): Promise<void> | undefined;
  /** Whether makeRoom() would return undefined, changing nothing. */
  hasRoom(): boolean;
  /** Throws if writes are refused (closed, or poisoned by an earlier failure). */
  checkWritable(): void;
}

interface Pending {
  ops: WriteOp[];
  sync: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  readonly #target: CommitTarget;
  readonly #maxGroupBytes: number;
  readonly #batch = new WriteBatch(64 * 1024);
  #queue: Pending[] = [];
  #busy = false;
  /** Key + value bytes of every committed operation. */
  #userBytes = 0;
  /** A setImmediate is pending that marks the next turn of the event loop. */
  #turnMarked = false;
  /** When commits began running without a turn of the event loop in between. */
  #runStarted = 0;

  constructor(target: CommitTarget, maxGroupBytes: number) {
    this.#target = target;
    this.#maxGroupBytes = maxGroupBytes;
  }

  /** Commits `ops` atomically; resolves once they are in the WAL (and synced if `sync`) and visible. */
  write(ops: WriteOp[], sync: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ops, sync, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  /**
   * Commits `ops` atomically on this call stack, unsynced, when that needs
   * no wait: no commit in flight or queued (so commits keep their order)
   * and room in the memtable. True once they are in the WAL (handed to the
   * OS) and visible; false, having done nothing, otherwise. Throws what a
   * commit throws. Unlike write(), it never lets the event loop turn: a
   * caller looping on it starves timers and I/O.
   */
  writeNow(ops: WriteOp[]): boolean {
    if (this.#busy || !this.#target.hasRoom()) return false;
    this.#busy = true;
    try {
      this.#target.checkWritable();
      this.#batch.clear();
      const userBytes = this.#encode(ops);
      if (this.#batch.count > 0) this.#publish(this.#append(), userBytes);
    } finally {
      this.#busy = false;
    }
    return true;
  }

  /** Key + value bytes of every operation committed so far. */
  get userBytesWritten(): number {
    return this.#userBytes;
  }

  /** Resolves when every queued write has been committed or failed. */
  async idle(): Promise<void> {
    while (this.#busy) await new Promise((r) => setTimeout(r, 1));
  }

  /** Frees the batch buffer in linear memory. Precondition: idle, and no write follows (the database is closing). */
  release(): void {
    this.#batch.release();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const turn = this.#turnIfLong();
        if (turn) await turn;
        try {
          const room = this.#target.makeRoom();
          if (room) await room;
        } catch (err) {
          // No room (a new WAL could not be made, a flush failed): the next group fails with the cause.
          for (const w of this.#takeGroup()) w.reject(err);
          continue;
        }
        const group = this.#takeGroup();
        try {
          await this.#commit(group);
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  /** A wait for the next turn of the event loop if commits have run MAX_TURN_MS without one; else undefined. */
  #turnIfLong(): Promise<void> | undefined {
    const now = performance.now();
    if (!this.#turnMarked) {
      this.#turnMarked = true;
      this.#runStarted = now;
      setImmediate(() => (this.#turnMarked = false));
      return undefined;
    }
    if (now - this.#runStarted < MAX_TURN_MS) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Takes the writers of the next group: all waiting ones, up to about
   * maxGroupBytes (a single larger writer goes alone), so one group cannot
   * overshoot the memtable by much or make a huge WAL record.
   */
  #takeGroup(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || bytes < this.#maxGroupBytes)) {
      for (const op of this.#queue[n]!.ops) bytes += op.key.length + (op.value?.length ?? 0) + 8;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #commit(group: Pending[]): Promise<void> {
    this.#target.checkWritable();
    this.#batch.clear();
    let sync = false;
    let userBytes = 0;
    for (const w of group) {
      sync ||= w.sync;
      userBytes += this.#encode(w.ops);
    }
    if (this.#batch.count === 0) return;
    const last = this.#append();
    if (sync) await this.#target.syncLog();
    this.#publish(last, userBytes);
  }

  /** Adds `ops` to the batch; returns their key + value bytes. */
  #encode(ops: WriteOp[]): number {
    const batch = this.#batch;
    let userBytes = 0;
    for (const op of ops) {
      userBytes += op.key.length + (op.value?.length ?? 0);
      if (op.kind === Kind.Deletion) batch.del(op.key);
      else if (op.kind === Kind.Value) batch.put(op.key, op.value!);
      else if (op.kind === Kind.ValueWithExpiry) batch.putWithExpiry(op.key, op.value!, op.expiresAt!);
      else batch.putWithKind(op.kind, op.key, op.value!);
    }
    return userBytes;
  }

  /** Numbers the batch (not empty) after the last committed sequence and hands it to the WAL; returns its last sequence. */
  #append(): number {
    const batch = this.#batch;
    const first = this.#target.lastSequence() + 1;
    batch.setSequence(first);
    this.#target.appendToLog(batch.ptr, batch.len);
    return first + batch.count - 1;
  }

  /** Makes the appended batch visible. */
  #publish(lastSequence: number, userBytes: number): void {
    this.#target.apply(this.#batch.ptr, this.#batch.len, lastSequence);
    this.#userBytes += userBytes;
  }
}
