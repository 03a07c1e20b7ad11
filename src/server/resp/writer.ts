// Encoder of Redis replies, RESP2 or RESP3, appending a batch of replies into
// one buffer.
//
// take() hands out the bytes written since the previous take() as a view of
// that buffer (no copy) and moves a start mark past them. Bytes before the
// mark are never written again, so a Buffer given to socket.write stays intact
// for as long as the socket holds it. When a reply does not fit, a new buffer
// is allocated and only the bytes not yet taken move into it; the old buffer
// lives on only through the views already handed out.

import { InvalidArgumentError } from '../../errors.js';

export type Protocol = 2 | 3;

const LF = 10;
const CR = 13;
const SPACE = 32;
const HASH = 35;
const DOLLAR = 36;
const PERCENT = 37;
const STAR = 42;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const ZERO = 48;
const COLON = 58;
const EQUALS = 61;
const UNDERSCORE = 95;
const LOWER_F = 102;
const LOWER_T = 116;
const TILDE = 126;

/** The smallest buffer allocated: room for a pipeline's worth of small replies. */
const MIN_CAPACITY = 16 * 1024;
/** A buffer grown past this for a big reply is let go at take() instead of being kept for small ones. */
const MAX_RETAINED = 1024 * 1024;
/** Room for a type byte, a safe integer (sign and up to 16 digits) and CRLF. */
const MAX_HEADER = 20;

const EMPTY = Buffer.alloc(0);
const LINE_BREAKS = /[\r\n]/g;
const VERBATIM_FORMAT = /^[\x21-\x39\x3b-\x7e]{3}$/;

export class ReplyWriter {
  /** The protocol replies are encoded in; HELLO may switch it between replies. */
  protocol: Protocol;
  private buf: Buffer = EMPTY;
  /** buf's memory and where buf starts in it, kept beside it: take() makes a Buffer of them for every reply (buf.subarray reads `.buffer`, a runtime call). */
  private bufData: ArrayBufferLike = EMPTY.buffer;
  private bufOffset = EMPTY.byteOffset;
  /** buf[start, end) is written and not yet taken; buf[0, start) belongs to Buffers handed out. */
  private start = 0;
  private end = 0;

  constructor(protocol: Protocol = 2) {
    this.protocol = protocol;
  }

  /** A simple string (`+OK`); CR and LF, which would end it early, become spaces. */
  simple(text: string): void {
    this.line(PLUS, text);
  }

  /** An error; `message` includes its code (`ERR unknown command`); CR and LF become spaces. */
  error(message: string): void {
    this.line(MINUS, message);
  }

  /** An integer reply: a safe integer, or any integer as a bigint or an unsafe integral number. */
  integer(n: number | bigint): void {
    if (typeof n === 'number' && Number.isSafeInteger(n)) {
      this.header(COLON, n);
    } else {
      this.line(COLON, integerText(n));
    }
  }

  /** A bulk string: bytes as given, a string as UTF-8. */
  bulk(value: Uint8Array | string): void {
    if (typeof value === 'string') {
      this.bulkText(value);
      return;
    }
    this.reserve(MAX_HEADER + value.length + 2);
    this.writeHeader(DOLLAR, value.length);
    this.buf.set(value, this.end);
    this.end += value.length;
    this.writeCrlf();
  }

  /** The null reply where a string is expected: RESP2 `$-1`, RESP3 `_`. */
  nil(): void {
    if (this.protocol === 3) this.null();
    else this.header(DOLLAR, -1);
  }

  /** The null reply where an array is expected: RESP2 `*-1`, RESP3 `_`. */
  nilArray(): void {
    if (this.protocol === 3) this.null();
    else this.header(STAR, -1);
  }

  /** Starts an array; the caller writes its `length` elements next. */
  arrayHeader(length: number): void {
    this.header(STAR, length);
  }

  /** Starts a map of `pairs` key-value pairs (RESP2: an array of 2*pairs elements); the caller writes key, value, key, ... next. */
  mapHeader(pairs: number): void {
    if (this.protocol === 3) this.header(PERCENT, pairs);
    else this.header(STAR, 2 * pairs);
  }

  /** Starts a set (RESP2: an array); the caller writes its `length` elements next. */
  setHeader(length: number): void {
    this.header(this.protocol === 3 ? TILDE : STAR, length);
  }

  /** A double: RESP3 `,<d>`, RESP2 a bulk string; both in Redis's format (see formatDouble). */
  double(d: number): void {
    const text = formatDouble(d);
    if (this.protocol === 3) this.line(COMMA, text);
    else this.bulkText(text);
  }

  /** A boolean: RESP3 `#t`/`#f`, RESP2 the integers 1/0. */
  boolean(b: boolean): void {
    if (this.protocol === 2) {
      this.header(COLON, b ? 1 : 0);
      return;
    }
    this.reserve(4);
    this.buf[this.end++] = HASH;
    this.buf[this.end++] = b ? LOWER_T : LOWER_F;
    this.writeCrlf();
  }

  /** Text with a three-character format (`txt`, `mkd`): RESP3 `=<len>\r\n<format>:<text>`, RESP2 a bulk string of the text. */
  verbatim(text: string, format = 'txt'): void {
    if (!VERBATIM_FORMAT.test(format)) throw new InvalidArgumentError(`verbatim format must be three printable ASCII characters other than ':', got '${format}'`);
    if (this.protocol === 2) {
      this.bulkText(text);
      return;
    }
    const size = Buffer.byteLength(text);
    this.reserve(MAX_HEADER + 4 + size + 2);
    this.writeHeader(EQUALS, 4 + size);
    this.end += this.buf.write(format, this.end, 'latin1');
    this.buf[this.end++] = COLON;
    this.end += this.buf.write(text, this.end);
    this.writeCrlf();
  }

  /** The bytes written since the last take(), and resets; a Buffer the caller may hand to socket.write. */
  take(): Buffer {
    const out = Buffer.from(this.bufData, this.bufOffset + this.start, this.end - this.start);
    if (this.buf.length > MAX_RETAINED) {
      this.setBuffer(EMPTY);
      this.end = 0;
    }
    this.start = this.end;
    return out;
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.end - this.start;
  }

  private setBuffer(buf: Buffer): void {
    this.buf = buf;
    this.bufData = buf.buffer;
    this.bufOffset = buf.byteOffset;
  }

  /** Makes room for `bytes` more at end. */
  private reserve(bytes: number): void {
    if (this.end + bytes > this.buf.length) this.grow(bytes);
  }

  /**
   * Moves the untaken bytes into a new buffer with room for `bytes` more. Sizing it at twice the
   * untaken bytes keeps a batch's copying linear in its size; a single big reply gets just its size.
   */
  private grow(bytes: number): void {
    const untaken = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(MIN_CAPACITY, 2 * untaken + bytes));
    this.buf.copy(next, 0, this.start, this.end);
    this.setBuffer(next);
    this.start = 0;
    this.end = untaken;
  }

  /** A type byte, text and CRLF. */
  private line(prefix: number, text: string): void {
    this.reserve(1 + 3 * text.length + 2);
    this.buf[this.end++] = prefix;
    this.writeLineText(text);
    this.writeCrlf();
  }

  /**
   * Writes text as UTF-8 with CR and LF turned into spaces, into room already reserved (3 bytes
   * per UTF-16 unit). ASCII, nearly all of it, is copied here rather than through a native call.
   */
  private writeLineText(text: string): void {
    const buf = this.buf;
    const start = this.end;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.end = start + buf.write(text.replace(LINE_BREAKS, ' '), start);
        return;
      }
      buf[start + i] = c === CR || c === LF ? SPACE : c;
    }
    this.end = start + text.length;
  }

  private bulkText(text: string): void {
    const size = Buffer.byteLength(text);
    this.reserve(MAX_HEADER + size + 2);
    this.writeHeader(DOLLAR, size);
    this.end += this.buf.write(text, this.end);
    this.writeCrlf();
  }

  private null(): void {
    this.reserve(3);
    this.buf[this.end++] = UNDERSCORE;
    this.writeCrlf();
  }

  private header(prefix: number, n: number): void {
    this.reserve(MAX_HEADER);
    this.writeHeader(prefix, n);
  }

  /** Writes a type byte, the safe integer n in decimal and CRLF, into room already reserved. */
  private writeHeader(prefix: number, n: number): void {
    const buf = this.buf;
    buf[this.end++] = prefix;
    if (n < 0) {
      buf[this.end++] = MINUS;
      n = -n;
    }
    let p = this.end + decimalWidth(n);
    this.end = p;
    do {
      const q = Math.floor(n / 10);
      buf[--p] = ZERO + (n - q * 10);
      n = q;
    } while (n > 0);
    this.writeCrlf();
  }

  private writeCrlf(): void {
    this.buf[this.end++] = CR;
    this.buf[this.end++] = LF;
  }
}

/** Number of decimal digits of the non-negative safe integer n. */
function decimalWidth(n: number): number {
  let width = 1;
  for (let bound = 10; n >= bound; bound *= 10) width++;
  return width;
}

function integerText(n: number | bigint): string {
  if (typeof n === 'number' && !Number.isInteger(n)) throw new InvalidArgumentError(`an integer reply needs an integer, got ${n}`);
  return BigInt(n).toString();
}

/**
 * d as Redis (7.2 and later) prints a double: "nan", "inf", "-inf", "0", "-0"; an integral value
 * within ±2^62 as that integer; anything else as its shortest round-trip digits D with |d| = D×10^k,
 * laid out the way Redis's fpconv does (e is the exponent of the leading digit, e = k + D.length - 1):
 * plainly when k >= 0 and e < D.length + 7, or when k < 0 and (k > -7 or |e| < 4); otherwise in
 * exponent form, `1.5e-7`, `1e+20`, with no padding of the exponent. (Redis's Grisu2 digits are
 * the shortest for all but a rare double, where it prints one digit more.)
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (Number.isInteger(d) && Math.abs(d) <= 2 ** 62) return d.toFixed(0);
  const sign = d < 0 ? '-' : '';
  const [mantissa, exponent] = Math.abs(d).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const e = Number(exponent);
  const k = e - digits.length + 1;
  if (k >= 0 && e < digits.length + 7) return sign + digits + '0'.repeat(k);
  if (k < 0 && (k > -7 || Math.abs(e) < 4)) {
    if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
    return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0]}${fraction}e${e < 0 ? '-' : '+'}${Math.abs(e)}`;
}
