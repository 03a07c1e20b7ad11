// `varve shell`: an interactive prompt on one open database. Commands are
// case-insensitive; arguments are words or "double-quoted strings" (with \"
// and \\ escapes). On a terminal the prompt keeps a history, saved to
// ~/.varve_history (VARVE_HISTORY overrides; empty disables); from a pipe it
// reads one command per line and prints no prompt.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Database } from '../db.js';
import { VarveError } from '../errors.js';
import * as commands from './commands.js';
import { inspect } from './inspect.js';
import { describeError, EXIT, UsageError } from './exit-codes.js';
import { type CliIO, type Encoding, parseBytes, write } from './io.js';

const HELP = `commands:
  PUT <key> <value>      write a value
  GET <key>              print a value
  DELETE <key>           delete a key (DEL works too)
  SCAN [prefix] [limit]  print entries in key order (20 by default)
  COUNT [prefix]         count keys
  STATS                  levels, sizes, write amplification
  INSPECT                draw the tree (write amplification since the shell opened)
  COMPACT                compact everything
  HELP                   this text
  EXIT                   leave (QUIT and Ctrl-D work too)
`;
const HISTORY_SIZE = 1000;
const SCAN_DEFAULT_LIMIT = 20;

/** Words and double-quoted strings of one line. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    // A word that opens a quote the quoted form could not close.
    if (m[2]?.startsWith('"')) throw new UsageError('unterminated quote');
    words.push(m[1] === undefined ? m[2]! : m[1].replace(/\\(.)/g, '$1'));
  }
  return words;
}

function historyFile(): string | undefined {
  const chosen = process.env['VARVE_HISTORY'];
  if (chosen !== undefined) return chosen === '' ? undefined : chosen;
  return join(homedir(), '.varve_history');
}

function loadHistory(file: string | undefined): string[] {
  if (file === undefined || !existsSync(file)) return [];
  // readline keeps the newest first.
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_SIZE);
}

function argument(words: string[], i: number, name: string): string {
  const word = words[i];
  if (word === undefined) throw new UsageError(`${words[0]!.toUpperCase()} takes <${name}>`);
  return word;
}

/** Runs one line; resolves false when the line asks to leave. */
async function execute(db: Database, words: string[], encoding: Encoding, io: CliIO): Promise<boolean> {
  const limit = (text: string | undefined) => {
    if (text === undefined) return SCAN_DEFAULT_LIMIT;
    if (!/^\d+$/.test(text)) throw new UsageError(`limit must be a non-negative integer, got ${text}`);
    return Number(text);
  };
  switch (words[0]!.toUpperCase()) {
    case 'PUT':
      if (words.length !== 3) throw new UsageError('PUT takes <key> <value> (quote a value with spaces)');
      await db.put(parseBytes(words[1]!, encoding), parseBytes(words[2]!, encoding));
      await write(io.stdout, 'OK\n');
      return true;
    case 'GET':
      await commands.get(db, argument(words, 1, 'key'), encoding, { ...io, stderr: io.stdout });
      return true;
    case 'DEL':
    case 'DELETE':
      await db.del(parseBytes(argument(words, 1, 'key'), encoding));
      await write(io.stdout, 'OK\n');
      return true;
    case 'SCAN':
      await commands.scan(db, { prefix: words[1], limit: limit(words[2]) }, encoding, io);
      return true;
    case 'COUNT':
      await commands.count(db, { prefix: words[1] }, encoding, io);
      return true;
    case 'STATS':
      await commands.stats(db, false, io);
      return true;
    case 'INSPECT':
      await inspect(db, {}, io);
      return true;
    case 'COMPACT':
      await commands.compact(db, undefined, undefined, encoding, io);
      return true;
    case 'HELP':
      await write(io.stdout, HELP);
      return true;
    case 'EXIT':
    case 'QUIT':
      return false;
    default:
      throw new UsageError(`unknown command ${words[0]} (HELP lists them)`);
  }
}

export async function shell(db: Database, encoding: Encoding, io: CliIO): Promise<number> {
  const interactive = io.stdin.isTTY === true;
  const file = interactive ? historyFile() : undefined;
  const rl = createInterface({
    input: io.stdin,
    output: interactive ? io.stdout : undefined,
    terminal: interactive,
    history: loadHistory(file),
    historySize: HISTORY_SIZE,
    prompt: 'varve> ',
  });
  let history: string[] = [];
  rl.on('history', (latest: string[]) => (history = latest));
  if (interactive) await write(io.stdout, `varve shell on ${db.location}; HELP lists the commands\n`);
  // Prompts only on a terminal (Deno's readline also refuses prompt() once piped input has ended).
  const prompt = () => {
    if (interactive) rl.prompt();
  };
  prompt();
  try {
    for await (const line of rl) {
      try {
        const words = tokenize(line);
        if (words.length > 0 && !(await execute(db, words, encoding, io))) break;
      } catch (err) {
        // A bad line or a refused write is reported and the prompt goes on; anything else ends the shell.
        if (!(err instanceof VarveError) || describeError(err).code === EXIT.FAILURE) throw err;
        await write(io.stdout, `ERROR ${err.message}\n`);
      }
      prompt();
    }
  } finally {
    rl.close();
    if (file !== undefined && history.length > 0) writeFileSync(file, `${[...history].reverse().join('\n')}\n`);
  }
  return EXIT.OK;
}
