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
// sequence is itself such a fragment. Because the damage may be in the
// length that walk trusts, the damaged fragment's true end is first sought
// as the prefix of its block over which its stored checksum holds. The walk
// never tries arbitrary byte offsets, so bytes inside a payload that happen
// to look like framing are not taken for records. A torn tail ends reading cleanly when the caller
// allows one (the partial record is dropped; tornAt says where it began);
// any other damage is a CorruptionError naming the file and the offset.
import { CorruptionError, InvalidArgumentError } from '../errors.js';
import { crc32c, crc32cPrefixMatching, unmaskCrc } from '../wasm/crc32c.js';
import { BLOCK_SIZE, CRC_OFFSET, FragmentType, HEADER_SIZE, LENGTH_OFFSET, TYPE_OFFSET, isFragmentType } from './format.js';

export interface LogReaderOptions {
  /** Whether damage at the end of the file may be an interrupted write (true) or is corruption (false). */
  tailMayBeTorn: boolean;
  /**
   * With tailMayBeTorn: accept as torn only a tail cut short (a truncated
   * header or payload, or the file ending inside a record) or zero-filled;
   * a complete fragment that fails its checksum is corruption. For logs
   * whose every record was fsync'ed before it was acted on (the MANIFEST),
   * where dropping a damaged last record would silently lose an edit.
   */
  onlyTruncatedTail?: boolean;
}

/** What checkFragment found wrong; constants, so scanning long damaged stretches builds no strings. */
const Problem = {
  None: '',
  TruncatedHeader: 'truncated fragment header',
  BadType: 'bad fragment type',
  CrossesBlock: 'fragment length crosses the block boundary',
  TruncatedPayload: 'truncated fragment payload',
  Checksum: 'fragment checksum mismatch',
} as const;
type Problem = (typeof Problem)[keyof typeof Problem];

/** Damage an interrupted append can leave: the file simply stops early. */
const TRUNCATIONS: ReadonlySet<string> = new Set([Problem.TruncatedHeader, Problem.TruncatedPayload, 'file ends inside a record']);

/** One fragment's header fields and verdict, filled in by checkFragment. */
interface Fragment {
  problem: Problem;
  type: number;
  length: number;
  /** Payload start. */
  start: number;
  /** Where the next fragment may start: past the payload if the length fits the block, else the next block. */
  next: number;
}

function newFragment(): Fragment {
  return { problem: Problem.None, type: 0, length: 0, start: 0, next: 0 };
}

/** The problem in words, with the field values that show it. */
function describe(fragment: Fragment): string {
  if (fragment.problem === Problem.BadType) return `bad fragment type ${fragment.type}`;
  if (fragment.problem === Problem.CrossesBlock) return `fragment length ${fragment.length} crosses the block boundary`;
  return fragment.problem;
}

function blockEnd(pos: number): number {
  return pos - (pos % BLOCK_SIZE) + BLOCK_SIZE;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Checks the fragment whose header starts at `pos`. Precondition: at least HEADER_SIZE bytes remain in pos's block. */
function checkFragment(bytes: Uint8Array, pos: number, out: Fragment): void {
  const end = blockEnd(pos);
  out.start = pos + HEADER_SIZE;
  out.type = 0;
  out.length = 0;
  if (bytes.length - pos < HEADER_SIZE) {
    out.problem = Problem.TruncatedHeader;
    out.next = end;
    return;
  }
  const length = bytes[pos + LENGTH_OFFSET]! | (bytes[pos + LENGTH_OFFSET + 1]! << 8);
  const type = bytes[pos + TYPE_OFFSET]!;
  out.type = type;
  out.length = length;
  out.next = out.start + length <= end ? out.start + length : end;
  if (!isFragmentType(type)) {
    out.problem = Problem.BadType;
  } else if (out.start + length > end) {
    out.problem = Problem.CrossesBlock;
  } else if (out.start + length > bytes.length) {
    out.problem = Problem.TruncatedPayload;
  } else {
    const stored = (bytes[pos + CRC_OFFSET]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24)) >>> 0;
    // crc32c copies the bytes into linear memory first; copying whole blocks once instead measured no faster.
    const actual = crc32c(bytes.subarray(pos + TYPE_OFFSET, out.start + length));
    out.problem = unmaskCrc(stored) === actual ? Problem.None : Problem.Checksum;
  }
}

/**
 * Offset of the first valid fragment at a trusted boundary after the damage
 * at `at` (see above), or -1. `trueLength` is the damaged fragment's payload
 * length by its checksum (lengthByChecksum), or -1.
 */
function findValidFragmentAfter(bytes: Uint8Array, at: number, trueLength: number): number {
  const fragment = newFragment();
  let pos = at;
  if (blockEnd(at) - at < HEADER_SIZE) {
    pos = blockEnd(at);
  } else {
    checkFragment(bytes, at, fragment);
    pos = trueLength < 0 ? fragment.next : at + HEADER_SIZE + trueLength;
  }
  while (pos < bytes.length) {
    if (blockEnd(pos) - pos < HEADER_SIZE) {
      pos = blockEnd(pos);
      continue;
    }
    checkFragment(bytes, pos, fragment);
    if (fragment.problem === Problem.None) return pos;
    pos = fragment.next;
  }
  return -1;
}

/**
 * The payload length of the damaged fragment at `pos` if its length field
 * is what was damaged: the first prefix of the rest of its block (as far as
 * the file goes) over which its type byte and payload match its stored
 * checksum; -1 if none does. Then the walk goes on from where the fragment
 * really ends, instead of where the damaged length sends it.
 */
function lengthByChecksum(bytes: Uint8Array, pos: number): number {
  const end = Math.min(blockEnd(pos), bytes.length);
  if (end - pos < HEADER_SIZE || !isFragmentType(bytes[pos + TYPE_OFFSET]!)) return -1;
  const stored = (bytes[pos + CRC_OFFSET]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24)) >>> 0;
  const seed = crc32c(bytes.subarray(pos + TYPE_OFFSET, pos + HEADER_SIZE));
  return crc32cPrefixMatching(bytes.subarray(pos + HEADER_SIZE, end), seed, unmaskCrc(stored));
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
  readonly #bytes: Uint8Array;
  readonly #fileName: string;
  readonly #tailMayBeTorn: boolean;
  readonly #onlyTruncatedTail: boolean;
  readonly #fragment = newFragment();
  /** Next fragment header (or block trailer) to read. */
  #pos = 0;
  #offset = -1;
  #done = false;
  #failure: CorruptionError | undefined;
  #tornAt: number | undefined;
  #tornReason: string | undefined;

  /** `bytes` is the whole file; `fileName` names it in errors. */
  constructor(bytes: Uint8Array, fileName: string, options: LogReaderOptions) {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('log bytes must be a Uint8Array');
    // A plain view: subarrays of a node Buffer are Buffers, several times slower to make.
    this.#bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#fileName = fileName;
    this.#tailMayBeTorn = options.tailMayBeTorn;
    this.#onlyTruncatedTail = options.onlyTruncatedTail ?? false;
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
    const bytes = this.#bytes;
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
      checkFragment(bytes, pos, fragment);
      if (fragment.problem !== Problem.None) return this.#damaged(pos, recordStart, describe(fragment), false);
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
    // A fragment whose checksum holds over a prefix was written whole: its length is what is damaged, not a tear.
    const trueLength = validHere ? -1 : lengthByChecksum(this.#bytes, at);
    const follows = validHere ? at : findValidFragmentAfter(this.#bytes, at, trueLength);
    const wholeFragment = trueLength >= 0;
    const tornShape = !wholeFragment && (!this.#onlyTruncatedTail || TRUNCATIONS.has(problem) || allZero(this.#bytes, at, this.#bytes.length));
    if (follows < 0 && this.#tailMayBeTorn && tornShape) {
      this.#tornAt = recordStart >= 0 ? recordStart : at;
      this.#tornReason = problem;
      return undefined;
    }
    const detail = follows < 0 ? 'damaged tail' : `valid data follows at offset ${follows}`;
    this.#failure = new CorruptionError(`${this.#fileName}: corrupt log at offset ${at}: ${problem} (${detail})`);
    throw this.#failure;
  }
}
