// One client connection: bytes in through the RESP parser, each request
// dispatched at once (so pipelined writes share group commits), replies
// written strictly in request order. A reply that waits for a commit holds
// back the replies after it, which queue behind it. Replies go to the
// socket at the end of the turn (turn.ts), one write for all the requests
// a turn read, or sooner once REPLY_BATCH bytes wait.
//
// Backpressure: requests run only while the socket's send buffer has room
// and fewer than `maxPipeline` replies wait; the rest of a pipeline waits,
// and reading pauses. A client that does not read its replies stalls itself
// and holds bounded memory; one whose unsent replies still pass
// `maxOutputBuffer` is disconnected.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks'; // not the global, which Node defines as a getter: a call per use
import { readClientSocket } from './client-socket.js';
import type { Context, Reply } from './command.js';
import type { CommandTable } from './command-table.js';
import type { Commit } from './commit.js';
import { type DispatchHooks, type Waiting, dispatch } from './dispatch.js';
import type { Keyspace } from './keyspace.js';
import type { ServerOptions } from './options.js';
import { ProtocolError, RespParser } from './resp/parser.js';
import { ReplyWriter } from './resp/writer.js';
import type { Session } from './session.js';
import type { ServerState } from './state.js';
import type { TurnEnd } from './turn.js';

export interface ConnectionDeps {
  table: CommandTable;
  keyspace: Keyspace;
  server: ServerState;
  hooks: DispatchHooks;
  turn: TurnEnd;
  /** Hears why a connection was closed by the server (protocol error, limits, timeout). */
  onDrop(session: Session, reason: string): void;
}

/** Reply bytes gathered before they are handed to the socket mid-pipeline. */
const REPLY_BATCH = 256 * 1024;
/** Most pipelined GETs whose keys are read from the store in one batch. */
const GET_BATCH = 64;

/** Whether the request is a GET with its one key. */
function isGet(table: CommandTable, args: Uint8Array[]): boolean {
  return args.length === 2 && table.find(args[0]!)?.name === 'get';
}

export class Connection {
  readonly session: Session;
  /** The client's socket: the accepted one, or the one its connection moved to (client-socket.ts). */
  readonly socket: Socket;
  readonly #deps: ConnectionDeps;
  readonly #options: ServerOptions;
  readonly #parser: RespParser;
  readonly #writer = new ReplyWriter(2);
  /** Replies not yet written, in request order, ready or waiting for their commands; empty on the fast path. */
  readonly #queue: Array<Reply | Waiting> = [];
  /** The commit last listened to: one listener serves every write of the connection it commits. */
  #listening: Commit | undefined;
  readonly #onReady = (): void => {
    this.#writeReady();
    this.#process();
  };
  /** Requests received and not yet run (from #next on), while replies are backed up. */
  #requests: Uint8Array[][] = [];
  #next = 0;
  #readPaused = false;
  #socketFull = false;
  /** #flushTask is queued for the end of the turn (turn.ts). */
  #flushQueued = false;
  readonly #flushTask = (): void => {
    this.#flushQueued = false;
    this.#flush();
  };

  /** `accepted`: a socket accepted with `pauseOnConnect`, not yet read from. */
  constructor(accepted: Socket, id: number, deps: ConnectionDeps) {
    const socket = readClientSocket(accepted, (chunk) => this.#receive(chunk));
    this.socket = socket;
    this.#deps = deps;
    this.#options = deps.server.options;
    const now = Date.now();
    this.session = {
      id,
      address: `${socket.remoteAddress}:${socket.remotePort}`,
      createdAt: now,
      name: '',
      libName: '',
      libVersion: '',
      protocol: 2,
      authenticated: this.#options.requirepass === undefined,
      lastCommand: 'NULL',
      lastActive: now,
      closing: false,
    };
    this.#parser = new RespParser({ maxBulkLength: this.#options.maxBulkLength, maxInlineLength: this.#options.maxInlineLength, maxArguments: 1024 * 1024 });
    socket.setNoDelay(true);
    if (this.#options.idleTimeoutSeconds > 0) {
      socket.setTimeout(this.#options.idleTimeoutSeconds * 1000, () => this.#drop('idle timeout'));
    }
    socket.on('drain', () => {
      this.#socketFull = false;
      this.#process();
    });
  }

  #receive(chunk: Uint8Array): void {
    let requests: Uint8Array[][];
    try {
      requests = this.#parser.push(chunk);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // Redis answers malformed input with an error and closes the connection.
      this.#writer.error(`ERR ${err.message}`);
      this.#flush();
      this.#drop(err.message);
      return;
    }
    const now = Date.now();
    this.session.lastActive = now;
    // Requests still waiting from an earlier chunk go first (concat: a chunk can hold more requests than a spread may pass).
    this.#requests = this.#next === this.#requests.length ? requests : this.#requests.slice(this.#next).concat(requests);
    this.#next = 0;
    this.#process(now);
  }

  /** Whether replies are backed up: the socket is full, or too many wait for their commands. */
  #backedUp(): boolean {
    return this.#socketFull || this.#queue.length >= this.#options.maxPipeline;
  }

  /**
   * Runs the requests received and not yet run, until they are done or the
   * replies back up; the rest wait for 'drain' or for replies to go out. So
   * a large pipeline (one chunk can hold a hundred thousand GETs) never
   * holds more than about REPLY_BATCH bytes of replies at once. `now`:
   * the wall clock, if the caller just read it.
   */
  #process(now?: number): void {
    if (this.#next < this.#requests.length) this.#run(now ?? Date.now());
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    this.#deps.turn.flush(this.#flushTask);
  }

  /** #process's run of requests: its commands share one read of each clock (`now`: the wall clock, as just read). */
  #run(now: number): void {
    const ctx: Context = { keyspace: this.#deps.keyspace, session: this.session, server: this.#deps.server, now, started: NaN };
    while (this.#next < this.#requests.length && !this.session.closing && !this.#backedUp()) {
      const gets = this.#getsAhead();
      if (gets > 1) this.#runGets(ctx, gets);
      else this.#runOne(ctx);
    }
    if (this.#next === this.#requests.length) {
      this.#requests = [];
      this.#next = 0;
    }
  }

  #runOne(ctx: Context): void {
    const args = this.#requests[this.#next++]!;
    this.#deps.server.counters.commandsProcessed++;
    this.#enqueue(dispatch(this.#deps.table, ctx, args, this.#deps.hooks));
    if (this.#writer.length >= REPLY_BATCH) {
      this.#flush();
      // The next command's latency starts after the socket write.
      ctx.started = NaN;
    }
  }

  /** How many of the next requests (up to GET_BATCH) are well-formed GETs of an authenticated client. */
  #getsAhead(): number {
    if (!this.session.authenticated) return 0;
    const end = Math.min(this.#requests.length, this.#next + GET_BATCH);
    let i = this.#next;
    while (i < end && isGet(this.#deps.table, this.#requests[i]!)) i++;
    return i - this.#next;
  }

  /**
   * Runs the next `count` requests, GETs, as #runOne would, with their keys
   * read from the store in one batch first (Keyspace.withPrefetch): all of
   * them, even if replies back up meanwhile, so none is answered from a
   * read made before a later turn's writes.
   */
  #runGets(ctx: Context, count: number): void {
    const started = Number.isNaN(ctx.started) ? performance.now() : ctx.started;
    const keys: Uint8Array[] = [];
    for (let i = 0; i < count; i++) keys.push(this.#requests[this.#next + i]![1]!);
    const untimed: string[] = [];
    ctx.untimed = untimed;
    try {
      this.#deps.keyspace.withPrefetch(keys, () => {
        for (let i = 0; i < count; i++) this.#runOne(ctx);
      });
    } finally {
      ctx.untimed = undefined;
    }
    // Two clock reads for the run: each GET is timed as an equal share of it, prefetch included.
    const returned = performance.now();
    ctx.started = returned;
    const share = (returned - started) / 1000 / untimed.length;
    for (const name of untimed) this.#deps.hooks.finished(name, share);
  }

  #enqueue(reply: Reply | Waiting): void {
    if (typeof reply === 'function') {
      if (this.#queue.length === 0) reply(this.#writer);
      else this.#queue.push(reply);
      return;
    }
    this.#queue.push(reply);
    const commit = reply.commit;
    if (commit !== undefined && commit === this.#listening) return;
    this.#listening = commit;
    reply.whenReady(this.#deps.hooks, this.#onReady);
  }

  /** Writes the queued replies that are ready, up to the first one still waiting. */
  #writeReady(): void {
    const hooks = this.#deps.hooks;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const reply = typeof head === 'function' ? head : head.take(hooks);
      if (reply === undefined) return;
      this.#queue.shift();
      reply(this.#writer);
    }
  }

  /** Hands what the writer holds to the socket, then applies backpressure and QUIT. */
  #flush(): void {
    if (this.socket.destroyed) return;
    if (this.#writer.length > 0 && !this.socket.write(this.#writer.take())) this.#socketFull = true;
    // Unless write() said full, the socket holds less than its high-water mark, far below the smallest limit (1 MiB).
    if (this.#socketFull && this.socket.writableLength > this.#options.maxOutputBuffer) {
      this.#drop(`output buffer over ${this.#options.maxOutputBuffer} bytes`);
      return;
    }
    if (this.session.closing && this.#queue.length === 0) {
      this.socket.end();
      return;
    }
    this.#updateReading();
  }

  #updateReading(): void {
    const pause = this.#backedUp() || this.#next < this.#requests.length;
    if (pause && !this.#readPaused) this.socket.pause();
    else if (!pause && this.#readPaused) this.socket.resume();
    this.#readPaused = pause;
  }

  #drop(reason: string): void {
    this.#deps.onDrop(this.session, reason);
    this.socket.destroySoon();
  }
}
