// A version edit: one change to the set of table files (plus the counters
// that must survive a restart), and its encoding as a MANIFEST record payload
// (docs/FORMAT.md, "Version edits"). The MANIFEST's log framing checksums each
// payload; this decoder checks structure, so damage that slips past the
// checksum still comes back as CorruptionError, never as a malformed edit.
import { writeVarint } from '../varint.js';
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { MAX_SEQUENCE, TRAILER_SIZE, parseTrailer } from '../keys.js';
import { boundsOrdered } from './bounds.js';

/** The only key order varve has: user keys bytewise, then trailers descending. */
export const COMPARATOR_NAME = 'varve.bytewise';

/** Levels 0..NUM_LEVELS-1. */
export const NUM_LEVELS = 7;

/** What the engine knows about one table file without opening it. */
export interface FileMetadata {
  readonly number: number;
  /** File size in bytes. */
  readonly size: number;
  /** Smallest and largest internal keys in the table (smallest <= largest). */
  readonly smallest: Uint8Array;
  readonly largest: Uint8Array;
  /** Smallest and largest sequence numbers of its entries. */
  readonly smallestSeq: number;
  readonly largestSeq: number;
}

export interface NewFile {
  readonly level: number;
  readonly meta: FileMetadata;
}

export interface DeletedFile {
  readonly level: number;
  readonly number: number;
}

export interface VersionEdit {
  comparator?: string;
  /** WALs numbered below this are obsolete: their data is in tables. */
  logNumber?: number;
  nextFileNumber?: number;
  lastSequence?: number;
  /** Applied before newFiles, so one edit can move a file between levels. */
  deletedFiles: DeletedFile[];
  newFiles: NewFile[];
}

/** Field tags; every number here is documented in docs/FORMAT.md. */
const Tag = {
  Comparator: 1,
  LogNumber: 2,
  NextFileNumber: 3,
  LastSequence: 4,
  DeletedFile: 5,
  NewFile: 6,
} as const;

// ---- Encoding ----

/** Grows as needed; edits are small (a snapshot of N files is ~60 N bytes). */
class Writer {
  bytes = new Uint8Array(64);
  pos = 0;

  #reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.pos + n, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  /** LEB128 of an integer in [0, 2^53): at most 8 bytes. */
  varint(n: number): void {
    this.#reserve(8);
    this.pos = writeVarint(this.bytes, this.pos, n);
  }

  lengthPrefixed(b: Uint8Array): void {
    this.varint(b.length);
    this.#reserve(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

const utf8 = new TextEncoder();

/** Encodes `edit`: scalars by tag order, then deleted files, then new files, each in list order. */
export function encodeVersionEdit(edit: VersionEdit): Uint8Array {
  checkEdit(edit);
  const w = new Writer();
  if (edit.comparator !== undefined) {
    w.varint(Tag.Comparator);
    w.lengthPrefixed(utf8.encode(edit.comparator));
  }
  if (edit.logNumber !== undefined) {
    w.varint(Tag.LogNumber);
    w.varint(edit.logNumber);
  }
  if (edit.nextFileNumber !== undefined) {
    w.varint(Tag.NextFileNumber);
    w.varint(edit.nextFileNumber);
  }
  if (edit.lastSequence !== undefined) {
    w.varint(Tag.LastSequence);
    w.varint(edit.lastSequence);
  }
  for (const d of edit.deletedFiles) {
    w.varint(Tag.DeletedFile);
    w.varint(d.level);
    w.varint(d.number);
  }
  for (const { level, meta } of edit.newFiles) {
    w.varint(Tag.NewFile);
    w.varint(level);
    w.varint(meta.number);
    w.varint(meta.size);
    w.lengthPrefixed(meta.smallest);
    w.lengthPrefixed(meta.largest);
    w.varint(meta.smallestSeq);
    w.varint(meta.largestSeq);
  }
  return w.done();
}

/** Throws InvalidArgumentError unless `edit` is one that decoding would accept. */
export function checkEdit(edit: VersionEdit): void {
  const problem = editProblem(edit);
  if (problem !== null) throw new InvalidArgumentError(`invalid version edit: ${problem}`);
}

function editProblem(edit: VersionEdit): string | null {
  for (const [name, n] of [
    ['logNumber', edit.logNumber],
    ['nextFileNumber', edit.nextFileNumber],
    ['lastSequence', edit.lastSequence],
  ] as const) {
    if (n !== undefined && !isCount(n)) return `${name} ${n} is not an integer in [0, 2^53)`;
  }
  const lists = new FileListChecker();
  for (const d of edit.deletedFiles) {
    const p = lists.deleted(d);
    if (p !== null) return p;
  }
  for (const f of edit.newFiles) {
    const p = lists.added(f);
    if (p !== null) return p;
  }
  return null;
}

/** Checks an edit's file lists one entry at a time, remembering what it saw. */
class FileListChecker {
  readonly #deleted = new Set<string>();
  readonly #added = new Set<number>();

  deleted(d: DeletedFile): string | null {
    const p = levelProblem(d.level) ?? (isCount(d.number) ? null : `file number ${d.number} is not an integer in [0, 2^53)`);
    if (p !== null) return `deleted file: ${p}`;
    const id = `${d.level}:${d.number}`;
    if (this.#deleted.has(id)) return `file ${d.number} deleted twice from level ${d.level}`;
    this.#deleted.add(id);
    return null;
  }

  added(f: NewFile): string | null {
    const p = levelProblem(f.level) ?? fileProblem(f.meta);
    if (p !== null) return `new file: ${p}`;
    if (this.#added.has(f.meta.number)) return `file ${f.meta.number} added twice`;
    this.#added.add(f.meta.number);
    return null;
  }
}

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_SEQUENCE;
}

function levelProblem(level: number): string | null {
  return Number.isInteger(level) && level >= 0 && level < NUM_LEVELS ? null : `level ${level} is not in 0..${NUM_LEVELS - 1}`;
}

/** Why `meta` cannot describe a table, or null. */
function fileProblem(meta: FileMetadata): string | null {
  const { number, size, smallest, largest, smallestSeq, largestSeq } = meta;
  if (!isCount(number)) return `file number ${number} is not an integer in [0, 2^53)`;
  if (!isCount(size)) return `file ${number}: size ${size} is not an integer in [0, 2^53)`;
  if (!isCount(smallestSeq) || !isCount(largestSeq) || smallestSeq > largestSeq) {
    return `file ${number}: sequence range [${smallestSeq}, ${largestSeq}] is not ordered integers in [0, 2^53)`;
  }
  if (smallest.length < TRAILER_SIZE || largest.length < TRAILER_SIZE) {
    return `file ${number}: a bounding key is shorter than its ${TRAILER_SIZE}-byte trailer`;
  }
  if (!trailerInRange(smallest) || !trailerInRange(largest)) {
    return `file ${number}: a bounding key's sequence exceeds 2^53 - 1`;
  }
  if (!boundsOrdered(smallest, largest)) return `file ${number}: smallest key sorts after largest key`;
  return null;
}

function trailerInRange(key: Uint8Array): boolean {
  try {
    parseTrailer(key);
    return true;
  } catch {
    return false;
  }
}

// ---- Decoding ----

class Malformed extends Error {}

/** Reads untrusted bytes; every read checks bounds and throws Malformed. */
class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos === this.bytes.length;
  }

  /** A shortest-form LEB128 integer below 2^53 (at most 8 bytes). */
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.bytes.length) throw new Malformed('truncated integer');
      const b = this.bytes[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new Malformed('integer not in shortest form');
        if (n > MAX_SEQUENCE) throw new Malformed('integer exceeds 2^53 - 1');
        return n;
      }
      scale *= 0x80;
    }
    throw new Malformed('integer longer than 8 bytes');
  }

  lengthPrefixed(): Uint8Array {
    const len = this.varint();
    if (len > this.bytes.length - this.pos) throw new Malformed(`byte string of ${len} bytes overruns the edit`);
    const b = this.bytes.slice(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a payload written by encodeVersionEdit. Any malformed input, unknown
 * tag, repeated scalar field or invalid file description is a CorruptionError
 * naming `fileName`, the record's index when given, and the byte offset.
 */
export function decodeVersionEdit(bytes: Uint8Array, fileName: string, record?: number): VersionEdit {
  const r = new Reader(bytes);
  let fieldStart = 0;
  const edit: VersionEdit = { deletedFiles: [], newFiles: [] };
  const lists = new FileListChecker();
  try {
    while (!r.done) {
      fieldStart = r.pos;
      const tag = r.varint();
      switch (tag) {
        case Tag.Comparator: {
          if (edit.comparator !== undefined) throw new Malformed('comparator given twice');
          try {
            edit.comparator = strictUtf8.decode(r.lengthPrefixed());
          } catch (err) {
            if (err instanceof Malformed) throw err;
            throw new Malformed('comparator name is not UTF-8');
          }
          break;
        }
        case Tag.LogNumber:
          if (edit.logNumber !== undefined) throw new Malformed('log number given twice');
          edit.logNumber = r.varint();
          break;
        case Tag.NextFileNumber:
          if (edit.nextFileNumber !== undefined) throw new Malformed('next file number given twice');
          edit.nextFileNumber = r.varint();
          break;
        case Tag.LastSequence:
          if (edit.lastSequence !== undefined) throw new Malformed('last sequence given twice');
          edit.lastSequence = r.varint();
          break;
        case Tag.DeletedFile: {
          const deleted = { level: r.varint(), number: r.varint() };
          const problem = lists.deleted(deleted);
          if (problem !== null) throw new Malformed(problem);
          edit.deletedFiles.push(deleted);
          break;
        }
        case Tag.NewFile: {
          const level = r.varint();
          const meta: FileMetadata = {
            number: r.varint(),
            size: r.varint(),
            smallest: r.lengthPrefixed(),
            largest: r.lengthPrefixed(),
            smallestSeq: r.varint(),
            largestSeq: r.varint(),
          };
          const added = { level, meta };
          const problem = lists.added(added);
          if (problem !== null) throw new Malformed(problem);
          edit.newFiles.push(added);
          break;
        }
        default:
          throw new Malformed(`unknown tag ${tag}`);
      }
    }
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    const where = record === undefined ? '' : ` record ${record}`;
    throw new CorruptionError(`${fileName}: version edit${where}, field at byte ${fieldStart}: ${err.message}`);
  }
  return edit;
}
