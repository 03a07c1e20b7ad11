// The `varve` command line (bin.ts runs it): look inside and work on a
// store. `varve help` lists the commands; each opens the database, does one thing,
// closes it, and exits with a code from exit-codes.ts.
import { parseArgs } from 'node:util';
import { open, type Database } from '../db.js';
import * as commands from './commands.js';
import { describeError, EXIT, UsageError } from './exit-codes.js';
import { Buffer } from 'node:buffer';
import { type CliIO, encodingOf, parseBytes } from './io.js';
import { dumpTable } from './dump-table.js';
import { inspect } from './inspect.js';
import { shell } from './shell.js';
import { exportLines, importLines } from './transfer.js';

export const USAGE = `usage: varve <command> <dir> [arguments] [options]

commands:
  get <dir> <key>                 print the value of a key (exit 1 when missing)
  put <dir> <key> [value]         write a value (read from stdin when not given)
        --ttl <ms>                  the value lapses after this many milliseconds
  del <dir> <key>                 delete a key
  scan <dir>                      print entries in key order, key<TAB>value per line
        --prefix <p> | --gt/--gte/--lt/--lte <key>
        --reverse --limit <n> --keys-only --json (JSON lines)
  count <dir>                     count the keys (range options as scan)
  stats <dir> [--json]            levels, sizes, write amplification, caches
  compact <dir> [--start k] [--end k]
                                  compact the range (everything by default)
  checkpoint <dir> <target>       write a consistent copy to <target>
  verify <dir> [--json]           check every checksum (exit 5 on damage)
  dump-table <file.vt> [--keys] [--json]
                                  a table's footer, properties, index and keys
  import <dir> [file]             write JSON lines {"key","value"[,"ttl"]} (stdin by default)
  export <dir> [file]             write every entry as JSON lines (stdout by default)
  inspect <dir> [--svg <file>]    draw the tree: levels, files, key ranges, sizes
  serve [dir]                     a Redis-protocol server on the store (default dir .varve-data)
        --port 6379 --host 127.0.0.1 --requirepass <pw> --protected-mode yes|no
        --appendfsync no|always --maxclients 10000 --timeout <s> --metrics-port 9121|off
        --proto-max-bulk-len <bytes> --max-inline <bytes> --max-pipeline <n>
        --max-output-buffer <bytes> --memory-budget <bytes> --log-level info
  shell <dir>                     an interactive prompt (PUT GET DELETE SCAN COUNT STATS INSPECT COMPACT)
  help                            this text

options for every command:
  --encoding utf8|hex|base64      how keys and values are written (default utf8)
  --sync                          writes wait for fsync (put, del, import)

exit codes: 0 ok, 1 key not found, 2 bad arguments, 3 no database,
            4 database locked, 5 corruption, 6 I/O error, 70 other failure
`;

const OPTIONS = {
  encoding: { type: 'string' },
  sync: { type: 'boolean' },
  ttl: { type: 'string' },
  prefix: { type: 'string' },
  gt: { type: 'string' },
  gte: { type: 'string' },
  lt: { type: 'string' },
  lte: { type: 'string' },
  reverse: { type: 'boolean' },
  limit: { type: 'string' },
  'keys-only': { type: 'boolean' },
  keys: { type: 'boolean' },
  json: { type: 'boolean' },
  start: { type: 'string' },
  end: { type: 'string' },
  svg: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  requirepass: { type: 'string' },
  'protected-mode': { type: 'string' },
  appendfsync: { type: 'string' },
  maxclients: { type: 'string' },
  timeout: { type: 'string' },
  'metrics-port': { type: 'string' },
  'proto-max-bulk-len': { type: 'string' },
  'max-inline': { type: 'string' },
  'max-pipeline': { type: 'string' },
  'max-output-buffer': { type: 'string' },
  'memory-budget': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A non-negative integer flag, or undefined when absent. */
function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} takes a non-negative integer, got ${text}`);
  return Number(text);
}

/** Exactly `names.length` positionals after the command (the last `optional` of them may be missing). */
function positionals(command: string, given: string[], names: string[], optional = 0): string[] {
  if (given.length < names.length - optional || given.length > names.length) {
    throw new UsageError(`${command} takes ${names.map((n, i) => (i >= names.length - optional ? `[${n}]` : `<${n}>`)).join(' ')}`);
  }
  return given;
}

/** Commands that make a database where there is none; the rest refuse a missing one (exit 3). */
const CREATES = new Set(['put', 'import', 'shell']);

async function withDatabase(command: string, dir: string, fn: (db: Database) => Promise<number>): Promise<number> {
  const db = await open(dir, { createIfMissing: CREATES.has(command) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

async function dispatch(command: string, args: string[], flags: Flags, io: CliIO): Promise<number> {
  const encoding = encodingOf(flags.encoding);
  const write = { sync: flags.sync === true };
  const range = { prefix: flags.prefix, gt: flags.gt, gte: flags.gte, lt: flags.lt, lte: flags.lte };
  switch (command) {
    case 'get': {
      const [dir, key] = positionals(command, args, ['dir', 'key']);
      return withDatabase(command, dir!, (db) => commands.get(db, key!, encoding, io));
    }
    case 'put': {
      const [dir, key, value] = positionals(command, args, ['dir', 'key', 'value'], 1);
      const ttl = integer('ttl', flags.ttl);
      const bytes = value === undefined ? await readAll(io.stdin) : value;
      return withDatabase(command, dir!, async (db) => {
        const v = typeof bytes === 'string' ? parseBytes(bytes, encoding) : bytes;
        await db.put(parseBytes(key!, encoding), v, ttl === undefined ? write : { ...write, ttl });
        return EXIT.OK;
      });
    }
    case 'del': {
      const [dir, key] = positionals(command, args, ['dir', 'key']);
      return withDatabase(command, dir!, async (db) => {
        await db.del(parseBytes(key!, encoding), write);
        return EXIT.OK;
      });
    }
    case 'scan': {
      const [dir] = positionals(command, args, ['dir']);
      const scan = { ...range, reverse: flags.reverse, limit: integer('limit', flags.limit), keysOnly: flags['keys-only'], json: flags.json };
      return withDatabase(command, dir!, (db) => commands.scan(db, scan, encoding, io));
    }
    case 'count': {
      const [dir] = positionals(command, args, ['dir']);
      return withDatabase(command, dir!, (db) => commands.count(db, range, encoding, io));
    }
    case 'stats': {
      const [dir] = positionals(command, args, ['dir']);
      return withDatabase(command, dir!, (db) => commands.stats(db, flags.json === true, io));
    }
    case 'compact': {
      const [dir] = positionals(command, args, ['dir']);
      return withDatabase(command, dir!, (db) => commands.compact(db, flags.start, flags.end, encoding, io));
    }
    case 'checkpoint': {
      const [dir, target] = positionals(command, args, ['dir', 'target']);
      return withDatabase(command, dir!, (db) => commands.checkpoint(db, target!, io));
    }
    case 'verify': {
      const [dir] = positionals(command, args, ['dir']);
      return withDatabase(command, dir!, (db) => commands.verify(db, flags.json === true, io));
    }
    case 'dump-table': {
      const [file] = positionals(command, args, ['file.vt']);
      await dumpTable(file!, { json: flags.json === true, encoding, keys: flags.keys === true }, io);
      return EXIT.OK;
    }
    case 'import': {
      const [dir, file] = positionals(command, args, ['dir', 'file'], 1);
      return withDatabase(command, dir!, (db) => importLines(db, file, encoding, io));
    }
    case 'export': {
      const [dir, file] = positionals(command, args, ['dir', 'file'], 1);
      return withDatabase(command, dir!, (db) => exportLines(db, file, range, encoding, io));
    }
    case 'inspect': {
      const [dir] = positionals(command, args, ['dir']);
      return withDatabase(command, dir!, async (db) => {
        await inspect(db, flags.svg === undefined ? {} : { svg: flags.svg }, io);
        return EXIT.OK;
      });
    }
    case 'serve': {
      const [dir] = positionals(command, args, ['dir'], 1);
      const protectedMode = flags['protected-mode'];
      if (protectedMode !== undefined && protectedMode !== 'yes' && protectedMode !== 'no') throw new UsageError('--protected-mode takes yes or no');
      const metricsPort = flags['metrics-port'] === 'off' ? -1 : integer('metrics-port', flags['metrics-port']);
      // Loaded only for serve: the server's dependencies (pino, prom-client) read the environment
      // at import, which the other commands must not need (Deno grants it separately).
      const { DEFAULT_DATA_DIR, serve } = await import('./serve.js');
      return serve({
        dir: dir ?? DEFAULT_DATA_DIR,
        host: flags.host,
        port: integer('port', flags.port),
        requirepass: flags.requirepass,
        protectedMode: protectedMode === undefined ? undefined : protectedMode === 'yes',
        appendfsync: flags.appendfsync as 'always' | 'no' | undefined,
        maxClients: integer('maxclients', flags.maxclients),
        idleTimeoutSeconds: integer('timeout', flags.timeout),
        metricsPort,
        maxBulkLength: integer('proto-max-bulk-len', flags['proto-max-bulk-len']),
        maxInlineLength: integer('max-inline', flags['max-inline']),
        maxPipeline: integer('max-pipeline', flags['max-pipeline']),
        maxOutputBuffer: integer('max-output-buffer', flags['max-output-buffer']),
        memoryBudget: integer('memory-budget', flags['memory-budget']),
        logLevel: flags['log-level'],
      });
    }
    case 'shell': {
      const [dir] = positionals(command, args, ['dir']);
      return withDatabase(command, dir!, (db) => shell(db, encoding, io));
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

/** Runs one command line (without the node and script arguments); resolves to the exit code. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  try {
    const { values: flags, positionals: [command, ...args] } = parse(argv);
    if (command === undefined || command === 'help' || flags.help) {
      io.stdout.write(USAGE);
      return command === undefined && !flags.help ? EXIT.USAGE : EXIT.OK;
    }
    return await dispatch(command, args, flags, io);
  } catch (err) {
    const { code, message } = describeError(err);
    io.stderr.write(`varve: ${message}\n`);
    return code;
  }
}
