// What a command is to the server: a name, Redis's arity and key positions
// (for COMMAND), and a handler. A handler runs synchronously against the
// keyspace, so it sees every command issued before it; it returns the reply
// (a function that writes it), the reply to send once its write commits
// (AfterCommit), or a promise of the reply when it has other work to wait
// for (SCAN, INFO). Errors it throws or rejects with become error replies.
import type { Commit } from './commit.js';
import type { Keyspace } from './keyspace.js';
import type { ReplyWriter } from './resp/writer.js';
import type { Session } from './session.js';
import type { ServerState } from './state.js';

export type Reply = (w: ReplyWriter) => void;

/** A write's reply: `reply` once `commit` succeeds; the error reply for what it fails with. */
export class AfterCommit {
  readonly commit: Commit;
  readonly reply: Reply;

  constructor(commit: Commit, reply: Reply) {
    this.commit = commit;
    this.reply = reply;
  }
}

export type Outcome = Reply | AfterCommit | Promise<Reply>;

export interface Context {
  keyspace: Keyspace;
  session: Session;
  server: ServerState;
  /** The wall clock, ms since the epoch, read once per run of requests (the commands of one read from the socket). */
  now: number;
  /**
   * performance.now() when the command being dispatched began: when the
   * one before it in the run returned, or when the run began. dispatch()
   * moves it on, so a command's latency costs one clock read, not two.
   * NaN until read: a run starts without it, and a command whose reply
   * waits for its commit (its latency is measured to the commit) leaves it
   * to the command after it, if any; at -P 1 a SET then reads no clock.
   */
  started: number;
  /**
   * While set, dispatch() reads no clock for commands that reply at once
   * and lists their names here instead; the caller times them together
   * and shares the time out (a run of prefetched GETs, whose store read
   * happens before any of them is dispatched).
   */
  untimed?: string[];
}

export interface Command {
  /** Lower case. */
  name: string;
  /** Redis's arity: n exactly n arguments (the name included); -n at least n. */
  arity: number;
  /** Redis's command flags (write, readonly, fast, ...), for COMMAND. */
  flags: string[];
  firstKey: number;
  lastKey: number;
  step: number;
  run(ctx: Context, args: Uint8Array[]): Outcome;
}

/** Redis's key positions of a command without keys. */
export const NO_KEYS: [number, number, number] = [0, 0, 0];

/** A command; `keys` are Redis's first key, last key and step (by default one key, the first argument). */
export function define(name: string, arity: number, flags: string[], run: Command['run'], keys: [number, number, number] = [1, 1, 1]): Command {
  return { name, arity, flags, firstKey: keys[0], lastKey: keys[1], step: keys[2], run };
}

/** A reply error: `message` starts with Redis's prefix (ERR, WRONGTYPE, NOAUTH, ...), which clients match on. */
export class CommandError extends Error {}

export const OK: Reply = (w) => w.simple('OK');
export const NIL: Reply = (w) => w.nil();
export const integer = (n: number): Reply => (w) => w.integer(n);
export const bulk = (value: Uint8Array | string): Reply => (w) => w.bulk(value);
/** A bulk reply, or nil for undefined. */
export const bulkOrNil = (value: Uint8Array | undefined): Reply => (value === undefined ? NIL : (w) => w.bulk(value));
