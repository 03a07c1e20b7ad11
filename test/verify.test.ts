// verify() and single-bit damage: a flip at EVERY byte offset of a table, a
// WAL and a MANIFEST is reported by verify, naming the file; reads of a
// table damaged at a dense sample of offsets return the right value or throw
// CorruptionError naming the table, never a wrong value.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptionError, open, type Database } from '../src/index.js';
import { parseFileName } from '../src/version/filenames.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('verify');
const dec = new TextDecoder();
const options = { memtableSize: 64 * 1024 };
const key = (i: number): string => `key${String(i).padStart(5, '0')}`;
const value = (i: number): string => `value-${i}-`.padEnd(24 + (i % 40), String.fromCharCode(97 + (i % 26)));

function flip(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset]! ^= 1 << offset % 8;
  writeFileSync(path, bytes);
}

function fileOf(dir: string, kind: 'wal' | 'table' | 'manifest'): string {
  const names = readdirSync(dir).filter((f) => parseFileName(f)?.kind === kind);
  expect(names.length, `${kind} files in ${dir}`).toBe(1);
  return join(dir, names[0]!);
}

/** A store with one table (keys 0..299, a range deletion over 100..109), records in its WAL, and its MANIFEST. */
async function smallStore(dir: string): Promise<{ db: Database; expected: Map<string, string> }> {
  const db = await open(dir, options);
  const expected = new Map<string, string>();
  for (let i = 0; i < 300; i++) {
    await db.put(key(i), value(i));
    expected.set(key(i), value(i));
  }
  await db.deleteRange(key(100), key(110));
  for (let i = 100; i < 110; i++) expected.delete(key(i));
  await db.compactRange();
  for (let i = 300; i < 340; i++) {
    await db.put(key(i), value(i));
    expected.set(key(i), value(i));
  }
  return { db, expected };
}

describe('verify', () => {
  it('reports nothing on a healthy store, having read every table block and log record', async () => {
    const { db } = await smallStore(newDir());
    const report = await db.verify();
    expect(report.findings).toEqual([]);
    expect(report.tables).toBe(1);
    expect(report.dataBlocks).toBeGreaterThan(1);
    expect(report.logs).toBe(2);
    expect(report.logRecords).toBeGreaterThan(40);
    await db.close();
  });

  it('reports a flipped bit at every byte offset of the table, the WAL and the MANIFEST, naming the file', async () => {
    const dir = newDir();
    const { db } = await smallStore(dir);
    let flips = 0;
    for (const kind of ['table', 'wal', 'manifest'] as const) {
      const path = fileOf(dir, kind);
      const size = readFileSync(path).length;
      expect(size).toBeGreaterThan(0);
      for (let offset = 0; offset < size; offset++) {
        flip(path, offset);
        const report = await db.verify();
        flip(path, offset);
        expect(
          report.findings.map((f) => f.file),
          `a flip at ${kind} offset ${offset} of ${size}`,
        ).toEqual([path]);
        flips++;
      }
    }
    expect((await db.verify()).findings).toEqual([]);
    console.log(`verify: ${flips} single-bit flips, each reported`);
    await db.close();
  }, 120_000);
});

describe('reads of a damaged table', () => {
  it('return the right value or throw CorruptionError naming the table, at a flip every 11 bytes', async () => {
    const dir = newDir();
    const { db, expected } = await smallStore(dir);
    await db.close();
    const table = fileOf(dir, 'table');
    const size = readFileSync(table).length;
    const keys = [...expected.keys()].sort();
    let noticed = 0;
    for (let offset = 0; offset < size; offset += 11) {
      flip(table, offset);
      const damaged = await open(dir, { ...options, blockCacheSize: 0 }).catch((err: unknown) => err);
      if (!(damaged instanceof Object && 'verify' in damaged)) {
        expect(damaged, `open with a flip at ${offset}`).toBeInstanceOf(CorruptionError);
        noticed++;
      } else {
        const db2 = damaged as Database;
        let failed = false;
        for (const k of keys) {
          try {
            const v = db2.getSync(k);
            expect(v === undefined ? undefined : dec.decode(v), `${k} with a flip at ${offset}`).toBe(expected.get(k));
          } catch (err) {
            expect(err, `get ${k} with a flip at ${offset}`).toBeInstanceOf(CorruptionError);
            expect((err as Error).message).toContain(table);
            failed = true;
          }
        }
        try {
          const seen = (await db2.iterator().all()).map(([k, v]) => [dec.decode(k), dec.decode(v)]);
          expect(seen, `scan with a flip at ${offset}`).toEqual(keys.map((k) => [k, expected.get(k)]));
        } catch (err) {
          expect(err, `scan with a flip at ${offset}`).toBeInstanceOf(CorruptionError);
          failed = true;
        }
        if (failed) noticed++;
        await db2.close();
      }
      flip(table, offset);
    }
    // Every offset is under a checksum: every flip is noticed by some read.
    expect(noticed).toBe(Math.ceil(size / 11));
  }, 120_000);
});
