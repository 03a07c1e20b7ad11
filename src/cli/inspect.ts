// `varve inspect <dir>`: the shape of the LSM tree, so a user can see their
// store: each level's files laid along the key space, with file counts,
// bytes, targets and scores, and the write amplification since open. Drawn
// as a terminal chart, or with --svg as a self-contained SVG file.
//
// Keys become positions in [0, 1] by their first bytes after the prefix
// every key of the tree shares (KeyScale).
import { writeFileSync } from 'node:fs';
import type { Database } from '../db.js';
import { IOError } from '../errors.js';
import { compareBytes } from '../keys.js';
import type { DatabaseStats, LiveFile, WriteStats } from '../stats.js';
import { tableFileName } from '../version/filenames.js';
import { UsageError } from './exit-codes.js';
import { type CliIO, formatBytes, humanBytes, write } from './io.js';

export interface InspectOptions {
  /** Write an SVG drawing to this path instead of the terminal chart. */
  svg?: string;
  /** Columns of the terminal chart; default the terminal's width, else 80. */
  width?: number;
}

interface LevelView {
  level: number;
  /** In key order (level 0's may overlap). */
  files: LiveFile[];
  bytes: number;
  /** From db.stats(): null for level 0 (governed by its file count) and for the last level's score. */
  targetBytes: number | null;
  score: number | null;
}

/** The tree as drawn: its non-empty levels, and the totals. */
interface TreeView {
  levels: LevelView[];
  files: number;
  bytes: number;
  write: WriteStats;
  scale: KeyScale;
}

/** Narrowest bar worth drawing: the axis under it names two keys. */
const MIN_WIDTH = 20;
const DEFAULT_WIDTH = 80;

export async function inspect(db: Database, options: InspectOptions, io: CliIO): Promise<void> {
  const tree = treeOf(db.liveFiles(), db.stats());
  if (options.svg === undefined) {
    await write(io.stdout, chart(tree, chartWidth(options.width ?? io.stdout.columns ?? DEFAULT_WIDTH)));
    return;
  }
  writeSvgFile(options.svg, svg(tree));
  await write(io.stdout, `wrote a drawing of ${plural(tree.files, 'table')} in ${plural(tree.levels.length, 'level')} to ${options.svg}\n`);
}

function chartWidth(width: number): number {
  if (!Number.isInteger(width) || width < MIN_WIDTH) throw new UsageError(`--width must be an integer >= ${MIN_WIDTH}, got ${width}`);
  return width;
}

/** Levels from liveFiles (one call, so counts and bars agree); targets and scores from stats. */
function treeOf(files: LiveFile[], stats: DatabaseStats): TreeView {
  const levels = stats.levels
    .map((s) => {
      const own = files.filter((f) => f.level === s.level);
      return { level: s.level, files: own, bytes: sum(own), targetBytes: s.targetBytes, score: s.score };
    })
    .filter((l) => l.files.length > 0);
  return { levels, files: files.length, bytes: sum(files), write: stats.write, scale: KeyScale.of(files) };
}

const sum = (files: LiveFile[]): number => files.reduce((n, f) => n + f.size, 0);

// ---------------------------------------------------------------------------
// Key positions

/** Bytes after the shared prefix that place a key. */
const KEY_DIGITS = 6;
/** The digit of a key that ends before a position: below every byte, as a prefix sorts first. */
const END = -1;

/**
 * Places the files' bound keys along [0, 1]. Only the bounds are ever
 * placed, so each of the KEY_DIGITS positions after the shared prefix
 * counts in the radix of the byte values bounds hold there (END included):
 * decimal or hex keys then spread evenly instead of bunching as base-256
 * digits would. A key's fraction is its mixed-radix value; the map is
 * monotone in key order (a digit outweighs all later ones), so files keep
 * their order and their overlaps on the axis.
 */
class KeyScale {
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
  readonly #prefix: number;
  /** Per position: each byte value's digit (its rank among those seen there), and the radix. */
  readonly #digits: Map<number, number>[];
  readonly #radix: number[];
  readonly #low: number;
  readonly #span: number;

  private constructor(bounds: Uint8Array[]) {
    const sorted = [...bounds].sort(compareBytes);
    this.smallest = sorted[0]!;
    this.largest = sorted.at(-1)!;
    let prefix = 0;
    while (prefix < this.smallest.length && prefix < this.largest.length && this.smallest[prefix] === this.largest[prefix]) prefix++;
    this.#prefix = prefix;
    this.#digits = [];
    this.#radix = [];
    for (let d = 0; d < KEY_DIGITS; d++) {
      const values = [...new Set(bounds.map((k) => this.#byteAt(k, d)))].sort((a, b) => a - b);
      this.#digits.push(new Map(values.map((v, rank) => [v, rank])));
      this.#radix.push(values.length);
    }
    this.#low = this.#fraction(this.smallest);
    this.#span = this.#fraction(this.largest) - this.#low;
  }

  /** The scale of the files' bounds (of the empty key alone when there are no files). */
  static of(files: LiveFile[]): KeyScale {
    return new KeyScale(files.length === 0 ? [new Uint8Array(0)] : files.flatMap((f) => [f.smallestKey, f.largestKey]));
  }

  /** Where `bound` (a file's smallest or largest key) lies, in [0, 1]; 0 when the tree spans one key. */
  position(bound: Uint8Array): number {
    return this.#span > 0 ? (this.#fraction(bound) - this.#low) / this.#span : 0;
  }

  #byteAt(key: Uint8Array, d: number): number {
    return key[this.#prefix + d] ?? END;
  }

  #fraction(bound: Uint8Array): number {
    let f = 0;
    let unit = 1;
    for (let d = 0; d < KEY_DIGITS; d++) {
      unit /= this.#radix[d]!;
      f += this.#digits[d]!.get(this.#byteAt(bound, d))! * unit;
    }
    return f;
  }
}

/** A key for people: UTF-8 with control characters as \xNN (they would garble a terminal and are illegal in XML), cut to `max` characters. */
function displayKey(key: Uint8Array, max: number): string {
  const text = formatBytes(key, 'utf8').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

// ---------------------------------------------------------------------------
// Numbers

/** `n` and the noun, plural unless n is 1. */
const plural = (n: number, noun: string): string => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

function describeLevel(l: LevelView): string {
  const target = l.targetBytes === null ? '' : ` of ${humanBytes(l.targetBytes)} target`;
  const score = l.score === null ? '' : `, score ${l.score.toFixed(2)}`;
  return `L${l.level}: ${plural(l.files.length, 'file')}, ${humanBytes(l.bytes)}${target}${score}`;
}

function describeTotals(tree: TreeView): string {
  const w = tree.write;
  const amplification =
    w.userBytesWritten === 0
      ? 'write amplification: nothing written since open'
      : `write amplification ${w.writeAmplification.toFixed(2)} since open (${humanBytes(w.userBytesWritten)} written, ${humanBytes(w.flushBytesWritten + w.compactionBytesWritten)} to tables)`;
  return `${plural(tree.files, 'table')}, ${humanBytes(tree.bytes)}; ${amplification}`;
}

const NO_TABLES = 'no tables yet: everything written so far is in the memtable and the WAL';

// ---------------------------------------------------------------------------
// Terminal chart: per level a label line, then a bar of `width` columns in
// which each file fills the columns of its key range. Adjacent files
// alternate glyphs so their boundaries show; no colours, so pipes stay plain.

const GLYPHS = ['█', '▒'];
const GAP = '·';

function chart(tree: TreeView, width: number): string {
  if (tree.files === 0) return `${NO_TABLES}\n`;
  const lines = tree.levels.flatMap((l) => [describeLevel(l), bar(l.files, tree.scale, width)]);
  return `${[...lines, axis(tree.scale, width), describeTotals(tree)].join('\n')}\n`;
}

function bar(files: LiveFile[], scale: KeyScale, width: number): string {
  const cells = new Array<string>(width).fill(GAP);
  files.forEach((f, i) => {
    const { from, to } = columns(f, scale, width);
    cells.fill(GLYPHS[i % GLYPHS.length]!, from, to + 1);
  });
  return cells.join('');
}

/** The columns [from, to] a file covers: at least one. */
function columns(f: LiveFile, scale: KeyScale, width: number): { from: number; to: number } {
  const from = Math.min(width - 1, Math.floor(scale.position(f.smallestKey) * width));
  const to = Math.max(from, Math.min(width - 1, Math.ceil(scale.position(f.largestKey) * width) - 1));
  return { from, to };
}

/** The smallest key under the left edge, the largest under the right. */
function axis(scale: KeyScale, width: number): string {
  const half = Math.floor(width / 2) - 1;
  const left = displayKey(scale.smallest, half);
  const right = displayKey(scale.largest, half);
  return `${left}${' '.repeat(Math.max(1, width - [...left].length - [...right].length))}${right}`;
}

// ---------------------------------------------------------------------------
// SVG: a header, then one band per level with its label on the left; files
// are rectangles along the key axis (level 0's each in a lane of its own, as
// they may overlap), with a <title> tooltip. Only files are <rect>s.

const SVG_WIDTH = 960;
const LABEL_WIDTH = 260;
const PLOT_WIDTH = SVG_WIDTH - LABEL_WIDTH - 20;
const HEADER_HEIGHT = 56;
const BAND_HEIGHT = 40;
const BAND_GAP = 14;
const FOOTER_HEIGHT = 30;
const TITLE_KEY_CHARS = 60;
const AXIS_KEY_CHARS = 40;
const FILLS = ['#4c78a8', '#9ecae9'];
const L0_FILLS = ['#f58518', '#ffbf79'];

function svg(tree: TreeView): string {
  const height = HEADER_HEIGHT + tree.levels.length * (BAND_HEIGHT + BAND_GAP) + FOOTER_HEIGHT;
  const body =
    tree.files === 0
      ? [text(20, HEADER_HEIGHT, NO_TABLES)]
      : [...tree.levels.flatMap((l, i) => band(l, tree.scale, HEADER_HEIGHT + i * (BAND_HEIGHT + BAND_GAP))), ...svgAxis(tree.scale, height - 10)];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_WIDTH}" height="${height}" viewBox="0 0 ${SVG_WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<style>text { fill: #222 } .head { font-size: 15px; font-weight: bold } .dim { fill: #666 } line { stroke: #bbb }</style>`,
    text(20, 24, 'varve LSM tree', 'head'),
    text(20, 44, describeTotals(tree), 'dim'),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function band(l: LevelView, scale: KeyScale, top: number): string[] {
  const lanes = l.level === 0 ? l.files.length : 1;
  const laneHeight = BAND_HEIGHT / lanes;
  const fills = l.level === 0 ? L0_FILLS : FILLS;
  const rects = l.files.map((f, i) => {
    const x = LABEL_WIDTH + scale.position(f.smallestKey) * PLOT_WIDTH;
    const w = Math.max(1, (scale.position(f.largestKey) - scale.position(f.smallestKey)) * PLOT_WIDTH);
    const y = top + (lanes === 1 ? 0 : i * laneHeight);
    return `<rect x="${fixed(x)}" y="${fixed(y)}" width="${fixed(w)}" height="${fixed(laneHeight)}" fill="${fills[i % fills.length]}" stroke="#fff" stroke-width="0.5"><title>${escapeXml(fileTitle(f))}</title></rect>`;
  });
  return [
    `<line x1="${LABEL_WIDTH}" y1="${top + BAND_HEIGHT}" x2="${LABEL_WIDTH + PLOT_WIDTH}" y2="${top + BAND_HEIGHT}"/>`,
    text(20, top + BAND_HEIGHT / 2 + 5, describeLevel(l)),
    ...rects,
  ];
}

function fileTitle(f: LiveFile): string {
  return [
    `${tableFileName(f.number)} (level ${f.level}), ${humanBytes(f.size)}`,
    `keys ${displayKey(f.smallestKey, TITLE_KEY_CHARS)} to ${displayKey(f.largestKey, TITLE_KEY_CHARS)}`,
    `sequences ${f.smallestSeq} to ${f.largestSeq}`,
  ].join('\n');
}

function svgAxis(scale: KeyScale, y: number): string[] {
  return [
    text(LABEL_WIDTH, y, displayKey(scale.smallest, AXIS_KEY_CHARS), 'dim'),
    `<text x="${LABEL_WIDTH + PLOT_WIDTH}" y="${y}" text-anchor="end" class="dim">${escapeXml(displayKey(scale.largest, AXIS_KEY_CHARS))}</text>`,
  ];
}

function text(x: number, y: number, content: string, cls?: string): string {
  return `<text x="${x}" y="${y}"${cls === undefined ? '' : ` class="${cls}"`}>${escapeXml(content)}</text>`;
}

const fixed = (n: number): string => n.toFixed(2);

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

function writeSvgFile(path: string, content: string): void {
  try {
    writeFileSync(path, content);
  } catch (err) {
    throw new IOError(`write ${path} failed`, { cause: err });
  }
}
