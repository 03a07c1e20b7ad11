// Key commands: existence, deletion, expiry, renaming, and the keyspace
// walks (SCAN, KEYS, DBSIZE), which read the engine after every write
// issued before them has committed.
import { prefixEnd } from '../../keys.js';
import { AfterCommit, type Command, type Context, NO_KEYS, define, CommandError, OK, type Outcome, type Reply, integer } from '../command.js';
import { SYNTAX, is, latin1, parseInteger } from '../args.js';
import { globMatch, literalPrefix } from '../glob.js';
import type { KeyWrite } from '../keyspace.js';
import type { ScanCursors } from '../scan-cursors.js';

/** Deletes the keys that exist; replies their count once committed. */
function del(ctx: Context, args: Uint8Array[]): Outcome {
  const writes: KeyWrite[] = [];
  const seen = new Set<string>();
  for (const key of args.slice(1)) {
    const name = latin1(key);
    if (seen.has(name) || ctx.keyspace.get(key, ctx.now) === undefined) continue;
    seen.add(name);
    writes.push({ key, entry: null });
  }
  if (writes.length === 0) return integer(0);
  return new AfterCommit(ctx.keyspace.write(writes), integer(writes.length));
}

type ExpireCondition = 'nx' | 'xx' | 'gt' | 'lt' | undefined;

function expireCondition(args: Uint8Array[]): ExpireCondition {
  if (args.length === 3) return undefined;
  if (args.length !== 4) throw new CommandError(SYNTAX);
  const a = args[3]!;
  for (const c of ['nx', 'xx', 'gt', 'lt'] as const) if (is(a, c)) return c;
  throw new CommandError(`ERR Unsupported option ${latin1(a)}`);
}

/** EXPIRE and its kin: `toMs` turns the argument into an absolute ms expiry. A time in the past deletes the key. */
function expire(name: string, toMs: (n: number, now: number) => number): Command {
  return define(name, -3, ['write', 'fast'], (ctx, args) => {
    const n = parseInteger(args[2]!);
    const at = toMs(n, ctx.now);
    if (!Number.isSafeInteger(at)) throw new CommandError(`ERR invalid expire time in '${name}' command`);
    const condition = expireCondition(args);
    const key = args[1]!;
    const old = ctx.keyspace.get(key, ctx.now);
    if (old === undefined) return integer(0);
    // No expiry counts as an infinite one for GT and LT, as in Redis.
    const current = old.expiresAt ?? Infinity;
    const refused =
      (condition === 'nx' && old.expiresAt !== undefined) ||
      (condition === 'xx' && old.expiresAt === undefined) ||
      (condition === 'gt' && !(at > current)) ||
      (condition === 'lt' && !(at < current));
    if (refused) return integer(0);
    const entry = at <= ctx.now ? null : { value: old.value, expiresAt: at };
    return new AfterCommit(ctx.keyspace.write([{ key, entry }]), integer(1));
  });
}

/** TTL and PTTL: -2 missing, -1 no expiry, else the time left in `unitMs` units (rounded as Redis rounds). */
function ttl(name: string, unitMs: number): Command {
  return define(name, 2, ['readonly', 'fast'], (ctx, [, key]) => {
    const entry = ctx.keyspace.get(key!, ctx.now);
    if (entry === undefined) return integer(-2);
    if (entry.expiresAt === undefined) return integer(-1);
    return integer(Math.floor((entry.expiresAt - ctx.now + unitMs / 2) / unitMs));
  });
}

interface ScanArgs {
  match: Uint8Array | undefined;
  count: number;
}

function scanArgs(args: Uint8Array[], from: number): ScanArgs {
  const out: ScanArgs = { match: undefined, count: 10 };
  for (let i = from; i < args.length; i += 2) {
    if (i + 1 >= args.length) throw new CommandError(SYNTAX);
    const a = args[i]!;
    if (is(a, 'match')) out.match = args[i + 1]!;
    else if (is(a, 'count')) {
      out.count = parseInteger(args[i + 1]!);
      if (out.count < 1) throw new CommandError(SYNTAX);
    } else if (is(a, 'type')) {
      // Every key is a string; TYPE string matches all, any other type none.
      if (!is(args[i + 1]!, 'string')) out.match = new Uint8Array([0x5b, 0x5d]);
    } else throw new CommandError(SYNTAX);
  }
  return out;
}

/** The range every key matching `match` lies in (its literal prefix), intersected with keys after `after`. */
function scanRange(match: Uint8Array | undefined, after: Uint8Array | undefined): { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array } {
  const prefix = match === undefined ? new Uint8Array(0) : literalPrefix(match);
  const end = prefix.length === 0 ? undefined : prefixEnd(prefix);
  const range: { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array } = end === undefined ? {} : { lt: end };
  if (after !== undefined && Buffer.compare(after, prefix) >= 0) range.gt = after;
  else if (prefix.length > 0) range.gte = prefix;
  return range;
}

/**
 * SCAN: visits up to COUNT keys in key order after the cursor's last key,
 * replying those that match. The cursor names the last key visited
 * (scan-cursors.ts); 0 starts, and 0 comes back when the walk is done.
 */
async function scan(ctx: Context, args: Uint8Array[], cursors: ScanCursors): Promise<Reply> {
  const after = cursors.resume(args[1]!);
  const { match, count } = scanArgs(args, 2);
  await ctx.keyspace.settled();
  const it = ctx.keyspace.db.iterator({ ...scanRange(match, after), limit: count });
  const keys: Uint8Array[] = [];
  let last: Uint8Array | undefined;
  let visited = 0;
  try {
    for (const [key] of await it.nextv(count)) {
      visited++;
      last = key;
      if (match === undefined || globMatch(match, key)) keys.push(key);
    }
  } finally {
    await it.close();
  }
  const next = visited < count || last === undefined ? '0' : cursors.save(last);
  return (w) => {
    w.arrayHeader(2);
    w.bulk(next);
    w.arrayHeader(keys.length);
    for (const k of keys) w.bulk(k);
  };
}

async function keys(ctx: Context, pattern: Uint8Array): Promise<Reply> {
  await ctx.keyspace.settled();
  const out: Uint8Array[] = [];
  const it = ctx.keyspace.db.iterator(scanRange(pattern, undefined));
  try {
    for (let batch = await it.nextv(1024); batch.length > 0; batch = await it.nextv(1024)) {
      for (const [key] of batch) if (globMatch(pattern, key)) out.push(key);
    }
  } finally {
    await it.close();
  }
  return (w) => {
    w.arrayHeader(out.length);
    for (const k of out) w.bulk(k);
  };
}

function flush(ctx: Context, args: Uint8Array[]): AfterCommit {
  if (args.length > 2 || (args.length === 2 && !is(args[1]!, 'async') && !is(args[1]!, 'sync'))) throw new CommandError(SYNTAX);
  return new AfterCommit(ctx.keyspace.flush(), OK);
}

export function keyCommands(cursors: ScanCursors): Command[] {
  return [
    define('del', -2, ['write'], del, [1, -1, 1]),
    define('unlink', -2, ['write', 'fast'], del, [1, -1, 1]),
    define('exists', -2, ['readonly', 'fast'], (ctx, args) => integer(args.slice(1).filter((k) => ctx.keyspace.get(k, ctx.now) !== undefined).length), [1, -1, 1]),
    define('type', 2, ['readonly', 'fast'], (ctx, [, key]) => {
      const type = ctx.keyspace.get(key!, ctx.now) === undefined ? 'none' : 'string';
      return (w) => w.simple(type);
    }),
    expire('expire', (n, now) => now + n * 1000),
    expire('pexpire', (n, now) => now + n),
    expire('expireat', (n) => n * 1000),
    expire('pexpireat', (n) => n),
    ttl('ttl', 1000),
    ttl('pttl', 1),
    define('expiretime', 2, ['readonly', 'fast'], (ctx, [, key]) => {
      const entry = ctx.keyspace.get(key!, ctx.now);
      return integer(entry === undefined ? -2 : entry.expiresAt === undefined ? -1 : Math.floor(entry.expiresAt / 1000));
    }),
    define('pexpiretime', 2, ['readonly', 'fast'], (ctx, [, key]) => {
      const entry = ctx.keyspace.get(key!, ctx.now);
      return integer(entry === undefined ? -2 : entry.expiresAt ?? -1);
    }),
    define('persist', 2, ['write', 'fast'], (ctx, [, key]) => {
      const entry = ctx.keyspace.get(key!, ctx.now);
      if (entry === undefined || entry.expiresAt === undefined) return integer(0);
      return new AfterCommit(ctx.keyspace.write([{ key: key!, entry: { value: entry.value, expiresAt: undefined } }]), integer(1));
    }),
    define('rename', 3, ['write'], (ctx, [, from, to]) => {
      const entry = ctx.keyspace.get(from!, ctx.now);
      if (entry === undefined) throw new CommandError('ERR no such key');
      if (Buffer.compare(from!, to!) === 0) return OK;
      return new AfterCommit(ctx.keyspace.write([{ key: from!, entry: null }, { key: to!, entry }]), OK);
    }, [1, 2, 1]),
    define('renamenx', 3, ['write', 'fast'], (ctx, [, from, to]) => {
      const entry = ctx.keyspace.get(from!, ctx.now);
      if (entry === undefined) throw new CommandError('ERR no such key');
      if (ctx.keyspace.get(to!, ctx.now) !== undefined) return integer(0);
      return new AfterCommit(ctx.keyspace.write([{ key: from!, entry: null }, { key: to!, entry }]), integer(1));
    }, [1, 2, 1]),
    define('scan', -2, ['readonly'], (ctx, args) => scan(ctx, args, cursors), NO_KEYS),
    define('keys', 2, ['readonly'], (ctx, [, pattern]) => keys(ctx, pattern!), NO_KEYS),
    define('dbsize', 1, ['readonly', 'fast'], async (ctx) => integer(await ctx.keyspace.count()), NO_KEYS),
    define('flushdb', -1, ['write'], flush, NO_KEYS),
    define('flushall', -1, ['write'], flush, NO_KEYS),
  ];
}
