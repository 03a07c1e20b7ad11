// Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, CLIENT.
import { timingSafeEqual } from 'node:crypto';
import { type Command, type Context, NO_KEYS, define, CommandError, OK, type Reply, bulk, integer } from '../command.js';
import { SYNTAX, is, parseInteger, text } from '../args.js';
import type { Session } from '../session.js';

/** Redis's HELLO reports a Redis version; clients choose features by it. */
export const REDIS_VERSION = '7.2.0';

/** Checks a password in constant time; a wrong one throws Redis's WRONGPASS. */
function authenticate(ctx: Context, user: Uint8Array | undefined, password: Uint8Array): void {
  const expected = ctx.server.options.requirepass;
  if (expected === undefined) throw new CommandError('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  const given = Buffer.from(password);
  const want = Buffer.from(expected, 'utf8');
  const userOk = user === undefined || is(user, 'default');
  if (!userOk || given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new CommandError('WRONGPASS invalid username-password pair or user is disabled.');
  }
  ctx.session.authenticated = true;
}

function hello(ctx: Context, args: Uint8Array[]): Reply {
  let protocol = ctx.session.protocol;
  let i = 1;
  if (args.length > 1) {
    const version = parseInteger(args[1]!, 'ERR Protocol version is not an integer or out of range');
    if (version !== 2 && version !== 3) throw new CommandError('NOPROTO unsupported protocol version');
    protocol = version;
    i = 2;
  }
  for (; i < args.length; i++) {
    if (is(args[i]!, 'auth') && i + 2 < args.length) {
      authenticate(ctx, args[i + 1]!, args[i + 2]!);
      i += 2;
    } else if (is(args[i]!, 'setname') && i + 1 < args.length) {
      ctx.session.name = checkName(args[++i]!);
    } else throw new CommandError(`ERR Syntax error in HELLO option '${text(args[i]!)}'`);
  }
  if (!ctx.session.authenticated) throw new CommandError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  ctx.session.protocol = protocol;
  const id = ctx.session.id;
  return (w) => {
    w.protocol = protocol;
    w.mapHeader(7);
    w.bulk('server');
    w.bulk('redis');
    w.bulk('version');
    w.bulk(REDIS_VERSION);
    w.bulk('proto');
    w.integer(protocol);
    w.bulk('id');
    w.integer(id);
    w.bulk('mode');
    w.bulk('standalone');
    w.bulk('role');
    w.bulk('master');
    w.bulk('modules');
    w.arrayHeader(0);
  };
}

/** A client name: no spaces or newlines, as Redis requires. */
function checkName(name: Uint8Array): string {
  const s = text(name);
  if (/[\s]/.test(s)) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
  return s;
}

function clientLine(s: Session, now: number): string {
  const age = Math.floor((now - s.createdAt) / 1000);
  const idle = Math.floor((now - s.lastActive) / 1000);
  return `id=${s.id} addr=${s.address} name=${s.name} age=${age} idle=${idle} db=0 cmd=${s.lastCommand} resp=${s.protocol} lib-name=${s.libName} lib-ver=${s.libVersion}\n`;
}

function client(ctx: Context, args: Uint8Array[]): Reply {
  const sub = args[1]!;
  if (is(sub, 'setname') && args.length === 3) {
    ctx.session.name = checkName(args[2]!);
    return OK;
  }
  if (is(sub, 'getname') && args.length === 2) return ctx.session.name === '' ? (w) => w.nil() : bulk(ctx.session.name);
  if (is(sub, 'id') && args.length === 2) return integer(ctx.session.id);
  if (is(sub, 'setinfo') && args.length === 4) {
    if (is(args[2]!, 'lib-name')) ctx.session.libName = checkName(args[3]!);
    else if (is(args[2]!, 'lib-ver')) ctx.session.libVersion = checkName(args[3]!);
    else throw new CommandError(`ERR Unrecognized option '${text(args[2]!)}'`);
    return OK;
  }
  if (is(sub, 'list')) {
    const lines = [...ctx.server.sessions].map((s) => clientLine(s, ctx.now)).join('');
    return (w) => w.verbatim(lines);
  }
  if (is(sub, 'info') && args.length === 2) {
    const line = clientLine(ctx.session, ctx.now);
    return (w) => w.verbatim(line);
  }
  throw new CommandError(`ERR unknown subcommand '${text(sub)}'. Try CLIENT HELP.`);
}

export const CONNECTION_COMMANDS: Command[] = [
  define('ping', -1, ['fast'], (_ctx, args) => {
    if (args.length > 2) throw new CommandError("ERR wrong number of arguments for 'ping' command");
    return args.length === 2 ? bulk(args[1]!) : (w) => w.simple('PONG');
  }, NO_KEYS),
  define('echo', 2, ['fast'], (_ctx, [, message]) => bulk(message!), NO_KEYS),
  define('quit', -1, ['fast', 'no-auth'], (ctx) => {
    ctx.session.closing = true;
    return OK;
  }, NO_KEYS),
  define('hello', -1, ['fast', 'no-auth'], hello, NO_KEYS),
  define('auth', -2, ['fast', 'no-auth'], (ctx, args) => {
    if (args.length > 3) throw new CommandError(SYNTAX);
    authenticate(ctx, args.length === 3 ? args[1] : undefined, args[args.length - 1]!);
    return OK;
  }, NO_KEYS),
  define('select', 2, ['fast'], (_ctx, [, index]) => {
    if (parseInteger(index!, 'ERR value is not an integer or out of range') !== 0) throw new CommandError('ERR DB index is out of range');
    return OK;
  }, NO_KEYS),
  define('client', -2, [], client, NO_KEYS),
];
