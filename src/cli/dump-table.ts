// `varve dump-table <file.vt>`: one table file laid open, without opening a
// database: its footer, properties, filter and range-deletion blocks, the
// index (one row per data block) and, with --keys, every entry. The table is
// read through the engine's TableReader, so every checksum is checked as the
// dump reads and damage is a CorruptionError naming the file.
import { LruCache } from '../cache/lru.js';
import { CorruptionError, IOError } from '../errors.js';
import { EXPIRY_SIZE, readExpiry } from '../expiry.js';
import type { FileHandle } from '../fs/filesystem.js';
import { nodeFileSystem } from '../fs/node-fs.js';
import { Kind, SEEK_KIND, isKind, parseTrailer, userKeyOf } from '../keys.js';
import { type CachedBlock, freeCachedBlock } from '../table/block-source.js';
import { type BlockHandle, Compression, type TableProperties, corruption } from '../table/format.js';
import { type DataBlockLayout, TableReader } from '../table/reader.js';
import type { TableIterator } from '../table/iterator.js';
import { BLOOM_TRAILER_BYTES } from '../wasm/bloom.js';
import { UsageError } from './exit-codes.js';
import { type CliIO, type Encoding, formatBytes, write } from './io.js';

export interface DumpTableOptions {
  json: boolean;
  encoding: Encoding;
  /** List every entry of every data block (and every range deletion). */
  keys: boolean;
}

/** An internal key: user key in the dump's encoding, sequence, kind name. */
interface KeyDump {
  key: string;
  seq: number;
  kind: string;
}

interface EntryDump extends KeyDump {
  /** Bytes of the user's value (an expiry's 8 bytes excluded). */
  valueLength: number;
  expiresAt?: number;
}

interface DataBlockDump {
  offset: number;
  size: number;
  compression: 'none' | 'lz4';
  entryCount: number;
  separator: KeyDump;
  entries?: EntryDump[];
}

/** The JSON document --json prints; the text form shows the same fields. */
export interface TableDump {
  file: string;
  size: number;
  footer: { version: number; index: BlockHandle; filter: BlockHandle; properties: BlockHandle; rangeDeletions: BlockHandle | null };
  /** The properties block, its keys as dumped (null in an empty table). */
  properties: Omit<TableProperties, 'smallestKey' | 'largestKey'> & { smallestKey: KeyDump | null; largestKey: KeyDump | null };
  filter: { offset: number; size: number; bits: number };
  /** Each tombstone deletes [start, end) below its sequence; a null end has no bound. */
  rangeDeletions: { count: number; tombstones?: { start: string; end: string | null; seq: number }[] };
  dataBlocks: DataBlockDump[];
}

const KIND_NAMES: Record<number, string> = {
  [Kind.Deletion]: 'deletion',
  [Kind.Value]: 'value',
  [Kind.ValueWithExpiry]: 'value-with-expiry',
  [Kind.RangeDeletion]: 'range-deletion',
  // Index separators may carry the seek trailer: before every entry of their user key.
  [SEEK_KIND]: 'seek',
};

export async function dumpTable(path: string, options: DumpTableOptions, io: CliIO): Promise<void> {
  const dump = readTableDump(path, options);
  await write(io.stdout, options.json ? `${JSON.stringify(dump, null, 2)}\n` : formatDump(dump));
}

/** Reads the whole dump (the reader closes before anything is printed). */
function readTableDump(path: string, options: Pick<DumpTableOptions, 'encoding' | 'keys'>): TableDump {
  const { reader, size } = openTable(path);
  try {
    return describeTable(reader, size, options);
  } finally {
    reader.close();
  }
}

/**
 * Opens the table read-only with a block cache of its own that holds
 * nothing, so every block the dump touches is read from the file and
 * checksummed. The file number only names cache entries: 0 serves.
 */
function openTable(path: string): { reader: TableReader; size: number } {
  const file = openFile(path);
  try {
    const size = file.size();
    return { reader: TableReader.open(file, 0, size, new LruCache<CachedBlock>(0, freeCachedBlock)), size };
  } catch (err) {
    file.closeSync();
    throw err;
  }
}

function openFile(path: string): FileHandle {
  try {
    return nodeFileSystem.open(path, 'read');
  } catch (err) {
    if (err instanceof IOError && err.errno === 'ENOENT') throw new UsageError(`no such table file: ${path}`);
    throw err;
  }
}

function describeTable(reader: TableReader, size: number, options: Pick<DumpTableOptions, 'encoding' | 'keys'>): TableDump {
  const { footer, properties: p } = reader;
  const enc = options.encoding;
  const hasRangeDeletions = footer.rangeDeletions.size !== 0 || footer.rangeDeletions.offset !== 0;
  const layout = reader.dataBlockLayout();
  const entries = options.keys ? blockEntries(reader, layout, enc) : undefined;
  return {
    file: reader.path,
    size,
    footer: {
      version: footer.version,
      index: footer.index,
      filter: footer.filter,
      properties: footer.properties,
      rangeDeletions: hasRangeDeletions ? footer.rangeDeletions : null,
    },
    properties: {
      ...p,
      smallestKey: p.entries === 0 ? null : describeKey(p.smallestKey, enc),
      largestKey: p.entries === 0 ? null : describeKey(p.largestKey, enc),
    },
    filter: { ...footer.filter, bits: (footer.filter.size - BLOOM_TRAILER_BYTES) * 8 },
    rangeDeletions: {
      count: reader.rangeTombstones.length,
      ...(options.keys && {
        tombstones: reader.rangeTombstones.map((t) => ({ start: formatBytes(t.start, enc), end: t.end === undefined ? null : formatBytes(t.end, enc), seq: t.seq })),
      }),
    },
    dataBlocks: layout.map((block, i) => ({
      ...block.handle,
      compression: block.compression === Compression.Lz4 ? 'lz4' : 'none',
      entryCount: block.entries,
      separator: describeKey(block.separator, enc),
      ...(entries && { entries: entries[i]! }),
    })),
  };
}

function describeKey(internalKey: Uint8Array, encoding: Encoding): KeyDump {
  const { seq, kind } = parseTrailer(internalKey);
  return { key: formatBytes(userKeyOf(internalKey), encoding), seq, kind: KIND_NAMES[kind] ?? `kind ${kind}` };
}

/**
 * The entries of each data block, by one walk of a table iterator: it visits
 * the same verified blocks in file order, skipping only empty ones, so block
 * i's entries are the next `layout[i].entries` it yields.
 */
function blockEntries(reader: TableReader, layout: readonly DataBlockLayout[], encoding: Encoding): EntryDump[][] {
  const it = reader.iterator();
  try {
    it.seekToFirst();
    return layout.map((block) => {
      const out: EntryDump[] = [];
      for (let j = 0; j < block.entries; j++, it.next()) out.push(entryAt(it, reader.path, block, encoding));
      return out;
    });
  } finally {
    it.close();
  }
}

/** The iterator's entry; an unknown kind or a value too short for its expiry is corruption of its block. */
function entryAt(it: TableIterator, path: string, block: DataBlockLayout, encoding: Encoding): EntryDump {
  try {
    const key = it.key().slice();
    const { seq, kind } = parseTrailer(key);
    if (!isKind(kind)) throw new CorruptionError(`data block entry has unknown kind ${kind}`);
    const entry: EntryDump = { key: formatBytes(userKeyOf(key), encoding), seq, kind: KIND_NAMES[kind]!, valueLength: it.valueLen };
    if (kind === Kind.ValueWithExpiry) {
      entry.expiresAt = readExpiry(it.value());
      entry.valueLength -= EXPIRY_SIZE;
    }
    return entry;
  } catch (err) {
    throw err instanceof CorruptionError ? corruption(path, block.handle.offset, 'data block', err) : err;
  }
}

// ---------------------------------------------------------------------------
// Text form

const count = (n: number): string => n.toLocaleString('en-US');

/** Latest instant a Date holds; later expiries (up to 2^53 - 1 ms) print as numbers. */
const MAX_DATE_MS = 8.64e15;

function formatTime(ms: number): string {
  return ms <= MAX_DATE_MS ? new Date(ms).toISOString() : `${count(ms)} ms since the epoch`;
}

function formatKey(k: KeyDump): string {
  return `${JSON.stringify(k.key)} @${k.seq} ${k.kind}`;
}

function formatHandle(h: BlockHandle | null): string {
  return h === null ? 'none' : `offset ${count(h.offset)}, ${count(h.size)} bytes`;
}

function formatDump(d: TableDump): string {
  const p = d.properties;
  const lines = [
    `table ${d.file}: ${count(d.size)} bytes, format version ${d.footer.version}`,
    'footer',
    `  index block            ${formatHandle(d.footer.index)}`,
    `  filter block           ${formatHandle(d.footer.filter)}`,
    `  properties block       ${formatHandle(d.footer.properties)}`,
    `  range-deletion block   ${formatHandle(d.footer.rangeDeletions)}`,
    'properties',
    `  entries                ${count(p.entries)} (deletions ${count(p.deletions)}, range deletions ${count(p.rangeDeletions)})`,
    `  raw bytes              ${count(p.rawKeyBytes)} of keys, ${count(p.rawValueBytes)} of values`,
    `  data blocks            ${count(p.dataBlocks)}, ${count(p.dataBytes)} bytes`,
    `  sequences              ${p.smallestSeq} to ${p.largestSeq}`,
    `  smallest key           ${p.smallestKey === null ? 'none' : formatKey(p.smallestKey)}`,
    `  largest key            ${p.largestKey === null ? 'none' : formatKey(p.largestKey)}`,
    `  created                ${formatTime(p.creationTime)}`,
    `filter: ${count(d.filter.bits)} bits (${formatHandle(d.filter)})`,
    `range deletions: ${count(d.rangeDeletions.count)}`,
    ...(d.rangeDeletions.tombstones ?? []).map((t) => `  [${JSON.stringify(t.start)}, ${t.end === null ? 'no end' : JSON.stringify(t.end)}) @${t.seq}`),
    `index: ${count(d.dataBlocks.length)} data blocks`,
    ...d.dataBlocks.flatMap(formatBlock),
  ];
  return `${lines.join('\n')}\n`;
}

function formatBlock(b: DataBlockDump, i: number): string[] {
  const head = `  block ${i}: ${formatHandle(b)}, ${b.compression}, ${count(b.entryCount)} entries, separator ${formatKey(b.separator)}`;
  return [head, ...(b.entries ?? []).map(formatEntry)];
}

function formatEntry(e: EntryDump): string {
  const value = e.kind === 'deletion' ? '' : `, ${count(e.valueLength)} value bytes`;
  const expiry = e.expiresAt === undefined ? '' : `, expires ${formatTime(e.expiresAt)}`;
  return `    ${formatKey(e)}${value}${expiry}`;
}
