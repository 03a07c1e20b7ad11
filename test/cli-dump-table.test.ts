// `varve dump-table`: a table written by a real database, dumped without
// opening the database, reports exactly the entries written (keys in order,
// kinds, value lengths, expiries, the range deletion), in text and JSON and
// in every key encoding; damage and a missing file are typed errors naming
// the file.
import { Buffer } from 'node:buffer';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpTable, type TableDump } from '../src/cli/dump-table.js';
import type { Encoding } from '../src/cli/io.js';
import { CorruptionError, open, type Options } from '../src/index.js';
import { parseFileName } from '../src/version/filenames.js';
import { tempDirs } from './support/temp-dir.js';
import { capture } from './support/cli-io.js';

const newDir = tempDirs('cli-dump-table');

async function dump(path: string, options: { json: boolean; encoding?: Encoding; keys: boolean }): Promise<string> {
  const { io, out } = capture();
  await dumpTable(path, { encoding: 'utf8', ...options }, io);
  return out();
}

async function dumpJson(path: string, encoding: Encoding = 'utf8'): Promise<TableDump> {
  return JSON.parse(await dump(path, { json: true, encoding, keys: true })) as TableDump;
}

interface Written {
  key: string;
  kind: 'value' | 'deletion' | 'value-with-expiry';
  valueLength: number;
  expiresAt?: number;
}

const key = (i: number): string => `key${String(i).padStart(5, '0')}`;
const EXPIRES_AT = Date.UTC(2100, 0, 1);

/**
 * A database whose one table holds exactly `written` (distinct user keys:
 * values, deletions, values with expiry) and one range deletion: the writes
 * stay in the memtable and WAL, and the reopen turns them into one table.
 */
async function oneTable(options: Options = {}): Promise<{ path: string; written: Written[] }> {
  const dir = newDir();
  const db = await open(dir, options);
  const written: Written[] = [];
  for (let i = 0; i < 900; i++) {
    const k = key(i);
    if (i % 10 === 3) {
      await db.del(k);
      written.push({ key: k, kind: 'deletion', valueLength: 0 });
    } else if (i % 10 === 7) {
      const value = `expiring-${i}`;
      await db.put(k, value, { expiresAt: EXPIRES_AT + i });
      written.push({ key: k, kind: 'value-with-expiry', valueLength: value.length, expiresAt: EXPIRES_AT + i });
    } else {
      const value = `value-${i}-`.padEnd(20 + (i % 30), 'x');
      await db.put(k, value);
      written.push({ key: k, kind: 'value', valueLength: value.length });
    }
  }
  await db.deleteRange('zz-a', 'zz-m');
  await db.close();
  await (await open(dir, options)).close();
  const tables = readdirSync(dir).filter((name) => parseFileName(name)?.kind === 'table');
  expect(tables).toHaveLength(1);
  return { path: join(dir, tables[0]!), written };
}

function flip(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset]! ^= 0x10;
  writeFileSync(path, bytes);
}

describe('dump-table', () => {
  it('lists every entry written, in key order, with its kind, value length and expiry, and the range deletion', async () => {
    const { path, written } = await oneTable();
    const d = await dumpJson(path);
    const entries = d.dataBlocks.flatMap((b) => b.entries!);
    expect(entries.map(({ key, kind, valueLength, expiresAt }) => ({ key, kind, valueLength, ...(expiresAt !== undefined && { expiresAt }) }))).toEqual(written);
    // Written in key order, so sequences rise with the keys; each is distinct.
    const seqs = entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(written.length);
    expect(d.rangeDeletions).toEqual({ count: 1, tombstones: [{ start: 'zz-a', end: 'zz-m', seq: written.length + 1 }] });

    const p = d.properties;
    expect(p.entries).toBe(written.length + 1);
    expect(p.deletions).toBe(written.filter((w) => w.kind === 'deletion').length);
    expect(p.rangeDeletions).toBe(1);
    expect(p.smallestKey).toEqual({ key: key(0), seq: 1, kind: 'value' });
    // A range deletion's bound is its exclusive end, with the largest sequence.
    expect(p.largestKey).toEqual({ key: 'zz-m', seq: Number.MAX_SAFE_INTEGER, kind: 'range-deletion' });
    expect(p.dataBlocks).toBe(d.dataBlocks.length);
    expect(d.dataBlocks.length).toBeGreaterThan(3);
  });

  it('reports the footer, the filter and an index whose blocks tile the data and bracket their entries by separator', async () => {
    const { path } = await oneTable();
    const d = await dumpJson(path);
    expect(d.size).toBe(readFileSync(path).length);
    expect(d.footer.version).toBe(1);
    expect(d.footer.rangeDeletions).not.toBeNull();
    const f = d.footer;
    expect(f.properties.offset + f.properties.size + 5 + 80).toBe(d.size);
    expect(d.filter).toEqual({ ...f.filter, bits: (f.filter.size - 8) * 8 });
    let expectedOffset = 0;
    d.dataBlocks.forEach((block, i) => {
      expect(block.offset).toBe(expectedOffset);
      expectedOffset = block.offset + block.size + 5;
      expect(block.entries).toHaveLength(block.entryCount);
      // Sample values repeat, so LZ4 pays for itself on every block.
      expect(block.compression).toBe('lz4');
      const last = block.entries!.at(-1)!;
      expect(last.key <= block.separator.key).toBe(true);
      const next = d.dataBlocks[i + 1]?.entries![0];
      if (next !== undefined) expect(block.separator.key < next.key).toBe(true);
    });
    expect(expectedOffset).toBe(d.properties.dataBytes);
  });

  it('says when blocks are stored raw', async () => {
    const { path } = await oneTable({ compression: 'none' });
    const d = await dumpJson(path);
    expect(d.dataBlocks.map((b) => b.compression)).toEqual(d.dataBlocks.map(() => 'none'));
    for (const b of d.dataBlocks) expect(b.entries).toHaveLength(b.entryCount);
  });

  it('writes keys in the chosen encoding', async () => {
    const { path, written } = await oneTable();
    for (const encoding of ['hex', 'base64'] as const) {
      const d = await dumpJson(path, encoding);
      expect(d.dataBlocks.flatMap((b) => b.entries!).map((e) => e.key)).toEqual(written.map((w) => Buffer.from(w.key).toString(encoding)));
      expect(d.rangeDeletions.tombstones![0]!.start).toBe(Buffer.from('zz-a').toString(encoding));
    }
  });

  it('prints the same table as text: the summaries, one line per block, and with --keys one line per entry', async () => {
    const { path, written } = await oneTable();
    const d = await dumpJson(path);
    const brief = (await dump(path, { json: false, keys: false })).split('\n');
    expect(brief[0]).toBe(`table ${path}: ${d.size.toLocaleString('en-US')} bytes, format version 1`);
    expect(brief).toContain(`  entries                ${(written.length + 1).toLocaleString('en-US')} (deletions 90, range deletions 1)`);
    expect(brief).toContain('range deletions: 1');
    expect(brief).toContain(`index: ${d.dataBlocks.length} data blocks`);
    const blockLines = brief.filter((line) => line.startsWith('  block '));
    expect(blockLines).toHaveLength(d.dataBlocks.length);
    expect(blockLines[0]).toBe(
      `  block 0: offset 0, ${d.dataBlocks[0]!.size.toLocaleString('en-US')} bytes, lz4, ${d.dataBlocks[0]!.entryCount} entries, separator "${d.dataBlocks[0]!.separator.key}" @${d.dataBlocks[0]!.separator.seq} ${d.dataBlocks[0]!.separator.kind}`,
    );
    expect(brief.some((line) => line.startsWith('    '))).toBe(false);

    const full = (await dump(path, { json: false, keys: true })).split('\n');
    const entryLines = full.filter((line) => line.startsWith('    "'));
    expect(entryLines).toHaveLength(written.length);
    expect(entryLines[0]).toBe(`    "${key(0)}" @1 value, 20 value bytes`);
    expect(entryLines[3]).toBe(`    "${key(3)}" @4 deletion`);
    expect(entryLines[7]).toBe(`    "${key(7)}" @8 value-with-expiry, 10 value bytes, expires ${new Date(EXPIRES_AT + 7).toISOString()}`);
    expect(full).toContain('  ["zz-a", "zz-m") @901');
  });

  it('raises CorruptionError naming the file for a flipped byte in a data block, with or without --keys', async () => {
    const { path } = await oneTable();
    const block = (await dumpJson(path)).dataBlocks[2]!;
    flip(path, block.offset + Math.floor(block.size / 2));
    for (const keys of [false, true]) {
      const err = await dump(path, { json: false, keys }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).code).toBe('ERR_CORRUPTION');
      expect((err as Error).message).toBe(`${path}: data block checksum mismatch at offset ${block.offset}`);
    }
  });

  it('raises CorruptionError naming the file for damage to the index block or the footer', async () => {
    const { path } = await oneTable();
    const { footer, size } = await dumpJson(path);
    flip(path, footer.index.offset + 1);
    await expect(dump(path, { json: true, keys: false })).rejects.toThrow(new CorruptionError(`${path}: index block checksum mismatch at offset ${footer.index.offset}`));
    flip(path, footer.index.offset + 1);
    flip(path, size - 20);
    await expect(dump(path, { json: true, keys: false })).rejects.toThrow(new CorruptionError(`${path}: footer checksum mismatch at offset ${size - 80}`));
  });

  it('names a missing file, and a file that is not a table', async () => {
    const dir = newDir();
    const missing = join(dir, '000042.vt');
    await expect(dump(missing, { json: false, keys: false })).rejects.toMatchObject({ code: 'ERR_USAGE', message: `no such table file: ${missing}` });
    const notTable = `${dir}-notes.txt`;
    writeFileSync(notTable, 'not a table, just some words that run longer than a footer does: eighty bytes and more');
    const err = await dump(notTable, { json: false, keys: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as Error).message).toBe(`${notTable}: bad magic number (not a table, or truncated) at offset ${readFileSync(notTable).length - 8}`);
  });
});
