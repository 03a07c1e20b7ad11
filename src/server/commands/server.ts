// Server commands: COMMAND, CONFIG GET, INFO, TIME.
import { type Command, type Context, NO_KEYS, define, CommandError, type Reply, integer } from '../command.js';
import { is, latin1, text } from '../args.js';
import { globMatch } from '../glob.js';

/** The parameters CONFIG GET reports, from the server's options. */
function configParameters(ctx: Context): [string, string][] {
  const o = ctx.server.options;
  return [
    ['bind', o.host],
    ['port', String(o.port)],
    ['dir', o.dir],
    ['requirepass', o.requirepass ?? ''],
    ['protected-mode', o.protectedMode ? 'yes' : 'no'],
    ['maxclients', String(o.maxClients)],
    ['timeout', String(o.idleTimeoutSeconds)],
    ['proto-max-bulk-len', String(o.maxBulkLength)],
    ['client-query-buffer-limit', String(o.maxInlineLength)],
    // The WAL is always on: every write is logged before it is acknowledged.
    ['appendonly', 'yes'],
    ['appendfsync', o.appendfsync],
    ['save', ''],
    ['databases', '1'],
  ];
}

function config(ctx: Context, args: Uint8Array[]): Reply {
  if (!is(args[1]!, 'get')) throw new CommandError(`ERR unknown subcommand '${text(args[1]!)}'. varve supports CONFIG GET only.`);
  if (args.length < 3) throw new CommandError("ERR wrong number of arguments for 'config|get' command");
  const patterns = args.slice(2).map((p) => Buffer.from(latin1(p).toLowerCase(), 'latin1'));
  const found = configParameters(ctx).filter(([name]) => patterns.some((p) => globMatch(p, Buffer.from(name, 'latin1'))));
  return (w) => {
    w.mapHeader(found.length);
    for (const [name, value] of found) {
      w.bulk(name);
      w.bulk(value);
    }
  };
}

function commandInfo(c: Command): Reply {
  return (w) => {
    w.arrayHeader(10);
    w.bulk(c.name);
    w.integer(c.arity);
    w.setHeader(c.flags.length);
    for (const f of c.flags) w.simple(f);
    w.integer(c.firstKey);
    w.integer(c.lastKey);
    w.integer(c.step);
    w.setHeader(0);
    w.setHeader(0);
    w.arrayHeader(0);
    w.arrayHeader(0);
  };
}

function commandCommand(table: ReadonlyMap<string, Command>) {
  return (_ctx: Context, args: Uint8Array[]): Reply => {
    const all = [...table.values()];
    if (args.length === 1) return (w) => {
      w.arrayHeader(all.length);
      for (const c of all) commandInfo(c)(w);
    };
    const sub = args[1]!;
    if (is(sub, 'count')) return integer(all.length);
    if (is(sub, 'info')) {
      const wanted = args.length === 2 ? all : args.slice(2).map((n) => table.get(latin1(n).toLowerCase()));
      return (w) => {
        w.arrayHeader(wanted.length);
        for (const c of wanted) if (c === undefined) w.nilArray(); else commandInfo(c)(w);
      };
    }
    if (is(sub, 'docs')) {
      const wanted = args.length === 2 ? all : args.slice(2).flatMap((n) => table.get(latin1(n).toLowerCase()) ?? []);
      return (w) => {
        w.mapHeader(wanted.length);
        for (const c of wanted) {
          w.bulk(c.name);
          w.mapHeader(2);
          w.bulk('summary');
          w.bulk(`${c.name.toUpperCase()}, as Redis defines it`);
          w.bulk('group');
          w.bulk(c.flags.includes('write') || c.flags.includes('readonly') ? 'keyspace' : 'connection');
        }
      };
    }
    throw new CommandError(`ERR unknown subcommand '${text(sub)}'. Try COMMAND HELP.`);
  };
}

export function serverCommands(table: ReadonlyMap<string, Command>, info: (ctx: Context, sections: string[]) => Promise<string>): Command[] {
  return [
    define('command', -1, ['loading', 'stale'], commandCommand(table), NO_KEYS),
    define('config', -2, ['admin', 'noscript'], config, NO_KEYS),
    define('info', -1, ['loading', 'stale'], async (ctx, args) => {
      const body = await info(ctx, args.slice(1).map((a) => latin1(a).toLowerCase()));
      return (w) => w.verbatim(body);
    }, NO_KEYS),
    define('time', 1, ['fast'], () => {
      const micros = BigInt(Date.now()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n;
      return (w) => {
        w.arrayHeader(2);
        w.bulk(String(micros / 1_000_000n));
        w.bulk(String(micros % 1_000_000n));
      };
    }, NO_KEYS),
  ];
}

