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

/** A reply slot in the queue: resolved once its command has its reply. */
interface Slot {
  reply: Reply | undefined;
}

export class Connection {
  readonly session: Session;
  /** The client's socket: the accepted one, or the one its connection moved to (client-socket.ts). */
  readonly socket: Socket;
  readonly #deps: ConnectionDeps;
  readonly #options: ServerOptions;
  readonly #parser: RespParser;
  readonly #writer = new ReplyWriter(2);
  /** Replies not yet written, in request order; empty on the fast path. */
  readonly #queue: Slot[] = [];
  /** Requests received and not yet run (from #next on), while replies are backed up. */
  #requests: Uint8Array[][] = [];
  #next = 0;
  #readPaused = false;
  #socketFull = false;
  readonly #flushTask = (): void => this.#flush();

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

  #receive(chunk: Buffer): void {
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
    this.session.lastActive = Date.now();
    // Requests still waiting from an earlier chunk go first (concat: a chunk can hold more requests than a spread may pass).
    this.#requests = this.#next === this.#requests.length ? requests : this.#requests.slice(this.#next).concat(requests);
    this.#next = 0;
    this.#process();
  }

  /** Whether replies are backed up: the socket is full, or too many wait for their commands. */
  #backedUp(): boolean {
    return this.#socketFull || this.#queue.length >= this.#options.maxPipeline;
  }

  /**
   * Runs the requests received and not yet run, until they are done or the
   * replies back up; the rest wait for 'drain' or for replies to go out. So
   * a large pipeline (one chunk can hold a hundred thousand GETs) never
   * holds more than about REPLY_BATCH bytes of replies at once.
   */
  #process(): void {
    if (this.#next < this.#requests.length) this.#run();
    this.#deps.turn.flush(this.#flushTask);
  }

  /** #process's run of requests: its commands share one read of each clock. */
  #run(): void {
    const ctx: Context = { keyspace: this.#deps.keyspace, session: this.session, server: this.#deps.server, now: Date.now(), started: performance.now() };
    while (this.#next < this.#requests.length && !this.session.closing && !this.#backedUp()) {
      const args = this.#requests[this.#next++]!;
      this.#deps.server.counters.commandsProcessed++;
      this.#enqueue(dispatch(this.#deps.table, ctx, args, this.#deps.hooks));
      if (this.#writer.length >= REPLY_BATCH) {
        this.#flush();
        // The next command's latency starts after the socket write.
        ctx.started = performance.now();
      }
    }
    if (this.#next === this.#requests.length) {
      this.#requests = [];
      this.#next = 0;
    }
  }

  #enqueue(reply: Reply | Waiting): void {
    if (typeof reply === 'function') {
      if (this.#queue.length === 0) reply(this.#writer);
      else this.#queue.push({ reply });
      return;
    }
    const slot: Slot = { reply: undefined };
    this.#queue.push(slot);
    reply.whenReady(this.#deps.hooks, (r) => {
      slot.reply = r;
      if (this.#queue[0] === slot) {
        this.#writeReady();
        this.#process();
      }
    });
  }

  /** Writes the queued replies that are ready, up to the first one still waiting. */
  #writeReady(): void {
    while (this.#queue.length > 0 && this.#queue[0]!.reply !== undefined) this.#queue.shift()!.reply!(this.#writer);
  }

  /** Hands what the writer holds to the socket, then applies backpressure and QUIT. */
  #flush(): void {
    if (this.socket.destroyed) return;
    if (this.#writer.length > 0 && !this.socket.write(this.#writer.take())) this.#socketFull = true;
    if (this.socket.writableLength > this.#options.maxOutputBuffer) {
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
