// LogReader: the records of a whole log file (WAL or MANIFEST) held in memory.
//
// Damage is any place where the file stops being a well-formed sequence of
// records: a truncated header or payload, a bad type, a length that crosses
// its block, a CRC mismatch, non-zero bytes in a block trailer, or fragments
// out of sequence (MIDDLE or LAST without FIRST, FULL or FIRST inside an
// open record, the file ending inside a record).
//
// Torn tail or corruption: damage is a torn tail when no CRC-valid fragment
// of any type exists at a trusted fragment boundary after it. Trusted
// boundaries are found by walking fragment by fragment, using each header's
// length when it fits its block, from the damaged fragment on and from the
// start of every later block (every block a writer wrote starts with a
// fragment, since fragments never cross blocks). A valid fragment out of
// sequence is itself such a fragment. The walk never tries arbitrary byte
// offsets, so bytes inside a payload that happen to look like framing are
// not taken for records. A torn tail ends reading cleanly when the caller
// allows one (the partial record is dropped; tornAt says where it began);
// any other damage is a CorruptionError naming the file and the offset.
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { crc32cAt, unmaskCrc } from '../wasm/crc32c.js';
import { Region, u8 } from '../wasm/heap.js';
import { BLOCK_SIZE, CRC_OFFSET, FragmentType, HEADER_SIZE, LENGTH_OFFSET, TYPE_OFFSET, isFragmentType } from './format.js';

export interface LogReaderOptions {
  /** Whether damage at the end of the file may be an interrupted write (true) or is corruption (false). */
  tailMayBeTorn: boolean;
}

/** One fragment's header fields and verdict, filled in by checkFragment. */
interface Fragment {
  /** Empty when the fragment is valid; otherwise what is wrong with it. */
  problem: string;
  type: number;
  /** Payload start. */
  start: number;
  /** Where the next fragment may start: past the payload if the length fits the block, else the next block. */
  next: number;
}

function blockEnd(pos: number): number {
  return pos - (pos % BLOCK_SIZE) + BLOCK_SIZE;
}

/** A file being read; `id` tells readers apart in the block copy below. */
interface Source {
  readonly bytes: Uint8Array;
  readonly id: number;
}

let nextSourceId = 1;

/**
 * CRCs run over one block at a time copied into linear memory, so a block
 * of many small fragments is copied once, not once per fragment. Reads are
 * synchronous, and the copy is tagged with the source and block it holds.
 */
const blockCopy = new Region(BLOCK_SIZE);
let copiedSource = 0;
let copiedBlock = -1;

/** CRC32C of the source's bytes [from, to), which lie inside one block. */
function crcInBlock(source: Source, from: number, to: number): number {
  const block = Math.floor(from / BLOCK_SIZE);
  const blockStart = block * BLOCK_SIZE;
  if (copiedSource !== source.id || copiedBlock !== block) {
    u8().set(source.bytes.subarray(blockStart, Math.min(blockStart + BLOCK_SIZE, source.bytes.length)), blockCopy.ptr);
    copiedSource = source.id;
    copiedBlock = block;
  }
  return crc32cAt(blockCopy.ptr + from - blockStart, to - from);
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Checks the fragment whose header starts at `pos`. Precondition: at least HEADER_SIZE bytes remain in pos's block. */
function checkFragment(source: Source, pos: number, out: Fragment): void {
  const bytes = source.bytes;
  const end = blockEnd(pos);
  out.start = pos + HEADER_SIZE;
  out.type = 0;
  if (bytes.length - pos < HEADER_SIZE) {
    out.problem = 'truncated fragment header';
    out.next = end;
    return;
  }
  const length = bytes[pos + LENGTH_OFFSET]! | (bytes[pos + LENGTH_OFFSET + 1]! << 8);
  const type = bytes[pos + TYPE_OFFSET]!;
  out.type = type;
  out.next = out.start + length <= end ? out.start + length : end;
  if (!isFragmentType(type)) {
    out.problem = `bad fragment type ${type}`;
  } else if (out.start + length > end) {
    out.problem = `fragment length ${length} crosses the block boundary`;
  } else if (out.start + length > bytes.length) {
    out.problem = 'truncated fragment payload';
  } else {
    const stored = (bytes[pos + CRC_OFFSET]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24)) >>> 0;
    const actual = crcInBlock(source, pos + TYPE_OFFSET, out.start + length);
    out.problem = unmaskCrc(stored) === actual ? '' : 'fragment checksum mismatch';
  }
}

/** Offset of the first valid fragment at a trusted boundary after the damage at `at` (see above), or -1. */
function findValidFragmentAfter(source: Source, at: number): number {
  const bytes = source.bytes;
  const fragment: Fragment = { problem: '', type: 0, start: 0, next: 0 };
  let pos = at;
  if (blockEnd(at) - at < HEADER_SIZE) {
    pos = blockEnd(at);
  } else {
    checkFragment(source, at, fragment);
    pos = fragment.next;
  }
  while (pos < bytes.length) {
    if (blockEnd(pos) - pos < HEADER_SIZE) {
      pos = blockEnd(pos);
      continue;
    }
    checkFragment(source, pos, fragment);
    if (fragment.problem === '') return pos;
    pos = fragment.next;
  }
  return -1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const TYPE_NAMES = ['', 'FULL', 'FIRST', 'MIDDLE', 'LAST'];

export class LogReader {
  readonly #source: Source;
  readonly #fileName: string;
  readonly #tailMayBeTorn: boolean;
  readonly #fragment: Fragment = { problem: '', type: 0, start: 0, next: 0 };
  /** Next fragment header (or block trailer) to read. */
  #pos = 0;
  #offset = -1;
  #done = false;
  #failure: CorruptionError | undefined;
  #tornAt: number | undefined;
  #tornReason: string | undefined;

  /** `bytes` is the whole file, unchanged while the reader is used; `fileName` names it in errors. */
  constructor(bytes: Uint8Array, fileName: string, options: LogReaderOptions) {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('log bytes must be a Uint8Array');
    this.#source = { bytes, id: nextSourceId++ };
    this.#fileName = fileName;
    this.#tailMayBeTorn = options.tailMayBeTorn;
  }

  /** File offset of the first fragment of the record `next` last returned; -1 before any. */
  get offset(): number {
    return this.#offset;
  }

  /** Where a dropped torn tail begins (the start of its partial record), once reading has ended on one. */
  get tornAt(): number | undefined {
    return this.#tornAt;
  }

  /** What was wrong at the torn tail, for the engine's log. */
  get tornReason(): string | undefined {
    return this.#tornReason;
  }

  /**
   * The next record's payload, or undefined at the end. A single-fragment
   * record is a view into the file's bytes; a multi-fragment one a new array.
   */
  next(): Uint8Array | undefined {
    if (this.#failure) throw this.#failure;
    if (this.#done) return undefined;
    const source = this.#source;
    const bytes = source.bytes;
    const fragment = this.#fragment;
    let recordStart = -1;
    const parts: Uint8Array[] = [];
    let pos = this.#pos;
    for (;;) {
      if (pos >= bytes.length) {
        if (recordStart >= 0) return this.#damaged(pos, recordStart, 'file ends inside a record', false);
        this.#pos = pos;
        this.#done = true;
        return undefined;
      }
      const end = blockEnd(pos);
      if (end - pos < HEADER_SIZE) {
        const stop = Math.min(end, bytes.length);
        if (!allZero(bytes, pos, stop)) return this.#damaged(pos, recordStart, 'non-zero bytes in a block trailer', false);
        pos = stop;
        continue;
      }
      checkFragment(source, pos, fragment);
      if (fragment.problem !== '') return this.#damaged(pos, recordStart, fragment.problem, false);
      const type = fragment.type;
      const inRecord = recordStart >= 0;
      if ((type === FragmentType.Full || type === FragmentType.First) === inRecord) {
        const problem = inRecord ? `${TYPE_NAMES[type]} fragment inside an open record` : `${TYPE_NAMES[type]} fragment outside a record`;
        return this.#damaged(pos, recordStart, problem, true);
      }
      const payload = bytes.subarray(fragment.start, fragment.next);
      if (type === FragmentType.Full) {
        this.#pos = fragment.next;
        this.#offset = pos;
        return payload;
      }
      if (type === FragmentType.First) recordStart = pos;
      parts.push(payload);
      pos = fragment.next;
      if (type === FragmentType.Last) {
        this.#pos = pos;
        this.#offset = recordStart;
        return concat(parts);
      }
    }
  }

  /**
   * Ends reading at damage found at `at`, inside the record that starts at
   * `recordStart` (or -1): a torn tail when allowed and nothing valid
   * follows, else a CorruptionError. `validHere` says the fragment at `at`
   * is itself valid (a sequencing error).
   */
  #damaged(at: number, recordStart: number, problem: string, validHere: boolean): undefined {
    this.#done = true;
    const follows = validHere ? at : findValidFragmentAfter(this.#source, at);
    if (follows < 0 && this.#tailMayBeTorn) {
      this.#tornAt = recordStart >= 0 ? recordStart : at;
      this.#tornReason = problem;
      return undefined;
    }
    const detail = follows < 0 ? 'damaged tail' : `valid data follows at offset ${follows}`;
    this.#failure = new CorruptionError(`${this.#fileName}: corrupt log at offset ${at}: ${problem} (${detail})`);
    throw this.#failure;
  }
}
