// Incremental parser of Redis requests: RESP multibulk arrays of bulk strings
// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands (`GET k\r\n`).
//
// Chunks are consumed in place: an argument lying inside one chunk is returned
// as a view of it, never copied. What is left after the last complete element
// (part of a line, or part of a bulk argument's data) is kept as the "tail", a
// list of chunk views, and joined once when the element is complete: a bulk
// argument spread over many chunks costs one copy, and a partial line is only
// looked at again when a chunk holding a '\n' arrives. Nothing is quadratic in
// the number of chunks. What a half-sent request keeps meanwhile (its tail,
// its arguments read so far) is copied when small, so that it holds no
// larger buffer its chunk is a view of.
//
// Malformed input fails with Redis's own messages, and the outcome never
// depends on where chunk boundaries fall: a line (inline command or `*`/`$`
// header) is too long when its bytes before the '\n' exceed maxInlineLength,
// which is checked the same way whether or not the '\n' has arrived.

import { VarveError } from '../../errors.js';

/** A client broke the protocol; the connection cannot be resynchronised and must be closed. */
export class ProtocolError extends VarveError {
  constructor(message: string) {
    super('ERR_PROTOCOL', message);
  }
}

export interface ParserLimits {
  /** Largest bulk string argument accepted, bytes (Redis proto-max-bulk-len, default 512 MiB). */
  maxBulkLength: number;
  /** Longest inline command line, and longest `*N`/`$N` header line (Redis: 64 KiB), counting a CR before the LF. */
  maxInlineLength: number;
  /** Most arguments in one multibulk request (Redis: 1024*1024). */
  maxArguments: number;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const DQUOTE = 34;
const DOLLAR = 36;
const SQUOTE = 39;
const STAR = 42;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const BACKSLASH = 92;
const LOWER_X = 120;

/** Requests of up to this many arguments get their array at its final size. */
const PRESIZED_ARGUMENTS = 64;
/** Longest request name shared between requests (command names are short; a longer first argument is no command). */
const SHARED_NAME_MAX = 32;

/**
 * The last multibulk request's name (first argument) any parser read, in a
 * copy of its own: a run of like requests, from one client or many, shares
 * it, and so can be recognised by identity (CommandTable.find). Never
 * written to.
 */
let lastName = new Uint8Array(0);

/**
 * What a half-sent request keeps (its tail, its arguments read so far) is
 * copied when smaller than this: chunks are views of slabs that later
 * chunks share (client-socket.ts), and a client that leaves a request half
 * sent must hold only its own bytes, not a slab.
 */
const COPIED_KEPT_MAX = 16 * 1024;

/** `piece`, or a copy of it when it is small and a view of a larger buffer, to keep. */
function kept(piece: Uint8Array): Uint8Array {
  return piece.length < COPIED_KEPT_MAX && piece.byteLength < piece.buffer.byteLength ? new Uint8Array(piece) : piece;
}

/** Header numbers have at most this many digits, so they stay exact (< 2^53) and every limit fits. */
const MAX_HEADER_DIGITS = 15;

const EMPTY = new Uint8Array(0);

const INVALID_MULTIBULK = 'Protocol error: invalid multibulk length';
const INVALID_BULK = 'Protocol error: invalid bulk length';
const TOO_BIG_INLINE = 'Protocol error: too big inline request';
const TOO_BIG_MULTIBULK = 'Protocol error: too big mbulk count string';
const TOO_BIG_BULK = 'Protocol error: too big bulk count string';
const UNBALANCED_QUOTES = 'Protocol error: unbalanced quotes in request';
// Redis skips the two bytes after a bulk argument unread; checking them keeps
// a client that miscounts from having its data run as commands.
const MISSING_CRLF = 'Protocol error: expected CRLF after bulk argument';

export class RespParser {
  private readonly limits: ParserLimits;
  /** The buffer being consumed, and the offset of its first unconsumed byte. */
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** buf's memory and where buf starts in it (set with buf: reading them from buf for every argument's view cost as much as the view). */
  private bufData: ArrayBufferLike = EMPTY.buffer;
  private bufOffset = 0;
  /** Arguments of the multibulk request under way, and how many are still to come (0: between requests). */
  private args: Uint8Array[] = [];
  private argsTaken = 0;
  private argsLeft = 0;
  /** Length of the bulk argument whose `$` header is read and whose data is not, else -1. */
  private bulkLength = -1;
  /** The tail kept between pushes: views of received chunks, and their total size. */
  private readonly parts: Uint8Array[] = [];
  private partsBytes = 0;
  /**
   * What the tail waits for: `waitBytes` bytes in all (a bulk argument's data and CRLF), or, when
   * 0, a '\n' ending the line; `lineTooBig` is the error should that line outgrow maxInlineLength.
   */
  private waitBytes = 0;
  private lineTooBig = '';

  constructor(limits: ParserLimits) {
    this.limits = limits;
  }

  /**
   * Appends bytes received from the socket and returns every request now complete, in order; each request is its arguments
   * as Uint8Arrays (views into the received chunks where an argument lies within one chunk; a copy only when an argument spans chunks).
   * Incomplete input is kept for the next push. Throws ProtocolError on malformed input; after that the parser must not be used again.
   */
  push(chunk: Uint8Array): Uint8Array[][] {
    const requests: Uint8Array[][] = [];
    if (this.parts.length === 0) {
      this.consume(chunk, 0);
    } else if (!this.absorb(chunk, requests)) {
      return requests;
    }
    this.drain(requests);
    return requests;
  }

  /** Bytes buffered waiting for the rest of a request (for limits and metrics). */
  get pending(): number {
    let bytes = this.partsBytes;
    if (this.argsLeft > 0) for (let i = 0; i < this.argsTaken; i++) bytes += this.args[i]!.length;
    return bytes;
  }

  /** Makes `buf` the buffer being consumed, from `pos`. */
  private consume(buf: Uint8Array, pos: number): void {
    this.buf = buf;
    this.pos = pos;
    this.bufData = buf.buffer;
    this.bufOffset = buf.byteOffset;
  }

  /** Parses the buffer from pos into requests until it runs out, keeping any incomplete rest as the tail. */
  private drain(requests: Uint8Array[][]): void {
    for (;;) {
      const progressed = this.argsLeft > 0 ? this.readArgument(requests) : this.readRequestStart(requests);
      if (!progressed) return;
    }
  }

  /** Adds a chunk to the tail; once the tail holds what it waits for, resumes parsing from it (returns true). */
  private absorb(chunk: Uint8Array, requests: Uint8Array[][]): boolean {
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    if (this.waitBytes > 0) {
      if (this.partsBytes < this.waitBytes) {
        this.parts[this.parts.length - 1] = kept(chunk);
        return false;
      }
      this.completeBulk(chunk, requests);
      return true;
    }
    if (chunk.indexOf(LF) < 0) {
      checkLine(this.partsBytes, this.limits, this.lineTooBig);
      this.parts[this.parts.length - 1] = kept(chunk);
      return false;
    }
    this.consume(Buffer.concat(this.parts, this.partsBytes), 0);
    this.clearTail();
    return true;
  }

  /**
   * Joins exactly the awaited bulk argument and its CRLF out of the tail, whose last part is
   * `last`, and resumes in `last` after them: the bytes that follow are not copied.
   */
  private completeBulk(last: Uint8Array, requests: Uint8Array[][]): void {
    const after = this.partsBytes - this.waitBytes;
    const joined = Buffer.concat(this.parts, this.waitBytes);
    this.clearTail();
    this.consume(last, last.length - after);
    this.takeBulk(joined, joined.buffer, joined.byteOffset, 0, requests);
  }

  private clearTail(): void {
    this.parts.length = 0;
    this.partsBytes = 0;
  }

  /** Keeps the unconsumed rest of the buffer as the tail (which is empty now), to wait for `waitBytes` (0: a '\n'). */
  private suspend(waitBytes: number): void {
    if (this.pos < this.buf.length) {
      this.parts.push(kept(this.buf.subarray(this.pos)));
      this.partsBytes = this.buf.length - this.pos;
    }
    // Mid-request, the arguments read so far wait with the tail (between requests, args is the last one's, handed out).
    if (this.argsLeft > 0) for (let i = 0; i < this.argsTaken; i++) this.args[i] = kept(this.args[i]!);
    this.waitBytes = waitBytes;
    this.consume(EMPTY, 0);
  }

  private waitForLine(tooBig: string): void {
    this.suspend(0);
    this.lineTooBig = tooBig;
    checkLine(this.partsBytes, this.limits, tooBig);
  }

  /** Reads an inline command or a `*` header at pos; false when the input ends first. */
  private readRequestStart(requests: Uint8Array[][]): boolean {
    if (this.pos === this.buf.length) return false;
    return this.buf[this.pos] === STAR ? this.readArrayHeader() : this.readInline(requests);
  }

  private readArrayHeader(): boolean {
    const count = this.readHeader(TOO_BIG_MULTIBULK, INVALID_MULTIBULK);
    if (count === undefined) return false;
    if (count > this.limits.maxArguments) throw new ProtocolError(INVALID_MULTIBULK);
    // Like Redis, `*0` and any negative count are requests with nothing to run.
    if (count > 0) {
      // Sized up front when small (the common case, and an array grown by push starts at 16 slots); a large count is only a claim, so it grows as arguments arrive.
      this.args = count <= PRESIZED_ARGUMENTS ? new Array<Uint8Array>(count) : [];
      this.argsTaken = 0;
      this.argsLeft = count;
    }
    return true;
  }

  /** Reads one bulk argument (its `$` header, then its data); false when the input ends first. */
  private readArgument(requests: Uint8Array[][]): boolean {
    if (this.bulkLength < 0 && !this.readBulkHeader()) return false;
    const end = this.pos + this.bulkLength;
    if (end + 2 > this.buf.length) {
      this.suspend(this.bulkLength + 2);
      return false;
    }
    this.takeBulk(this.buf, this.bufData, this.bufOffset, this.pos, requests);
    this.pos = end + 2;
    return true;
  }

  private readBulkHeader(): boolean {
    // The type byte is judged as soon as it arrives, before the line is complete.
    if (this.pos < this.buf.length && this.buf[this.pos] !== DOLLAR) {
      throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(this.buf[this.pos]!)}'`);
    }
    const length = this.readHeader(TOO_BIG_BULK, INVALID_BULK);
    if (length === undefined) return false;
    if (length < 0 || length > this.limits.maxBulkLength) throw new ProtocolError(INVALID_BULK);
    this.bulkLength = length;
    return true;
  }

  /**
   * Takes the bulk argument announced by the last `$` header from source[start...], which holds it
   * and its CRLF; source starts at `sourceOffset` in `sourceData`.
   */
  private takeBulk(source: Uint8Array, sourceData: ArrayBufferLike, sourceOffset: number, start: number, requests: Uint8Array[][]): void {
    const end = start + this.bulkLength;
    if (source[end] !== CR || source[end + 1] !== LF) throw new ProtocolError(MISSING_CRLF);
    // A plain view: a Buffer (subarray) costs three times as much to make, and arguments are made for every request.
    this.args[this.argsTaken] =
      this.argsTaken === 0 && end - start <= SHARED_NAME_MAX ? this.sharedName(source, start, end) : new Uint8Array(sourceData, sourceOffset + start, end - start);
    this.argsTaken++;
    this.bulkLength = -1;
    if (--this.argsLeft === 0) requests.push(this.args);
  }

  /**
   * source[start, end) as a request's name: the last name when the bytes are
   * the same (a pipeline repeats one command, and comparing a few bytes
   * costs a tenth of making a view), else a copy that becomes the last name.
   */
  private sharedName(source: Uint8Array, start: number, end: number): Uint8Array {
    const name = lastName;
    const length = end - start;
    if (name.length === length) {
      let i = 0;
      while (i < length && source[start + i] === name[i]) i++;
      if (i === length) return name;
    }
    const copy = new Uint8Array(length);
    copy.set(source.subarray(start, end));
    lastName = copy;
    return copy;
  }

  /**
   * The number on the `*`/`$` header line at pos, moving past the line; undefined (the line kept
   * as the tail) when the line is incomplete. Throws `tooBig` for an overlong line, `invalid` for
   * any other malformed one.
   */
  private readHeader(tooBig: string, invalid: string): number | undefined {
    const value = this.scanHeader();
    if (!Number.isNaN(value)) return value;
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0) {
      this.waitForLine(tooBig);
      return undefined;
    }
    checkLine(lf - this.pos, this.limits, tooBig);
    throw new ProtocolError(invalid);
  }

  /**
   * The fast path of readHeader, one pass over the few bytes of a well-formed header: the number
   * after the type byte at pos when the line is complete, well formed and within the limit, moving
   * pos past its CRLF; otherwise NaN, leaving pos. Numbers are strict like Redis's string2ll: an
   * optional '-', digits without leading zeros, no "-0".
   */
  private scanHeader(): number {
    const buf = this.buf;
    let i = this.pos + 1;
    const negative = i < buf.length && buf[i] === MINUS;
    if (negative) i++;
    const first = i;
    const stop = Math.min(buf.length, first + MAX_HEADER_DIGITS + 1);
    let value = 0;
    for (; i < stop; i++) {
      const c = buf[i]!;
      if (c < ZERO || c > NINE) break;
      value = value * 10 + (c - ZERO);
    }
    const digits = i - first;
    const wellFormed =
      digits > 0 && digits <= MAX_HEADER_DIGITS && (buf[first] !== ZERO || (digits === 1 && !negative)) && buf[i] === CR && buf[i + 1] === LF;
    if (!wellFormed || i + 1 - this.pos > this.limits.maxInlineLength) return NaN;
    this.pos = i + 2;
    return negative ? -value : value;
  }

  /** Reads an inline command line at pos into requests (unless blank); false when its '\n' has not arrived. */
  private readInline(requests: Uint8Array[][]): boolean {
    const buf = this.buf;
    const start = this.pos;
    const lf = buf.indexOf(LF, start);
    if (lf < 0) {
      this.waitForLine(TOO_BIG_INLINE);
      return false;
    }
    checkLine(lf - start, this.limits, TOO_BIG_INLINE);
    // Like Redis, a bare LF also ends an inline line.
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    this.pos = lf + 1;
    const args = splitInline(buf, start, end);
    if (args.length > 0) requests.push(args);
    return true;
  }
}

/** Throws `message` when a line's bytes before its '\n' exceed the limit. */
function checkLine(bytes: number, limits: ParserLimits, message: string): void {
  if (bytes > limits.maxInlineLength) throw new ProtocolError(message);
}

/** C's isspace(), the set Redis separates inline arguments with. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

/**
 * Splits the inline line buf[start, end) into arguments with Redis's rules (sdssplitargs): arguments
 * are separated by whitespace; an argument may end in one quoted section, double-quoted with
 * backslash escapes or single-quoted with only \' , and its closing quote must be followed by
 * whitespace or the end of the line. Plain arguments are views of buf; quoted ones are decoded copies.
 */
function splitInline(buf: Uint8Array, start: number, end: number): Uint8Array[] {
  const args: Uint8Array[] = [];
  let i = start;
  for (;;) {
    while (i < end && isSpace(buf[i]!)) i++;
    if (i === end) return args;
    i = readInlineArgument(buf, i, end, args);
  }
}

/** Reads the argument starting at buf[i] (not whitespace) into args; returns the index after it. */
function readInlineArgument(buf: Uint8Array, i: number, end: number, args: Uint8Array[]): number {
  const start = i;
  while (i < end && !isSpace(buf[i]!) && buf[i] !== DQUOTE && buf[i] !== SQUOTE) i++;
  if (i === end || isSpace(buf[i]!)) {
    args.push(buf.subarray(start, i));
    return i;
  }
  const bytes = Array.from(buf.subarray(start, i));
  i = buf[i] === DQUOTE ? readDoubleQuoted(buf, i + 1, end, bytes) : readSingleQuoted(buf, i + 1, end, bytes);
  if (i < end && !isSpace(buf[i]!)) throw new ProtocolError(UNBALANCED_QUOTES);
  args.push(Buffer.from(bytes));
  return i;
}

/** Decodes a double-quoted section from buf[i] (after the opening quote) into out; returns the index after the closing quote. */
function readDoubleQuoted(buf: Uint8Array, i: number, end: number, out: number[]): number {
  for (;;) {
    if (i >= end) throw new ProtocolError(UNBALANCED_QUOTES);
    const c = buf[i]!;
    if (c === DQUOTE) return i + 1;
    if (c !== BACKSLASH || i + 1 === end) {
      out.push(c);
      i++;
    } else if (buf[i + 1] === LOWER_X && i + 3 < end && isHex(buf[i + 2]!) && isHex(buf[i + 3]!)) {
      out.push(hexValue(buf[i + 2]!) * 16 + hexValue(buf[i + 3]!));
      i += 4;
    } else {
      out.push(unescape(buf[i + 1]!));
      i += 2;
    }
  }
}

/** Decodes a single-quoted section from buf[i] (after the opening quote) into out; returns the index after the closing quote. */
function readSingleQuoted(buf: Uint8Array, i: number, end: number, out: number[]): number {
  for (;;) {
    if (i >= end) throw new ProtocolError(UNBALANCED_QUOTES);
    const c = buf[i]!;
    if (c === BACKSLASH && i + 1 < end && buf[i + 1] === SQUOTE) {
      out.push(SQUOTE);
      i += 2;
    } else if (c === SQUOTE) {
      return i + 1;
    } else {
      out.push(c);
      i++;
    }
  }
}

/** The byte a backslash escape in double quotes stands for: C's \n \r \t \b \a, else the character itself. */
function unescape(c: number): number {
  switch (c) {
    case 0x6e: // n
      return LF;
    case 0x72: // r
      return CR;
    case 0x74: // t
      return TAB;
    case 0x62: // b
      return 8;
    case 0x61: // a
      return 7;
    default:
      return c;
  }
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function hexValue(c: number): number {
  return c <= NINE ? c - ZERO : (c | 0x20) - 0x61 + 10;
}
