// `varve inspect`: the terminal chart lists exactly the levels db.stats()
// reports, with their file counts, bars of the asked width placed by key
// range, and the totals; the SVG is well-formed, has one <rect> per live
// file placed in key order, and escapes key text; an empty database says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '../src/cli/inspect.js';
import { open, type Database } from '../src/index.js';
import { tableFileName } from '../src/version/filenames.js';
import { tempDirs } from './support/temp-dir.js';
import { capture } from './support/cli-io.js';

const newDir = tempDirs('cli-inspect');

async function run(db: Database, options: { svg?: string; width?: number }, columns?: number): Promise<string> {
  const { io, out } = capture(columns);
  await inspect(db, options, io);
  return out();
}

const key = (i: number): string => `key${String(i).padStart(6, '0')}`;

/** 80 printable bytes that LZ4 cannot shrink much, so tables have real sizes. */
function value(i: number): string {
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  let s = '';
  for (let j = 0; j < 80; j++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += String.fromCharCode(33 + ((x >>> 16) % 90));
  }
  return s;
}

const GLYPHS = /^[█▒·]+$/u;
const chars = (s: string): number => [...s].length;

/** Checks tags nest and close, attributes hold no '<', and every '&' starts an entity: well-formed XML as far as an SVG needs. */
function expectWellFormed(xml: string): void {
  const open: string[] = [];
  const text = xml.replace(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g, (_tag, close: string, name: string, _attrs, selfClosing: string) => {
    if (close) expect(open.pop(), `</${name}>`).toBe(name);
    else if (!selfClosing) open.push(name);
    return '';
  });
  expect(open).toEqual([]);
  expect(text).not.toMatch(/[<>]/);
  expect(xml).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
}

interface Rect {
  x: number;
  width: number;
  title: string;
}

function rects(svg: string): Rect[] {
  return [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => ({
    x: Number(m[1]),
    width: Number(m[2]),
    title: m[3]!,
  }));
}

describe('inspect', () => {
  let db: Database;

  // Keys 0..2999 compacted to the bottom, every even key to 5998 written
  // (compacted into the level above it), then keys 1500..2499 again: level 0
  // holds a part of those, in the middle of the key space.
  beforeAll(async () => {
    db = await open(newDir(), { memtableSize: 64 * 1024, compaction: { targetFileSize: 32 * 1024 } });
    for (let i = 0; i < 3000; i++) await db.put(key(i), value(i));
    await db.compactRange();
    for (let i = 0; i < 3000; i++) await db.put(key(i * 2), value(i + 1));
    await db.waitForCompactions();
    for (let i = 1500; i < 2500; i++) await db.put(key(i), value(i + 2));
    await db.waitForCompactions();
  });
  afterAll(() => db.close());

  it('charts each level db.stats() reports, with its file count and a bar of the asked width', async () => {
    const lines = (await run(db, { width: 70 })).trimEnd().split('\n');
    const levels = db.stats().levels.filter((l) => l.files > 0);
    expect(levels.length).toBeGreaterThanOrEqual(3);
    const labels = lines.filter((line) => /^L\d: /.test(line));
    expect(labels.map((line) => line.split(',')[0])).toEqual(levels.map((l) => `L${l.level}: ${l.files} ${l.files === 1 ? 'file' : 'files'}`));
    for (const label of labels) {
      const bar = lines[lines.indexOf(label) + 1]!;
      expect(bar).toMatch(GLYPHS);
      expect(chars(bar)).toBe(70);
    }
    const l1 = levels.find((l) => l.level === 1)!;
    expect(labels).toContain(`L1: ${l1.files} files, ${(l1.bytes / 1024).toFixed(1)} KiB of 8.0 MiB target, score ${l1.score!.toFixed(2)}`);
  });

  it('places files by key range: level 0 covers the middle, the level above the bottom all keys, the bottom the lower half', async () => {
    const lines = (await run(db, { width: 70 })).trimEnd().split('\n');
    const barOf = (level: number): string => lines[lines.findIndex((line) => line.startsWith(`L${level}: `)) + 1]!;
    const [top, middle, bottom] = db.stats().levels.filter((l) => l.files > 0).map((l) => l.level);
    expect(top).toBe(0);
    expect(barOf(0)).toMatch(/^·+[█▒]+·+$/u);
    expect(barOf(middle!)).toMatch(/^[█▒]+$/u);
    expect(barOf(bottom!)).toMatch(/^[█▒]+·+$/u);
    // Keys 0..2999 of 0..5998: about half the width, decimal digits spread evenly.
    const covered = chars(barOf(bottom!).replaceAll('·', ''));
    expect(covered).toBeGreaterThanOrEqual(33);
    expect(covered).toBeLessThanOrEqual(37);
    // Adjacent files alternate glyphs, so a level of several files shows both.
    expect(barOf(middle!)).toMatch(/█.*▒|▒.*█/u);
    expect(lines.at(-2)).toMatch(new RegExp(`^${key(0)} +${key(5998)}$`));
    expect(chars(lines.at(-2)!)).toBe(70);
  });

  it('ends with the totals and the write amplification since open', async () => {
    const lines = (await run(db, {})).trimEnd().split('\n');
    const files = db.liveFiles();
    const w = db.stats().write;
    expect(w.writeAmplification).toBeGreaterThan(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^${files.length} tables, [\\d.]+ KiB; write amplification ${w.writeAmplification.toFixed(2)} since open \\(`));
  });

  it('fits the terminal: bars take its columns, else 80', async () => {
    for (const [columns, width] of [[50, 50], [undefined, 80]] as const) {
      const bars = (await run(db, {}, columns)).split('\n').filter((line) => GLYPHS.test(line));
      expect(bars.length).toBeGreaterThanOrEqual(3);
      for (const bar of bars) expect(chars(bar)).toBe(width);
    }
  });

  it('refuses a width too narrow to draw', async () => {
    await expect(run(db, { width: 5 })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });

  it('draws a well-formed SVG with one rectangle per live file, titled, in key order within a level', async () => {
    const path = join(newDir(), '..', 'tree.svg');
    expect(await run(db, { svg: path })).toBe(`wrote a drawing of ${db.liveFiles().length} tables in ${db.stats().levels.filter((l) => l.files > 0).length} levels to ${path}\n`);
    const svg = readFileSync(path, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expectWellFormed(svg);
    const files = db.liveFiles();
    const drawn = rects(svg);
    expect(drawn).toHaveLength(files.length);
    expect(svg.match(/<rect /g)).toHaveLength(files.length);
    for (const f of files) {
      const titled = drawn.filter((r) => r.title.startsWith(`${tableFileName(f.number)} (level ${f.level}),`));
      expect(titled).toHaveLength(1);
      expect(titled[0]!.title).toContain(`sequences ${f.smallestSeq} to ${f.largestSeq}`);
    }
    for (const l of db.stats().levels.filter((s) => s.files > 0)) {
      expect(svg).toContain(`>L${l.level}: ${l.files} ${l.files === 1 ? 'file' : 'files'}, `);
      if (l.level === 0) continue;
      const row = drawn.filter((r) => r.title.includes(`(level ${l.level}),`));
      for (let i = 1; i < row.length; i++) expect(row[i]!.x).toBeGreaterThanOrEqual(row[i - 1]!.x + row[i - 1]!.width - 0.01);
    }
  });
});

describe('inspect, special cases', () => {
  it('escapes XML special characters of keys in the SVG, shows control characters as \\xNN, and keys as they are in the chart', async () => {
    const db = await open(newDir(), { memtableSize: 64 * 1024 });
    for (let i = 0; i < 1000; i++) await db.put(`<&>"'\u0001${String(i).padStart(4, '0')}`, value(i));
    await db.compactRange();
    const path = join(newDir(), '..', 'escaped.svg');
    await run(db, { svg: path });
    const svg = readFileSync(path, 'utf8');
    expectWellFormed(svg);
    expect(svg).toContain('keys &lt;&amp;&gt;&quot;&apos;\\x010000 to &lt;&amp;&gt;&quot;&apos;\\x01');
    expect(svg).not.toMatch(/<&>|\u0001/);
    expect(rects(svg)).toHaveLength(db.liveFiles().length);
    expect(await run(db, {})).toContain(`<&>"'\\x010000`);
    await db.close();
  });

  it('says there are no tables yet, in the chart and in a valid SVG', async () => {
    const db = await open(newDir(), { memtableSize: 64 * 1024 });
    await db.put('only', 'in the memtable');
    expect(await run(db, {})).toBe('no tables yet: everything written so far is in the memtable and the WAL\n');
    const path = join(newDir(), '..', 'empty.svg');
    expect(await run(db, { svg: path })).toBe(`wrote a drawing of 0 tables in 0 levels to ${path}\n`);
    const svg = readFileSync(path, 'utf8');
    expectWellFormed(svg);
    expect(svg).toContain('no tables yet');
    expect(svg).not.toContain('<rect');
    await db.close();
  });
});
