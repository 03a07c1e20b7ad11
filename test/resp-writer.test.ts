import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidArgumentError } from '../src/errors.js';
import { ReplyWriter, formatDouble, type Protocol } from '../src/server/resp/writer.js';

/** The bytes one batch of replies encodes to, in latin1 so each byte is one character. */
function encode(protocol: Protocol, write: (w: ReplyWriter) => void): string {
  const writer = new ReplyWriter(protocol);
  write(writer);
  const length = writer.length;
  const out = writer.take();
  expect(out.length).toBe(length);
  expect(writer.length).toBe(0);
  return out.toString('latin1');
}

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('ReplyWriter: bytes of each reply', () => {
  // [name, call, RESP2 bytes, RESP3 bytes]
  const cases: [string, (w: ReplyWriter) => void, string, string][] = [
    ['simple', (w) => w.simple('OK'), '+OK\r\n', '+OK\r\n'],
    ['simple with line breaks', (w) => w.simple('a\r\nb\nc'), '+a  b c\r\n', '+a  b c\r\n'],
    ['error', (w) => w.error('ERR unknown command'), '-ERR unknown command\r\n', '-ERR unknown command\r\n'],
    ['error with line breaks', (w) => w.error('ERR bad\r\nthing'), '-ERR bad  thing\r\n', '-ERR bad  thing\r\n'],
    ['error in UTF-8', (w) => w.error('ERR é\n€'), utf8('-ERR é €\r\n'), utf8('-ERR é €\r\n')],
    ['integer 0', (w) => w.integer(0), ':0\r\n', ':0\r\n'],
    ['integer -0', (w) => w.integer(-0), ':0\r\n', ':0\r\n'],
    ['integer -42', (w) => w.integer(-42), ':-42\r\n', ':-42\r\n'],
    ['integer 1000', (w) => w.integer(1000), ':1000\r\n', ':1000\r\n'],
    ['integer 2^53-1', (w) => w.integer(2 ** 53 - 1), ':9007199254740991\r\n', ':9007199254740991\r\n'],
    ['integer -(2^53-1)', (w) => w.integer(-(2 ** 53 - 1)), ':-9007199254740991\r\n', ':-9007199254740991\r\n'],
    ['integer 2^60 (unsafe number)', (w) => w.integer(2 ** 60), ':1152921504606846976\r\n', ':1152921504606846976\r\n'],
    ['integer 2^63-1n', (w) => w.integer(2n ** 63n - 1n), ':9223372036854775807\r\n', ':9223372036854775807\r\n'],
    ['integer -2^63n', (w) => w.integer(-(2n ** 63n)), ':-9223372036854775808\r\n', ':-9223372036854775808\r\n'],
    ['bulk empty', (w) => w.bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['bulk string in UTF-8', (w) => w.bulk('héllo'), utf8('$6\r\nhéllo\r\n'), utf8('$6\r\nhéllo\r\n')],
    ['bulk bytes', (w) => w.bulk(new Uint8Array([0, 13, 10, 255])), '$4\r\n\x00\r\n\xff\r\n', '$4\r\n\x00\r\n\xff\r\n'],
    ['bulk of 10 bytes', (w) => w.bulk('0123456789'), '$10\r\n0123456789\r\n', '$10\r\n0123456789\r\n'],
    ['nil', (w) => w.nil(), '$-1\r\n', '_\r\n'],
    ['nilArray', (w) => w.nilArray(), '*-1\r\n', '_\r\n'],
    ['arrayHeader', (w) => w.arrayHeader(3), '*3\r\n', '*3\r\n'],
    ['arrayHeader 0', (w) => w.arrayHeader(0), '*0\r\n', '*0\r\n'],
    ['mapHeader', (w) => w.mapHeader(2), '*4\r\n', '%2\r\n'],
    ['setHeader', (w) => w.setHeader(2), '*2\r\n', '~2\r\n'],
    ['double 1.5', (w) => w.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['double 10', (w) => w.double(10), '$2\r\n10\r\n', ',10\r\n'],
    ['double inf', (w) => w.double(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
    ['double -inf', (w) => w.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['double nan', (w) => w.double(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
    ['boolean true', (w) => w.boolean(true), ':1\r\n', '#t\r\n'],
    ['boolean false', (w) => w.boolean(false), ':0\r\n', '#f\r\n'],
    ['verbatim', (w) => w.verbatim('hi'), '$2\r\nhi\r\n', '=6\r\ntxt:hi\r\n'],
    ['verbatim markdown', (w) => w.verbatim('# é', 'mkd'), utf8('$4\r\n# é\r\n'), utf8('=8\r\nmkd:# é\r\n')],
  ];
  for (const [name, write, resp2, resp3] of cases) {
    it(name, () => {
      expect(encode(2, write)).toBe(resp2);
      expect(encode(3, write)).toBe(resp3);
    });
  }

  it('encodes in the protocol set at the time of each reply', () => {
    const writer = new ReplyWriter();
    expect(writer.protocol).toBe(2);
    writer.nil();
    writer.protocol = 3;
    writer.nil();
    expect(writer.take().toString('latin1')).toBe('$-1\r\n_\r\n');
  });

  it('rejects an integer reply of a non-integer and a verbatim format not of three characters', () => {
    const writer = new ReplyWriter(3);
    expect(() => writer.integer(1.5)).toThrow(InvalidArgumentError);
    expect(() => writer.integer(NaN)).toThrow(InvalidArgumentError);
    expect(() => writer.verbatim('x', 'text')).toThrow(InvalidArgumentError);
    expect(() => writer.verbatim('x', 'a:b')).toThrow(InvalidArgumentError);
    expect(writer.length).toBe(0);
  });
});

describe('formatDouble: Redis 7.2 d2string', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-3, '-3'],
    [1.5, '1.5'],
    [0.1, '0.1'],
    [-0.25, '-0.25'],
    [123.456, '123.456'],
    [1e15, '1000000000000000'],
    [2 ** 62, '4611686018427387904'],
    [-(2 ** 62), '-4611686018427387904'],
    [2 ** 62 + 1024, '4611686018427389000'],
    [2 ** 63, '9223372036854776000'],
    [1e20, '1e+20'],
    [1.5e300, '1.5e+300'],
    [-1.7976931348623157e308, '-1.7976931348623157e+308'],
    [0.0001, '0.0001'],
    [0.000001, '0.000001'],
    [0.000123, '0.000123'],
    [1e-7, '1e-7'],
    [1.5e-7, '1.5e-7'],
    [0.0000123, '1.23e-5'],
    [0.001234567, '0.001234567'],
    [1234.5678901, '1234.5678901'],
    [12345.678901, '12345.678901'],
    [12345.6789012, '1.23456789012e+4'],
    [5e-324, '5e-324'],
  ];
  for (const [d, expected] of cases) {
    it(`${d} -> ${expected}`, () => expect(formatDouble(d)).toBe(expected));
  }

  it('reads back as the same double', () => {
    fc.assert(
      fc.property(fc.double(), (d) => {
        expect(Object.is(parseDouble(formatDouble(d)), d), formatDouble(d)).toBe(true);
      }),
    );
  });
});

/** A double as Redis prints it, parsed back. */
function parseDouble(text: string): number {
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

describe('ReplyWriter: take()', () => {
  it('returns buffers that later writes never change, across growth', () => {
    const writer = new ReplyWriter(2);
    writer.simple('first');
    const first = writer.take();
    writer.simple('second');
    const second = writer.take();
    // Not taken yet when the bulk string below outgrows the buffer: it must move along.
    writer.simple('pending');
    writer.bulk(Buffer.alloc(100_000, 0x61));
    writer.integer(7);
    const third = writer.take();
    for (let i = 0; i < 1000; i++) writer.bulk('overwrite?');
    writer.take();
    expect(first.toString('latin1')).toBe('+first\r\n');
    expect(second.toString('latin1')).toBe('+second\r\n');
    expect(third.toString('latin1')).toBe(`+pending\r\n$100000\r\n${'a'.repeat(100_000)}\r\n:7\r\n`);
    expect(writer.take().length).toBe(0);
  });

  it('keeps writing correctly after a reply larger than the buffers it keeps', () => {
    const writer = new ReplyWriter(2);
    const big = Buffer.alloc(3 * 1024 * 1024, 0x62);
    writer.bulk(big);
    const taken = writer.take();
    writer.simple('OK');
    expect(writer.take().toString('latin1')).toBe('+OK\r\n');
    expect(taken.subarray(taken.indexOf('\n') + 1, -2).equals(big)).toBe(true);
  });
});

// A model of replies, a writer of the model, and a reader of RESP2/RESP3 replies: what is written reads back as the model.

type Reply =
  | { kind: 'simple'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'integer'; value: number | bigint }
  | { kind: 'bulk'; value: Uint8Array | string }
  | { kind: 'nil' }
  | { kind: 'nilArray' }
  | { kind: 'array'; items: Reply[] }
  | { kind: 'map'; pairs: [Reply, Reply][] }
  | { kind: 'set'; items: Reply[] }
  | { kind: 'double'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'verbatim'; format: string; text: string };

function emit(w: ReplyWriter, reply: Reply): void {
  switch (reply.kind) {
    case 'simple':
      return w.simple(reply.text);
    case 'error':
      return w.error(reply.text);
    case 'integer':
      return w.integer(reply.value);
    case 'bulk':
      return w.bulk(reply.value);
    case 'nil':
      return w.nil();
    case 'nilArray':
      return w.nilArray();
    case 'array':
      w.arrayHeader(reply.items.length);
      return reply.items.forEach((item) => emit(w, item));
    case 'map':
      w.mapHeader(reply.pairs.length);
      return reply.pairs.forEach(([k, v]) => (emit(w, k), emit(w, v)));
    case 'set':
      w.setHeader(reply.items.length);
      return reply.items.forEach((item) => emit(w, item));
    case 'double':
      return w.double(reply.value);
    case 'boolean':
      return w.boolean(reply.value);
    case 'verbatim':
      return w.verbatim(reply.text, reply.format);
  }
}

/** What a client reads: the wire's types, values as strings (bulk bytes in latin1), doubles as numbers. */
type Read =
  | { type: '+' | '-' | ':' | '$' | '='; value: string }
  | { type: ',' ; value: number }
  | { type: '#'; value: boolean }
  | { type: '*' | '%' | '~'; items: Read[] }
  | { type: 'null' | 'null$' | 'null*' };

/** A minimal RESP2/RESP3 reply reader. */
class Reader {
  private pos = 0;
  constructor(private readonly bytes: Buffer) {}

  get done(): boolean {
    return this.pos === this.bytes.length;
  }

  read(): Read {
    const type = String.fromCharCode(this.bytes[this.pos]!);
    const line = this.line();
    switch (type) {
      case '+':
      case '-':
        return { type, value: Buffer.from(line, 'latin1').toString('utf8') };
      case ':':
        return { type, value: String(BigInt(line)) };
      case ',':
        return { type, value: parseDouble(line) };
      case '#':
        expect(['t', 'f']).toContain(line);
        return { type, value: line === 't' };
      case '_':
        expect(line).toBe('');
        return { type: 'null' };
      case '$':
      case '=':
        return line === '-1' ? { type: 'null$' } : { type, value: this.data(Number(line)) };
      case '*':
      case '%':
      case '~': {
        if (line === '-1') return { type: 'null*' };
        const count = Number(line) * (type === '%' ? 2 : 1);
        return { type, items: Array.from({ length: count }, () => this.read()) };
      }
      default:
        throw new Error(`unknown reply type ${JSON.stringify(type)}`);
    }
  }

  /** The rest of the line after the type byte, up to CRLF. */
  private line(): string {
    const end = this.bytes.indexOf('\r\n', this.pos);
    expect(end).toBeGreaterThan(this.pos);
    const line = this.bytes.toString('latin1', this.pos + 1, end);
    this.pos = end + 2;
    return line;
  }

  private data(length: number): string {
    const value = this.bytes.toString('latin1', this.pos, this.pos + length);
    expect(this.bytes.toString('latin1', this.pos + length, this.pos + length + 2)).toBe('\r\n');
    this.pos += length + 2;
    return value;
  }
}

const latin1 = (value: Uint8Array | string): string => Buffer.from(value).toString('latin1');
const oneLine = (text: string): string => text.replace(/[\r\n]/g, ' ');

/** The reply as a client of `protocol` must read it. Doubles in RESP2 are bulk strings, checked by expectRead. */
function expected(reply: Reply, protocol: Protocol): Read {
  const resp3 = protocol === 3;
  switch (reply.kind) {
    case 'simple':
      return { type: '+', value: oneLine(reply.text) };
    case 'error':
      return { type: '-', value: oneLine(reply.text) };
    case 'integer':
      return { type: ':', value: String(reply.value) };
    case 'bulk':
      return { type: '$', value: latin1(reply.value) };
    case 'nil':
      return { type: resp3 ? 'null' : 'null$' };
    case 'nilArray':
      return { type: resp3 ? 'null' : 'null*' };
    case 'array':
      return { type: '*', items: reply.items.map((r) => expected(r, protocol)) };
    case 'map':
      return { type: resp3 ? '%' : '*', items: reply.pairs.flat().map((r) => expected(r, protocol)) };
    case 'set':
      return { type: resp3 ? '~' : '*', items: reply.items.map((r) => expected(r, protocol)) };
    case 'double':
      return { type: ',', value: reply.value };
    case 'boolean':
      return resp3 ? { type: '#', value: reply.value } : { type: ':', value: reply.value ? '1' : '0' };
    case 'verbatim':
      return resp3 ? { type: '=', value: `${reply.format}:${latin1(reply.text)}` } : { type: '$', value: latin1(reply.text) };
  }
}

/** Asserts `read` is `want`, where a RESP2 double is wanted as a bulk string that parses back to it. */
function expectRead(read: Read, want: Read, protocol: Protocol): void {
  if (want.type === ',') {
    const text = read.type === '$' && protocol === 2 ? parseDouble(read.value) : read.type === ',' ? read.value : undefined;
    expect(Object.is(text, want.value), `${JSON.stringify(read)} is not the double ${want.value}`).toBe(true);
  } else if ('items' in want) {
    expect(read.type).toBe(want.type);
    const items = 'items' in read ? read.items : [];
    expect(items.length).toBe(want.items.length);
    want.items.forEach((w, i) => expectRead(items[i]!, w, protocol));
  } else {
    expect(read).toEqual(want);
  }
}

const textArb = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('\r', '\n', '\r\n')), { maxLength: 4 }).map((p) => p.join(''));

const replyArb: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('simple' as const), text: textArb }),
    fc.record({ kind: fc.constant('error' as const), text: textArb.map((t) => `ERR ${t}`) }),
    fc.record({
      kind: fc.constant('integer' as const),
      value: fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    }),
    fc.record({
      kind: fc.constant('bulk' as const),
      // Now and then a bulk string big enough to make the writer grow its buffer mid-batch.
      value: fc.oneof({ weight: 10, arbitrary: fc.uint8Array({ maxLength: 40 }) }, { weight: 10, arbitrary: textArb }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 4000, maxLength: 12000 }) }),
    }),
    fc.constant({ kind: 'nil' as const }),
    fc.constant({ kind: 'nilArray' as const }),
    fc.record({ kind: fc.constant('array' as const), items: fc.array(tie('reply'), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('map' as const), pairs: fc.array(fc.tuple(tie('reply'), tie('reply')), { maxLength: 3 }) }),
    fc.record({ kind: fc.constant('set' as const), items: fc.array(tie('reply'), { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('double' as const), value: fc.double() }),
    fc.record({ kind: fc.constant('boolean' as const), value: fc.boolean() }),
    fc.record({ kind: fc.constant('verbatim' as const), format: fc.constantFrom('txt', 'mkd'), text: textArb }),
  ),
})).reply;

describe('ReplyWriter: read back by a RESP reader', () => {
  it('writes any replies so that a client reads them back, whatever the protocol and take() points', () => {
    fc.assert(
      fc.property(fc.constantFrom<Protocol>(2, 3), fc.array(fc.tuple(replyArb, fc.boolean()), { maxLength: 30 }), (protocol, replies) => {
        const writer = new ReplyWriter(protocol);
        const taken: Buffer[] = [];
        const snapshots: Buffer[] = [];
        const keep = (b: Buffer): void => {
          taken.push(b);
          snapshots.push(Buffer.from(b));
        };
        for (const [reply, takeAfter] of replies) {
          emit(writer, reply);
          if (takeAfter) keep(writer.take());
        }
        keep(writer.take());
        // Every Buffer handed out still holds what it held when taken.
        taken.forEach((b, i) => expect(b.equals(snapshots[i]!)).toBe(true));
        const reader = new Reader(Buffer.concat(taken));
        for (const [reply] of replies) expectRead(reader.read(), expected(reply, protocol), protocol);
        expect(reader.done).toBe(true);
      }),
    );
  });
});
