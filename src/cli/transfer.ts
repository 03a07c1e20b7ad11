// import and export: JSON lines, one {"key", "value"} object per line, keys
// and values in the command's --encoding. An import may also carry "ttl" or
// "expiresAt" per line. Export does not write expiry: a value exported
// with a ttl comes back without one.
import { Buffer } from 'node:buffer';
import { createReadStream, createWriteStream, openSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BatchOp, Database } from '../db.js';
import { InvalidArgumentError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { type CliIO, type Encoding, formatBytes, parseBytes, write } from './io.js';
import { Progress } from './progress.js';
import { type RangeFlags, rangeOf } from './range.js';

/** Lines an import commits per batch: each batch is atomic; the import as a whole is not. */
const IMPORT_BATCH = 1000;

/** The put a JSON line asks for; `line` numbers it in errors. */
function importOp(text: string, line: number, encoding: Encoding): BatchOp {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(`line ${line}: not JSON`);
  }
  const { key, value, ttl, expiresAt } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof key !== 'string' || typeof value !== 'string') throw new InvalidArgumentError(`line ${line}: want {"key": string, "value": string}`);
  const op: BatchOp = { type: 'put', key: parseBytes(key, encoding), value: parseBytes(value, encoding) };
  if (ttl !== undefined) op.ttl = ttl as number;
  if (expiresAt !== undefined) op.expiresAt = expiresAt as number;
  return op;
}

/**
 * Reads JSON lines from `file` (stdin for '-' or none) and writes them in
 * batches. A bad line stops the import with its line number; the lines
 * before its batch are written.
 */
export async function importLines(db: Database, file: string | undefined, encoding: Encoding, io: CliIO): Promise<number> {
  const fromStdin = file === undefined || file === '-';
  const input = fromStdin ? io.stdin : createReadStream(file);
  const total = fromStdin ? 0 : statSync(file).size;
  const progress = new Progress(io, 'importing');
  let bytes = 0;
  let line = 0;
  let imported = 0;
  let ops: BatchOp[] = [];
  const flush = async () => {
    await db.batch(ops);
    imported += ops.length;
    ops = [];
  };
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      bytes += Buffer.byteLength(text) + 1;
      if (text.trim() === '') continue;
      ops.push(importOp(text, line, encoding));
      if (ops.length === IMPORT_BATCH) {
        await flush();
        progress.update(total > 0 ? bytes : imported, total, total > 0 ? 'bytes' : 'entries');
      }
    }
    await flush();
  } finally {
    progress.done();
  }
  await write(io.stdout, `imported ${imported} entries\n`);
  return EXIT.OK;
}

/** Writes every entry in the range as JSON lines to `file` (stdout for '-' or none). */
export async function exportLines(db: Database, file: string | undefined, flags: RangeFlags, encoding: Encoding, io: CliIO): Promise<number> {
  const toStdout = file === undefined || file === '-';
  // Opened before any work so an existing file is refused at once, never overwritten.
  const out = toStdout ? io.stdout : createWriteStream('', { fd: openSync(file, 'wx') });
  const total = db.stats().levels.reduce((sum, l) => sum + l.bytes, 0);
  const progress = new Progress(io, 'exporting');
  const it = db.iterator(rangeOf(flags, encoding));
  let exported = 0;
  let bytes = 0;
  try {
    for (let batch = await it.nextv(256); batch.length > 0; batch = await it.nextv(256)) {
      let text = '';
      for (const [k, v] of batch) {
        text += `${JSON.stringify({ key: formatBytes(k, encoding), value: formatBytes(v, encoding) })}\n`;
        bytes += k.length + v.length;
      }
      await write(out, text);
      exported += batch.length;
      progress.update(bytes, Math.max(total, bytes), 'bytes');
    }
  } finally {
    await it.close();
    progress.done();
    if (!toStdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (!toStdout) await write(io.stdout, `exported ${exported} entries to ${file}\n`);
  return EXIT.OK;
}
