// String commands: GET and SET and their relatives, counters, and byte
// ranges. Each reads through the keyspace (which sees every command issued
// before it) and issues at most one atomic write, replying once it commits.
import { AfterCommit, type Command, type Context, define, CommandError, NIL, OK, type Outcome, type Reply, bulk, bulkOrNil, integer } from '../command.js';
import { NOT_INTEGER, SYNTAX, formatDouble, is, parseDouble, parseInt64, parseInteger } from '../args.js';
import type { Entry } from '../keyspace.js';

/** Largest string a command may build (Redis's proto-max-bulk-len default). */
export const MAX_STRING = 512 * 1024 * 1024;
const TOO_BIG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const EMPTY = new Uint8Array(0);

/** Writes one key and replies `reply` once committed. */
function put(ctx: Context, key: Uint8Array, entry: Entry | null, reply: Reply): AfterCommit {
  return new AfterCommit(ctx.keyspace.write([{ key, entry }]), reply);
}

/** An absolute expiry in ms from a relative or absolute amount in seconds or ms; `command` names it in the error. */
export function expiryFrom(arg: Uint8Array, unit: 'ex' | 'px' | 'exat' | 'pxat', now: number, command: string): number {
  const n = parseInteger(arg);
  const invalid = new CommandError(`ERR invalid expire time in '${command}' command`);
  if (n <= 0) throw invalid;
  const ms = unit === 'ex' || unit === 'exat' ? n * 1000 : n;
  const at = unit === 'ex' || unit === 'px' ? now + ms : ms;
  if (!Number.isSafeInteger(at)) throw invalid;
  return at;
}

interface SetFlags {
  expiresAt: number | undefined;
  keepTtl: boolean;
  nx: boolean;
  xx: boolean;
  get: boolean;
}

function setFlags(args: Uint8Array[], now: number): SetFlags {
  const flags: SetFlags = { expiresAt: undefined, keepTtl: false, nx: false, xx: false, get: false };
  let expiries = 0;
  for (let i = 3; i < args.length; i++) {
    const a = args[i]!;
    const unit = is(a, 'ex') ? 'ex' : is(a, 'px') ? 'px' : is(a, 'exat') ? 'exat' : is(a, 'pxat') ? 'pxat' : undefined;
    if (unit !== undefined) {
      if (i + 1 >= args.length) throw new CommandError(SYNTAX);
      flags.expiresAt = expiryFrom(args[++i]!, unit, now, 'set');
      expiries++;
    } else if (is(a, 'keepttl')) {
      flags.keepTtl = true;
      expiries++;
    } else if (is(a, 'nx')) flags.nx = true;
    else if (is(a, 'xx')) flags.xx = true;
    else if (is(a, 'get')) flags.get = true;
    else throw new CommandError(SYNTAX);
  }
  if (expiries > 1 || (flags.nx && flags.xx)) throw new CommandError(SYNTAX);
  return flags;
}

function set(ctx: Context, args: Uint8Array[]): Outcome {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  if (args.length === 3) return put(ctx, key, { value, expiresAt: undefined }, OK);
  const flags = setFlags(args, ctx.now);
  const old = ctx.keyspace.get(key, ctx.now);
  const skipped = (flags.nx && old !== undefined) || (flags.xx && old === undefined);
  const reply = flags.get ? bulkOrNil(old?.value) : OK;
  if (skipped) return flags.get ? reply : NIL;
  const expiresAt = flags.keepTtl ? old?.expiresAt : flags.expiresAt;
  return put(ctx, key, { value, expiresAt }, reply);
}

/** The key's integer value (0 when missing) plus `by`, checked for int64 overflow; written back keeping the expiry. */
function incrementBy(ctx: Context, key: Uint8Array, by: bigint): AfterCommit {
  const old = ctx.keyspace.get(key, ctx.now);
  const current = old === undefined ? 0n : parseInt64(old.value, NOT_INTEGER);
  const next = current + by;
  if (next > INT64_MAX || next < INT64_MIN) throw new CommandError('ERR increment or decrement would overflow');
  const value = Buffer.from(next.toString(), 'latin1');
  return put(ctx, key, { value, expiresAt: old?.expiresAt }, (w) => w.integer(next));
}

function incrementByFloat(ctx: Context, key: Uint8Array, by: number): AfterCommit {
  const old = ctx.keyspace.get(key, ctx.now);
  const current = old === undefined ? 0 : parseDouble(old.value);
  const next = current + by;
  if (!Number.isFinite(next)) throw new CommandError('ERR increment would produce NaN or Infinity');
  const text = formatDouble(next);
  return put(ctx, key, { value: Buffer.from(text, 'latin1'), expiresAt: old?.expiresAt }, bulk(text));
}

/** Redis's GETRANGE index rules: negative counts from the end, clamped to the string. */
function range(length: number, start: number, end: number): [number, number] | undefined {
  if (start < 0) start = Math.max(0, length + start);
  if (end < 0) end = length + end;
  end = Math.min(end, length - 1);
  return start > end || length === 0 ? undefined : [start, end + 1];
}

function setRange(ctx: Context, key: Uint8Array, offsetArg: Uint8Array, patch: Uint8Array): Outcome {
  const offset = parseInteger(offsetArg);
  if (offset < 0) throw new CommandError('ERR offset is out of range');
  const old = ctx.keyspace.get(key, ctx.now);
  const current = old?.value ?? EMPTY;
  if (patch.length === 0) return integer(current.length);
  if (offset + patch.length > MAX_STRING) throw new CommandError(TOO_BIG);
  const value = new Uint8Array(Math.max(current.length, offset + patch.length));
  value.set(current);
  value.set(patch, offset);
  return put(ctx, key, { value, expiresAt: old?.expiresAt }, integer(value.length));
}

function getEx(ctx: Context, args: Uint8Array[]): Outcome {
  const key = args[1]!;
  const old = ctx.keyspace.get(key, ctx.now);
  if (args.length === 2) return bulkOrNil(old?.value);
  let expiresAt: number | undefined;
  const a = args[2]!;
  if (args.length === 3 && is(a, 'persist')) expiresAt = undefined;
  else if (args.length === 4) {
    const unit = is(a, 'ex') ? 'ex' : is(a, 'px') ? 'px' : is(a, 'exat') ? 'exat' : is(a, 'pxat') ? 'pxat' : undefined;
    if (unit === undefined) throw new CommandError(SYNTAX);
    expiresAt = expiryFrom(args[3]!, unit, ctx.now, 'getex');
  } else throw new CommandError(SYNTAX);
  if (old === undefined) return NIL;
  return put(ctx, key, { value: old.value, expiresAt }, bulk(old.value));
}

function mset(ctx: Context, args: Uint8Array[], onlyIfNoneExist: boolean): Outcome {
  if (args.length % 2 === 0) throw new CommandError(`ERR wrong number of arguments for '${onlyIfNoneExist ? 'msetnx' : 'mset'}' command`);
  const writes = [];
  for (let i = 1; i < args.length; i += 2) {
    if (onlyIfNoneExist && ctx.keyspace.get(args[i]!, ctx.now) !== undefined) return integer(0);
    writes.push({ key: args[i]!, entry: { value: args[i + 1]!, expiresAt: undefined } });
  }
  return new AfterCommit(ctx.keyspace.write(writes), onlyIfNoneExist ? integer(1) : OK);
}

export const STRING_COMMANDS: Command[] = [
  define('get', 2, ['readonly', 'fast'], (ctx, [, key]) => bulkOrNil(ctx.keyspace.get(key!, ctx.now)?.value)),
  define('set', -3, ['write', 'denyoom'], set),
  define('setnx', 3, ['write', 'denyoom', 'fast'], (ctx, [, key, value]) =>
    ctx.keyspace.get(key!, ctx.now) === undefined ? put(ctx, key!, { value: value!, expiresAt: undefined }, integer(1)) : integer(0),
  ),
  define('setex', 4, ['write', 'denyoom'], (ctx, [, key, seconds, value]) => put(ctx, key!, { value: value!, expiresAt: expiryFrom(seconds!, 'ex', ctx.now, 'setex') }, OK)),
  define('psetex', 4, ['write', 'denyoom'], (ctx, [, key, ms, value]) => put(ctx, key!, { value: value!, expiresAt: expiryFrom(ms!, 'px', ctx.now, 'psetex') }, OK)),
  define('getdel', 2, ['write', 'fast'], (ctx, [, key]) => {
    const old = ctx.keyspace.get(key!, ctx.now);
    return old === undefined ? NIL : put(ctx, key!, null, bulk(old.value));
  }),
  define('getex', -2, ['write', 'fast'], getEx),
  define('getset', 3, ['write', 'denyoom', 'fast'], (ctx, [, key, value]) => put(ctx, key!, { value: value!, expiresAt: undefined }, bulkOrNil(ctx.keyspace.get(key!, ctx.now)?.value))),
  define('mget', -2, ['readonly', 'fast'], (ctx, args) => {
    const values = args.slice(1).map((k) => ctx.keyspace.get(k, ctx.now)?.value);
    return (w) => {
      w.arrayHeader(values.length);
      for (const v of values) if (v === undefined) w.nil(); else w.bulk(v);
    };
  }, [1, -1, 1]),
  define('mset', -3, ['write', 'denyoom'], (ctx, args) => mset(ctx, args, false), [1, -1, 2]),
  define('msetnx', -3, ['write', 'denyoom'], (ctx, args) => mset(ctx, args, true), [1, -1, 2]),
  define('incr', 2, ['write', 'denyoom', 'fast'], (ctx, [, key]) => incrementBy(ctx, key!, 1n)),
  define('decr', 2, ['write', 'denyoom', 'fast'], (ctx, [, key]) => incrementBy(ctx, key!, -1n)),
  define('incrby', 3, ['write', 'denyoom', 'fast'], (ctx, [, key, by]) => incrementBy(ctx, key!, parseInt64(by!))),
  define('decrby', 3, ['write', 'denyoom', 'fast'], (ctx, [, key, by]) => {
    const n = parseInt64(by!);
    if (n === INT64_MIN) throw new CommandError('ERR decrement would overflow');
    return incrementBy(ctx, key!, -n);
  }),
  define('incrbyfloat', 3, ['write', 'denyoom', 'fast'], (ctx, [, key, by]) => incrementByFloat(ctx, key!, parseDouble(by!))),
  define('append', 3, ['write', 'denyoom', 'fast'], (ctx, [, key, tail]) => {
    const old = ctx.keyspace.get(key!, ctx.now);
    const head = old?.value ?? EMPTY;
    if (head.length + tail!.length > MAX_STRING) throw new CommandError(TOO_BIG);
    const value = new Uint8Array(head.length + tail!.length);
    value.set(head);
    value.set(tail!, head.length);
    return put(ctx, key!, { value, expiresAt: old?.expiresAt }, integer(value.length));
  }),
  define('strlen', 2, ['readonly', 'fast'], (ctx, [, key]) => integer(ctx.keyspace.get(key!, ctx.now)?.value.length ?? 0)),
  define('getrange', 4, ['readonly'], (ctx, [, key, start, end]) => {
    const value = ctx.keyspace.get(key!, ctx.now)?.value ?? EMPTY;
    const r = range(value.length, parseInteger(start!), parseInteger(end!));
    return bulk(r === undefined ? EMPTY : value.subarray(r[0], r[1]));
  }),
  define('setrange', 4, ['write', 'denyoom'], (ctx, [, key, offset, patch]) => setRange(ctx, key!, offset!, patch!)),
];

