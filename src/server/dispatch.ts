// One request to one reply: finds the command, checks its arity and the
// client's authentication, runs it, and turns what it throws into an error
// reply worded as Redis words it. Never throws.
import { performance } from 'node:perf_hooks'; // not the global, which Node defines as a getter: a call per use
import { VarveError } from '../errors.js';
import { AfterCommit, type Command, type Context, CommandError, type Outcome, type Reply } from './command.js';
import type { CommandTable } from './command-table.js';
import type { Commit } from './commit.js';
import { text } from './args.js';

const ERROR_PREFIX = /^[A-Z]+ /;

/** An error reply; `message` starts with its Redis prefix. */
export function errorReply(message: string): Reply {
  return (w) => w.error(message);
}

/** Redis's unknown-command error quotes the first arguments. */
function unknownCommand(args: Uint8Array[]): Reply {
  const quoted = args
    .slice(1, 21)
    .map((a) => `'${text(a.subarray(0, 128))}' `)
    .join('');
  return errorReply(`ERR unknown command '${text(args[0]!.subarray(0, 128))}', with args beginning with: ${quoted}`);
}

/** The reply an error thrown by a command gets; `unexpected` hears errors that are bugs (to log them). */
export function replyToError(err: unknown, unexpected: (err: unknown) => void): Reply {
  if (err instanceof CommandError) return errorReply(ERROR_PREFIX.test(err.message) ? err.message : `ERR ${err.message}`);
  if (err instanceof VarveError) {
    // The store refuses writes after a failed write or fsync: Redis's word for "cannot persist" is MISCONF.
    if (err.code === 'ERR_READ_ONLY' || err.code === 'ERR_IO') return errorReply(`MISCONF varve cannot persist writes: ${err.message}`);
    return errorReply(`ERR ${err.message}`);
  }
  unexpected(err);
  return errorReply('ERR internal error (logged by the server)');
}

/** What the server learns of each request: errors that are bugs, and each known command's name and time. */
export interface DispatchHooks {
  unexpected(err: unknown): void;
  /** `name` of a known command finished (its reply ready) `seconds` after it was dispatched. */
  finished(name: string, seconds: number): void;
}

/**
 * A command whose reply waits: for its write to commit, or for its own work
 * (SCAN, INFO). The writes of a turn share one commit, so a connection
 * listens to it once for all of its writes (whenReady), then takes each
 * reply in order.
 */
export class Waiting {
  readonly #name: string;
  readonly #started: number;
  /** A write's commit and its reply then, or the command's own work, which resolves to its reply. */
  readonly #done: AfterCommit | Promise<Reply>;
  /** The reply, once taken (a write's) or once the work resolved. */
  #reply: Reply | undefined;

  constructor(name: string, started: number, done: AfterCommit | Promise<Reply>) {
    this.#name = name;
    this.#started = started;
    this.#done = done;
  }

  /** The commit a write waits for; undefined for other work. */
  get commit(): Commit | undefined {
    return this.#done instanceof AfterCommit ? this.#done.commit : undefined;
  }

  /** Calls `ready` once take() has the reply: when the commit settles, or the work resolves (after `hooks.finished`). */
  whenReady(hooks: DispatchHooks, ready: () => void): void {
    const done = this.#done;
    if (done instanceof AfterCommit) {
      done.commit.listen(ready);
      return;
    }
    done.then(
      (reply) => {
        hooks.finished(this.#name, (performance.now() - this.#started) / 1000);
        this.#reply = reply;
        ready();
      },
      (err: unknown) => {
        hooks.finished(this.#name, (performance.now() - this.#started) / 1000);
        this.#reply = replyToError(err, hooks.unexpected);
        ready();
      },
    );
  }

  /**
   * The reply (the error reply if the command failed) once it is ready,
   * else undefined. A write's is ready once its commit settled; taking it
   * the first time tells `hooks.finished` its latency, up to the settle.
   */
  take(hooks: DispatchHooks): Reply | undefined {
    const done = this.#done;
    if (this.#reply !== undefined || !(done instanceof AfterCommit) || !done.commit.settled) return this.#reply;
    const commit = done.commit;
    hooks.finished(this.#name, (commit.settledAt - this.#started) / 1000);
    this.#reply = commit.failed ? replyToError(commit.error, hooks.unexpected) : done.reply;
    return this.#reply;
  }
}

/**
 * Runs one request; ctx.started is when it began (read now if NaN), and is
 * moved on to when it returned (NaN if no clock was read). With
 * ctx.untimed set, a command that replies at once is listed there instead
 * of timed.
 */
export function dispatch(table: CommandTable, ctx: Context, args: Uint8Array[], hooks: DispatchHooks): Reply | Waiting {
  const command = table.find(args[0]!);
  if (command === undefined) {
    ctx.started = NaN;
    return unknownCommand(args);
  }
  const name = command.name;
  const untimed = ctx.untimed;
  if (untimed !== undefined) {
    const outcome = run(command, ctx, args, hooks.unexpected);
    if (typeof outcome !== 'function') return new Waiting(name, performance.now(), outcome);
    untimed.push(name);
    return outcome;
  }
  const started = Number.isNaN(ctx.started) ? performance.now() : ctx.started;
  const outcome = run(command, ctx, args, hooks.unexpected);
  if (typeof outcome === 'function') {
    const returned = performance.now();
    ctx.started = returned;
    hooks.finished(name, (returned - started) / 1000);
    return outcome;
  }
  ctx.started = NaN;
  return new Waiting(name, started, outcome);
}

/** The command's outcome; what it throws becomes an error reply. */
function run(command: Command, ctx: Context, args: Uint8Array[], unexpected: (err: unknown) => void): Outcome {
  const name = command.name;
  ctx.session.lastCommand = name;
  if (!ctx.session.authenticated && !command.flags.includes('no-auth')) return errorReply('NOAUTH Authentication required.');
  if (command.arity > 0 ? args.length !== command.arity : args.length < -command.arity) {
    return errorReply(`ERR wrong number of arguments for '${name}' command`);
  }
  try {
    return command.run(ctx, args);
  } catch (err) {
    return replyToError(err, unexpected);
  }
}
