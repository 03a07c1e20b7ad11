import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError, RespParser, type ParserLimits } from '../src/server/resp/parser.js';

const REDIS_LIMITS: ParserLimits = { maxBulkLength: 512 * 1024 * 1024, maxInlineLength: 64 * 1024, maxArguments: 1024 * 1024 };

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A request as clients send it: a multibulk array of bulk strings. */
function multibulk(args: Uint8Array[]): Buffer {
  const parts: Buffer[] = [bytes(`*${args.length}\r\n`)];
  for (const arg of args) parts.push(bytes(`$${arg.length}\r\n`), Buffer.from(arg), bytes('\r\n'));
  return Buffer.concat(parts);
}

/** Cuts bytes into chunks whose sizes cycle through `sizes`. */
function chunked(data: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Requests as strings of their bytes (latin1), for readable comparison. */
const text = (requests: Uint8Array[][]): string[][] => requests.map((args) => args.map((arg) => Buffer.from(arg).toString('latin1')));

interface Outcome {
  requests: string[][];
  pending: number;
  error?: string;
}

/** Pushes every chunk into one parser: the requests it returned, the bytes it holds after, or the error it threw. */
function run(chunks: Buffer[], limits: ParserLimits = REDIS_LIMITS): Outcome {
  const parser = new RespParser(limits);
  const requests: Uint8Array[][] = [];
  try {
    for (const chunk of chunks) requests.push(...parser.push(chunk));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    expect(err.code).toBe('ERR_PROTOCOL');
    return { requests: text(requests), pending: parser.pending, error: err.message };
  }
  return { requests: text(requests), pending: parser.pending };
}

/** The error parsing `input` throws, pushed whole and then one byte at a time (it must be the same). */
function errorOf(input: Buffer, limits: ParserLimits = REDIS_LIMITS): string | undefined {
  const whole = run([input], limits).error;
  expect(run(chunked(input, [1]), limits).error).toBe(whole);
  return whole;
}

const chunkSizesArb = fc.oneof(fc.constant([1]), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }));

const argArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.constantFrom('', '\r\n', '\r', '\n', '$3\r\n', '*1\r\n', '"\'').map((s) => bytes(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 2000 }) },
);

describe('RespParser: multibulk requests', () => {
  it('parses back any requests, whatever the chunk boundaries, and holds nothing after', () => {
    const itemArb = fc.oneof(
      { weight: 8, arbitrary: fc.array(argArb, { minLength: 1, maxLength: 8 }) },
      // Requests Redis skips: an empty or null array, and a blank inline line.
      { weight: 1, arbitrary: fc.constantFrom('*0\r\n', '*-1\r\n', '\r\n', ' \t \r\n', '\n') },
    );
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 12 }), chunkSizesArb, (items, sizes) => {
        const expected = items.filter((item): item is Uint8Array[] => typeof item !== 'string');
        const stream = Buffer.concat(items.map((item) => (typeof item === 'string' ? bytes(item) : multibulk(item))));
        expect(run(chunked(stream, sizes))).toEqual({ requests: text(expected), pending: 0 });
      }),
    );
  });

  it('returns arguments that lie within one chunk as views of it, without copying, but the name, a copy like requests share', () => {
    const chunk = multibulk([bytes('SET'), bytes('key'), bytes('value')]);
    const requests = new RespParser(REDIS_LIMITS).push(chunk);
    expect(text(requests)).toEqual([['SET', 'key', 'value']]);
    chunk.fill(0x58);
    expect(text(requests)).toEqual([['SET', 'XXX', 'XXXXX']]);
  });

  it('gives a run of requests with the same name one copy of it, and each other name its own', () => {
    const parser = new RespParser(REDIS_LIMITS);
    const first = parser.push(Buffer.concat([multibulk([bytes('GET'), bytes('a')]), multibulk([bytes('GET'), bytes('b')])]));
    const later = parser.push(Buffer.concat([multibulk([bytes('GET'), bytes('c')]), multibulk([bytes('get'), bytes('d')]), multibulk([bytes('GEX'), bytes('e')])]));
    const requests = [...first, ...later];
    expect(text(requests)).toEqual([['GET', 'a'], ['GET', 'b'], ['GET', 'c'], ['get', 'd'], ['GEX', 'e']]);
    expect(requests[1]![0]).toBe(requests[0]![0]);
    expect(requests[2]![0]).toBe(requests[0]![0]);
    expect(requests[3]![0]).not.toBe(requests[0]![0]);
    expect(requests[4]![0]).not.toBe(requests[3]![0]);
    // A first argument too long to be a command name is a view, like the others.
    const long = 'X'.repeat(33);
    const chunk = multibulk([bytes(long)]);
    const [[arg]] = parser.push(chunk) as [[Uint8Array]];
    expect(arg.buffer).toBe(chunk.buffer);
  });

  it('copies only what a split request keeps (the argument split over chunks, those read before it), returning views of each chunk for the rest', () => {
    const data = multibulk([bytes('SET'), bytes('key'), bytes('value')]);
    const cut = data.indexOf('alue');
    const parser = new RespParser(REDIS_LIMITS);
    expect(parser.push(data.subarray(0, cut))).toEqual([]);
    const last = Buffer.concat([data.subarray(cut), multibulk([bytes('GET'), bytes('key')])]);
    const requests = parser.push(last);
    expect(text(requests)).toEqual([
      ['SET', 'key', 'value'],
      ['GET', 'key'],
    ]);
    data.fill(0x58);
    last.fill(0x58);
    expect(text(requests)).toEqual([
      ['SET', 'key', 'value'],
      ['GET', 'XXX'],
    ]);
  });

  it('keeps the bytes of a half-sent request as a copy of its own, not as a view of the larger buffer the chunk lies in', () => {
    const data = multibulk([bytes('SET'), bytes('key'), bytes('value')]);
    for (const cut of [data.indexOf('SET') + 1, data.indexOf('$5'), data.indexOf('alue')]) {
      // Each chunk a small view of a slab that later chunks share, as client-socket.ts hands them out.
      const slab = Buffer.alloc(64 * 1024);
      data.copy(slab, 0, 0, cut);
      const parser = new RespParser(REDIS_LIMITS);
      expect(parser.push(slab.subarray(0, cut))).toEqual([]);
      const second = Buffer.alloc(64 * 1024);
      data.copy(second, 0, cut, cut + 2);
      expect(parser.push(second.subarray(0, 2))).toEqual([]);
      // The slabs are reused for later chunks: what the parser kept must not change with them.
      slab.fill(0x58);
      second.fill(0x58);
      expect(text(parser.push(data.subarray(cut + 2)))).toEqual([['SET', 'key', 'value']]);
    }
  });

  it('counts as pending the arguments read and the bytes kept of an incomplete request', () => {
    const data = multibulk([bytes('SET'), bytes('key'), bytes('value')]);
    const parser = new RespParser(REDIS_LIMITS);
    const cut = data.indexOf('va');
    expect(parser.push(data.subarray(0, cut + 2))).toEqual([]);
    // SET and key are read (6 bytes); "va" waits for the rest of its argument.
    expect(parser.pending).toBe(6 + 2);
    expect(text(parser.push(data.subarray(cut + 2)))).toEqual([['SET', 'key', 'value']]);
    expect(parser.pending).toBe(0);
  });

  it('accepts a 100 MiB argument arriving in 64 KiB chunks with one copy, in well under a few seconds', () => {
    const size = 100 * 1024 * 1024;
    const value = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4096) value.writeUInt32LE(i, i);
    const header = bytes(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${size}\r\n`);
    const chunks = [header, ...chunked(value, [64 * 1024])];
    chunks.push(Buffer.concat([chunks.pop()!, bytes('\r\n*1\r\n$4\r\nPING\r\n')]));

    const parser = new RespParser(REDIS_LIMITS);
    const started = performance.now();
    for (const chunk of chunks.slice(0, -1)) expect(parser.push(chunk)).toEqual([]);
    expect(parser.pending).toBe(4 + size - 64 * 1024);
    const requests = parser.push(chunks.at(-1)!);
    const elapsed = performance.now() - started;

    expect(requests.length).toBe(2);
    expect(Buffer.compare(requests[0]![2]!, value)).toBe(0);
    expect(text([requests[1]!])).toEqual([['PING']]);
    expect(parser.pending).toBe(0);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('RespParser: inline commands', () => {
  const cases: [string, string[][]][] = [
    ['SET key value\r\n', [['SET', 'key', 'value']]],
    ['  GET\t\tkey  \r\n', [['GET', 'key']]],
    ['PING\n', [['PING']]],
    ['\r\n\n  \r\nPING\r\n\r\n', [['PING']]],
    ['SET k "hello world"\r\n', [['SET', 'k', 'hello world']]],
    ['ECHO "a\\n\\r\\t\\b\\a\\\\\\"\\qz"\r\n', [['ECHO', 'a\n\r\t\b\x07\\"qz']]],
    ['ECHO "\\x41\\x7a\\xFF\\x00"\r\n', [['ECHO', 'Az\xff\x00']]],
    ['ECHO "\\xg1\\x4"\r\n', [['ECHO', 'xg1x4']]],
    ["ECHO 'it\\'s' 'a\\nb\"'\r\n", [['ECHO', "it's", 'a\\nb"']]],
    ['ECHO foo"bar baz" x\'y z\'\r\n', [['ECHO', 'foobar baz', 'xy z']]],
    ['ECHO "" \'\'\r\n', [['ECHO', '', '']]],
    ['ECHO "a"\tb\r\n', [['ECHO', 'a', 'b']]],
    ['SET a b\r\n*1\r\n$4\r\nPING\r\nGET a\r\n', [['SET', 'a', 'b'], ['PING'], ['GET', 'a']]],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const data = bytes(input);
      expect(run([data])).toEqual({ requests: expected, pending: 0 });
      expect(run(chunked(data, [1]))).toEqual({ requests: expected, pending: 0 });
    });
  }

  it('returns unquoted arguments as views of the chunk, quoted ones as decoded copies', () => {
    const chunk = bytes('SET key "value"\r\n');
    const requests = new RespParser(REDIS_LIMITS).push(chunk);
    chunk.fill(0x58);
    expect(text(requests)).toEqual([['XXX', 'XXX', 'value']]);
  });

  /** An argument written the way a person (or redis-cli) may type it: plain, double-quoted with escapes, or single-quoted. */
  const typedArgArb = fc.uint8Array({ maxLength: 16 }).chain((arg) => {
    const encodings: fc.Arbitrary<string>[] = [fc.tuple(fc.boolean(), fc.boolean()).map(([named, upper]) => doubleQuoted(arg, named, upper))];
    const plain = Buffer.from(arg).toString('latin1');
    if (arg.length > 0 && /^[^\s"']+$/.test(plain)) encodings.push(fc.constant(plain));
    if (!arg.includes(10) && arg.at(-1) !== 0x5c) encodings.push(fc.constant(`'${plain.replaceAll("'", "\\'")}'`));
    return fc.tuple(fc.constant(arg), fc.oneof(...encodings));
  });

  it('parses back any typed arguments, whatever the separators and chunk boundaries', () => {
    const lineArb = fc.tuple(
      fc.array(typedArgArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.constantFrom(' ', '\t', '  ', ' \t '), { minLength: 7, maxLength: 7 }),
      fc.constantFrom('\r\n', '\n'),
    );
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 6 }), chunkSizesArb, (lines, sizes) => {
        const expected = lines.map(([args]) => args.map(([arg]) => arg));
        const stream = lines.map(([args, gaps, end]) => gaps[0] + args.map(([, typed], i) => typed + gaps[i + 1]!).join('') + end).join('');
        expect(run(chunked(bytes(stream), sizes))).toEqual({ requests: text(expected), pending: 0 });
      }),
    );
  });
});

/** arg in double quotes: printable bytes as themselves, others as C escapes (when `named`) or \xHH. */
function doubleQuoted(arg: Uint8Array, named: boolean, upper: boolean): string {
  const names: Record<number, string> = { 10: '\\n', 13: '\\r', 9: '\\t', 8: '\\b', 7: '\\a', 34: '\\"', 92: '\\\\' };
  let out = '"';
  for (const b of arg) {
    if (names[b] !== undefined && (named || b === 34 || b === 92)) out += names[b];
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`;
  }
  return `${out}"`;
}

describe('RespParser: malformed input', () => {
  const big = 64 * 1024 + 1;
  const cases: [string, string][] = [
    ['*abc\r\n', 'Protocol error: invalid multibulk length'],
    ['*01\r\n', 'Protocol error: invalid multibulk length'],
    ['*-0\r\n', 'Protocol error: invalid multibulk length'],
    ['*+1\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\n', 'Protocol error: invalid multibulk length'],
    ['*1048577\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\r\n$abc\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$3x\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$9999999999999999999\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$536870913\r\n', 'Protocol error: invalid bulk length'],
    ['*2\r\n$3\r\nGET\r\nkey\r\n', "Protocol error: expected '$', got 'k'"],
    ['*1\r\n:1\r\n', "Protocol error: expected '$', got ':'"],
    ['A'.repeat(big), 'Protocol error: too big inline request'],
    [`GET ${'A'.repeat(big)}\r\n`, 'Protocol error: too big inline request'],
    [`*${'1'.repeat(big)}`, 'Protocol error: too big mbulk count string'],
    [`*1${' '.repeat(big)}\r\n`, 'Protocol error: too big mbulk count string'],
    [`*1\r\n$${'1'.repeat(big)}`, 'Protocol error: too big bulk count string'],
    ['SET k "v\r\n', 'Protocol error: unbalanced quotes in request'],
    ["SET k 'v\r\n", 'Protocol error: unbalanced quotes in request'],
    ['SET k "v"w\r\n', 'Protocol error: unbalanced quotes in request'],
    ["SET k 'v'w\r\n", 'Protocol error: unbalanced quotes in request'],
    ['SET k "v\\"\r\n', 'Protocol error: unbalanced quotes in request'],
    ['SET k "v\\\r\n', 'Protocol error: unbalanced quotes in request'],
    ['*1\r\n$3\r\nabcd\r\n', 'Protocol error: expected CRLF after bulk argument'],
    ['*1\r\n$3\r\nabc\rx', 'Protocol error: expected CRLF after bulk argument'],
    ['*1\r\n$3\r\nabc\n\r', 'Protocol error: expected CRLF after bulk argument'],
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)}: ${message}`, () => {
      expect(errorOf(bytes(input))).toBe(message);
    });
  }

  it('keeps waiting for a header or inline line shorter than the limit', () => {
    expect(run([bytes(`*1\r\n$${'1'.repeat(100)}`)])).toEqual({ requests: [], pending: 101 });
    expect(run([bytes('GET key')])).toEqual({ requests: [], pending: 7 });
  });

  it('gives the same requests, error or pending bytes for any input whatever the chunk boundaries', () => {
    const limits: ParserLimits = { maxBulkLength: 12, maxInlineLength: 10, maxArguments: 3 };
    const pieces = ['*', '$', '\r\n', '\r', '\n', '-', '0', '1', '2', '3', '9', ' ', '\t', '"', "'", '\\', 'x', 'a', 'F', '*1\r\n', '*2\r\n', '$1\r\n', '$3\r\n', '$0\r\n\r\n'];
    const inputArb = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((p) => bytes(p.join('')));
    fc.assert(
      fc.property(inputArb, chunkSizesArb, (input, sizes) => {
        const whole = run([input], limits);
        const split = run(chunked(input, sizes), limits);
        if (whole.error === undefined) expect(split).toEqual(whole);
        else expect(split.error).toBe(whole.error);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('RespParser: limits', () => {
  it('rejects a bulk length over maxBulkLength as soon as its header arrives, before its bytes', () => {
    const limits = { ...REDIS_LIMITS, maxBulkLength: 1000 };
    const parser = new RespParser(limits);
    expect(() => parser.push(bytes('*1\r\n$1001\r\n'))).toThrow('Protocol error: invalid bulk length');
    const ok = run([bytes('*1\r\n$1000\r\n'), Buffer.alloc(1000, 0x61), bytes('\r\n')], limits);
    expect(ok).toEqual({ requests: [['a'.repeat(1000)]], pending: 0 });
  });

  it('rejects more arguments than maxArguments when the count arrives', () => {
    const limits = { ...REDIS_LIMITS, maxArguments: 5 };
    expect(run([bytes('*5\r\n')], limits)).toEqual({ requests: [], pending: 0 });
    expect(errorOf(bytes('*6\r\n'), limits)).toBe('Protocol error: invalid multibulk length');
  });

  it('limits a line to maxInlineLength bytes before its LF, whether or not the LF has arrived', () => {
    const limits = { ...REDIS_LIMITS, maxInlineLength: 10 };
    expect(run([bytes('PING 67890\n')], limits).requests).toEqual([['PING', '67890']]);
    expect(run([bytes('PING 6789\r\n')], limits).requests).toEqual([['PING', '6789']]);
    expect(run([bytes('PING 67890')], limits)).toEqual({ requests: [], pending: 10 });
    expect(errorOf(bytes('PING 678901\n'), limits)).toBe('Protocol error: too big inline request');
    expect(errorOf(bytes('PING 67890\r\n'), limits)).toBe('Protocol error: too big inline request');
    expect(errorOf(bytes('PING 678901'), limits)).toBe('Protocol error: too big inline request');
  });

  it('applies maxInlineLength to header lines', () => {
    const limits = { ...REDIS_LIMITS, maxInlineLength: 4 };
    expect(run([bytes('*12\r\n')], limits)).toEqual({ requests: [], pending: 0 });
    expect(errorOf(bytes('*123\r\n'), limits)).toBe('Protocol error: too big mbulk count string');
    expect(errorOf(bytes('*1\r\n$1234'), limits)).toBe('Protocol error: too big bulk count string');
  });
});
