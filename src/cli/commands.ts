// The one-shot commands: each takes an open database and its parsed flags,
// prints to io.stdout, and returns the process's exit code.
import type { Database } from '../db.js';
import type { DatabaseStats } from '../stats.js';
import { EXIT } from './exit-codes.js';
import { type CliIO, type Encoding, formatBytes, humanBytes, parseBytes, write } from './io.js';
import { Progress } from './progress.js';
import { type RangeFlags, rangeOf } from './range.js';

export interface ScanFlags extends RangeFlags {
  reverse?: boolean | undefined;
  limit?: number | undefined;
  keysOnly?: boolean | undefined;
  json?: boolean | undefined;
}

export async function get(db: Database, key: string, encoding: Encoding, io: CliIO): Promise<number> {
  const value = await db.get(parseBytes(key, encoding));
  if (value === undefined) {
    io.stderr.write(`not found: ${key}\n`);
    return EXIT.NOT_FOUND;
  }
  await write(io.stdout, `${formatBytes(value, encoding)}\n`);
  return EXIT.OK;
}

/** A JSON line, or `key<TAB>value` (the key alone with keys-only). */
function scanLine(key: Uint8Array, value: Uint8Array, flags: ScanFlags, encoding: Encoding): string {
  const k = formatBytes(key, encoding);
  if (flags.json) return `${JSON.stringify(flags.keysOnly ? { key: k } : { key: k, value: formatBytes(value, encoding) })}\n`;
  return flags.keysOnly ? `${k}\n` : `${k}\t${formatBytes(value, encoding)}\n`;
}

export async function scan(db: Database, flags: ScanFlags, encoding: Encoding, io: CliIO): Promise<number> {
  const it = db.iterator({ ...rangeOf(flags, encoding), reverse: flags.reverse === true, limit: flags.limit ?? -1 });
  try {
    for (let batch = await it.nextv(256); batch.length > 0; batch = await it.nextv(256)) {
      await write(io.stdout, batch.map(([k, v]) => scanLine(k, v, flags, encoding)).join(''));
    }
  } finally {
    await it.close();
  }
  return EXIT.OK;
}

export async function count(db: Database, flags: RangeFlags, encoding: Encoding, io: CliIO): Promise<number> {
  const it = db.iterator(rangeOf(flags, encoding));
  let n = 0;
  try {
    for (let batch = await it.nextv(1024); batch.length > 0; batch = await it.nextv(1024)) n += batch.length;
  } finally {
    await it.close();
  }
  await write(io.stdout, `${n}\n`);
  return EXIT.OK;
}

function statsText(stats: DatabaseStats): string {
  const lines = ['level  files        size      target  score'];
  for (const l of stats.levels) {
    if (l.files === 0 && l.level > 0) continue;
    const target = l.targetBytes === null ? '-' : humanBytes(l.targetBytes);
    const score = l.score === null ? '-' : l.score.toFixed(2);
    lines.push(`L${l.level}`.padEnd(5) + String(l.files).padStart(7) + humanBytes(l.bytes).padStart(12) + target.padStart(12) + score.padStart(7));
  }
  const w = stats.write;
  lines.push('');
  lines.push(`user bytes written   ${humanBytes(w.userBytesWritten)}`);
  lines.push(`write amplification  ${w.writeAmplification.toFixed(2)} (${w.writeAmplificationWithWal.toFixed(2)} with the WAL)`);
  lines.push(`flushes ${w.flushes}, compactions ${w.compactions}, trivial moves ${w.trivialMoves}`);
  const c = stats.blockCache;
  lines.push(`block cache          ${humanBytes(c.bytes)} of ${humanBytes(c.capacity)}, hit rate ${(c.hitRate * 100).toFixed(1)}%`);
  return `${lines.join('\n')}\n`;
}

export async function stats(db: Database, json: boolean, io: CliIO): Promise<number> {
  const s = db.stats();
  await write(io.stdout, json ? `${JSON.stringify(s, null, 2)}\n` : statsText(s));
  return EXIT.OK;
}

/**
 * Compacts [start, end] (everything without bounds), with a bar of the
 * compaction bytes written so far against the bytes in the tree when the
 * compaction began (a full compaction rewrites about that much).
 */
export async function compact(db: Database, start: string | undefined, end: string | undefined, encoding: Encoding, io: CliIO): Promise<number> {
  const before = db.stats();
  const total = before.levels.reduce((sum, l) => sum + l.bytes, 0);
  const progress = new Progress(io, 'compacting');
  const timer = setInterval(() => progress.update(db.stats().write.compactionBytesWritten - before.write.compactionBytesWritten, total, 'bytes'), 100);
  try {
    await db.compactRange(start === undefined ? undefined : parseBytes(start, encoding), end === undefined ? undefined : parseBytes(end, encoding));
  } finally {
    clearInterval(timer);
    progress.done();
  }
  const after = db.stats();
  const files = (s: DatabaseStats) => s.levels.reduce((sum, l) => sum + l.files, 0);
  const bytes = (s: DatabaseStats) => s.levels.reduce((sum, l) => sum + l.bytes, 0);
  await write(io.stdout, `compacted: ${files(before)} tables (${humanBytes(bytes(before))}) -> ${files(after)} tables (${humanBytes(bytes(after))})\n`);
  return EXIT.OK;
}

export async function checkpoint(db: Database, target: string, io: CliIO): Promise<number> {
  await db.checkpoint(target);
  await write(io.stdout, `checkpoint written to ${target}\n`);
  return EXIT.OK;
}

/** Checks every checksum; exits with EXIT.CORRUPTION (printing each finding) when any failed. */
export async function verify(db: Database, json: boolean, io: CliIO): Promise<number> {
  const progress = new Progress(io, 'verifying');
  const report = await db.verify({ onProgress: (checked, total) => progress.update(checked, total, 'files') });
  progress.done();
  if (json) await write(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
  else {
    const summary = `${report.tables} tables (${report.dataBlocks} data blocks), ${report.logs} logs (${report.logRecords} records)`;
    const lines = report.findings.map((f) => `DAMAGED ${f.file}: ${f.message}`);
    lines.push(report.findings.length === 0 ? `ok: every checksum matched in ${summary}` : `${report.findings.length} damaged of ${summary}`);
    await write(io.stdout, `${lines.join('\n')}\n`);
  }
  return report.findings.length === 0 ? EXIT.OK : EXIT.CORRUPTION;
}
