// The varve command line: commands run in-process through run() with
// captured streams, and as a real process (dist/cli/bin.js) for exit codes,
// messages and piped output.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { open } from '../src/index.js';
import { run } from '../src/cli/main.js';
import { tokenize } from '../src/cli/shell.js';
import { prefixEnd } from '../src/keys.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { tempDirs } from './support/temp-dir.js';
import { scriptRunner } from './support/runtime.js';

const newDir = tempDirs('cli');
const bin = new URL('../dist/cli/bin.js', import.meta.url).pathname;
const enc = new TextEncoder();

/** Runs `varve ...args` in-process; stdin holds `input`. */
async function varve(args: string[], input = '', terminal = false): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  stdin.end(input);
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: terminal });
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run(args, { stdin, stdout, stderr });
  return { code, out, err };
}

/** Runs the installed executable as a separate process. */
function varveProcess(args: string[], input = '') {
  return spawnSync(scriptRunner[0], [...scriptRunner.slice(1), bin, ...args], { input, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
}

async function seeded(n = 100): Promise<string> {
  const dir = newDir();
  const db = await open(dir);
  await db.batch(Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: `key${String(i).padStart(3, '0')}`, value: `value${i}` })));
  await db.close();
  return dir;
}

describe('varve commands', () => {
  it('put, get and del a key; get of a missing key exits 1', async () => {
    const dir = newDir();
    expect(await varve(['put', dir, 'hello', 'world'])).toMatchObject({ code: 0 });
    expect(await varve(['get', dir, 'hello'])).toEqual({ code: 0, out: 'world\n', err: '' });
    expect(await varve(['put', dir, 'piped'], 'from stdin')).toMatchObject({ code: 0 });
    expect((await varve(['get', dir, 'piped'])).out).toBe('from stdin\n');
    expect(await varve(['del', dir, 'hello'])).toMatchObject({ code: 0 });
    expect(await varve(['get', dir, 'hello'])).toEqual({ code: EXIT.NOT_FOUND, out: '', err: 'not found: hello\n' });
  });

  it('takes and prints binary keys and values in hex and base64', async () => {
    const dir = newDir();
    expect((await varve(['put', dir, '00ff', 'deadbeef', '--encoding', 'hex'])).code).toBe(0);
    expect((await varve(['get', dir, 'AP8=', '--encoding', 'base64'])).out).toBe('3q2+7w==\n');
    expect(await varve(['put', dir, 'zz', 'x', '--encoding', 'hex'])).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('not hex') });
  });

  it('scans with prefix, bounds, reverse, limit, keys only and JSON lines', async () => {
    const dir = await seeded();
    const lines = (out: string) => out.trim().split('\n');
    expect(lines((await varve(['scan', dir, '--prefix', 'key01'])).out)).toEqual(Array.from({ length: 10 }, (_, i) => `key01${i}\tvalue${10 + i}`));
    expect(lines((await varve(['scan', dir, '--gte', 'key095', '--lt', 'key098', '--keys-only'])).out)).toEqual(['key095', 'key096', 'key097']);
    expect(lines((await varve(['scan', dir, '--reverse', '--limit', '2', '--json'])).out).map((l) => JSON.parse(l))).toEqual([
      { key: 'key099', value: 'value99' },
      { key: 'key098', value: 'value98' },
    ]);
    expect((await varve(['count', dir, '--prefix', 'key0'])).out).toBe('100\n');
    expect(await varve(['scan', dir, '--prefix', 'a', '--gt', 'b'])).toMatchObject({ code: EXIT.USAGE });
    expect(await varve(['scan', dir, '--limit', '-3'])).toMatchObject({ code: EXIT.USAGE });
  });

  it('exports and imports JSON lines, round trip', async () => {
    const dir = await seeded(2500);
    const exported = await varve(['export', dir]);
    expect(exported.code).toBe(0);
    const file = join(newDir() + '.jsonl');
    writeFileSync(file, exported.out);
    const copy = newDir();
    expect(await varve(['import', copy, file])).toMatchObject({ code: 0, out: 'imported 2500 entries\n' });
    expect((await varve(['export', copy])).out).toBe(exported.out);
    // Export to a file refuses to overwrite one.
    expect(await varve(['export', dir, file])).toMatchObject({ code: EXIT.IO, err: expect.stringContaining('EEXIST') });
  });

  it('stops an import at a bad line, naming it, with the batches before it written', async () => {
    const dir = newDir();
    const input = '{"key":"a","value":"1"}\n{"key":"b"}\n';
    expect(await varve(['import', dir], input)).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('line 2') });
    expect(await varve(['import', dir], '{"key":"t","value":"v","ttl":60000}\n')).toMatchObject({ code: 0 });
    const db = await open(dir);
    expect((await db.getEntry('t'))?.expiresAt).toBeGreaterThan(Date.now());
    await db.close();
  });

  it('prints stats, compacts, checkpoints and verifies', async () => {
    const dir = newDir();
    const db = await open(dir, { memtableSize: 64 * 1024 });
    await db.batch(Array.from({ length: 5000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v'.repeat(50) })));
    await db.close();
    expect((await varve(['stats', dir])).out).toMatch(/^level\s+files\s+size/);
    expect(JSON.parse((await varve(['stats', dir, '--json'])).out).levels).toHaveLength(7);
    const compacted = await varve(['compact', dir]);
    expect(compacted).toMatchObject({ code: 0, err: '' });
    expect(compacted.out).toMatch(/^compacted: \d+ tables/);
    const target = newDir();
    expect(await varve(['checkpoint', dir, target])).toMatchObject({ code: 0 });
    expect((await varve(['get', target, 'k4999'])).out).toBe(`${'v'.repeat(50)}\n`);
    const verified = await varve(['verify', dir]);
    expect(verified).toMatchObject({ code: 0, err: '' });
    expect(verified.out).toMatch(/^ok: every checksum matched in [1-9]\d* tables/);
  });

  it('draws a progress bar on stderr when it is a terminal', async () => {
    const dir = newDir();
    const db = await open(dir, { memtableSize: 64 * 1024 });
    await db.batch(Array.from({ length: 5000 }, (_, i) => ({ type: 'put' as const, key: `k${i}`, value: 'v'.repeat(50) })));
    await db.close();
    const verified = await varve(['verify', dir], '', true);
    expect(verified.code).toBe(0);
    expect(verified.err).toMatch(/\r\x1b\[2Kverifying \[#+\.*\] \d+% \d+\/\d+ files/);
    expect(verified.err.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('runs a shell from a pipe: PUT, GET, SCAN, COUNT, DELETE, errors that do not end it, EXIT', async () => {
    const dir = newDir();
    const script = ['PUT a 1', 'put "b c" "two words"', 'GET "b c"', 'SCAN', 'COUNT', 'DELETE a', 'GET a', 'FROB', 'PUT x', 'INSPECT', 'EXIT', 'PUT never 1'].join('\n');
    const result = await varve(['shell', dir], script);
    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines.slice(0, 8)).toEqual(['OK', 'OK', 'two words', 'a\t1', 'b c\ttwo words', '2', 'OK', 'not found: a']);
    expect(lines[8]).toMatch(/^ERROR unknown command FROB/);
    expect(lines[9]).toMatch(/^ERROR PUT takes <key> <value>/);
    expect(lines[10]).toMatch(/^no tables yet/);
    expect((await varve(['get', dir, 'never'])).code).toBe(EXIT.NOT_FOUND);
  });

  it('tokenizes shell lines with quotes and escapes', () => {
    expect(tokenize('PUT "a \\"b\\"" c')).toEqual(['PUT', 'a "b"', 'c']);
    expect(tokenize('  get   k  ')).toEqual(['get', 'k']);
    expect(() => tokenize('PUT "open')).toThrow(/unterminated/);
  });

  it('computes the end of a prefix range', () => {
    expect(prefixEnd(enc.encode('ab'))).toEqual(enc.encode('ac'));
    expect(prefixEnd(new Uint8Array([1, 0xff]))).toEqual(new Uint8Array([2]));
    expect(prefixEnd(new Uint8Array([0xff, 0xff]))).toBeUndefined();
  });
});

describe('varve as a process', () => {
  it('prints usage and exits 2 on bad arguments', () => {
    const none = varveProcess([]);
    expect(none.status).toBe(EXIT.USAGE);
    expect(none.stdout).toContain('usage: varve');
    const unknown = varveProcess(['frobnicate', '/tmp']);
    expect(unknown.status).toBe(EXIT.USAGE);
    expect(unknown.stderr).toBe("varve: unknown command frobnicate\nRun 'varve help' for usage.\n");
    expect(varveProcess(['get', '/tmp']).stderr).toContain('get takes <dir> <key>');
    expect(varveProcess(['scan', '/tmp', '--bogus']).status).toBe(EXIT.USAGE);
  });

  it('exits 3 for a missing directory, without creating it', () => {
    const dir = newDir();
    const result = varveProcess(['get', dir, 'k']);
    expect(result.status).toBe(EXIT.NO_DATABASE);
    expect(result.stderr).toContain(`no database: no database at ${dir}: the directory does not exist`);
    expect(existsSync(dir)).toBe(false);
  });

  it('exits 4 while another process holds the database', async () => {
    const dir = await seeded(10);
    const db = await open(dir);
    try {
      const result = varveProcess(['get', dir, 'key001']);
      expect(result.status).toBe(EXIT.LOCKED);
      expect(result.stderr).toMatch(/^varve: the database is locked/);
    } finally {
      await db.close();
    }
    expect(varveProcess(['get', dir, 'key001']).stdout).toBe('value1\n');
  });

  it('exits 5 on corruption: verify names the damaged table, a read of it fails', async () => {
    const dir = newDir();
    const db = await open(dir, { compression: 'none' });
    await db.put('victim', 'x'.repeat(1000));
    await db.compactRange();
    await db.close();
    const table = readdirSync(dir).find((n) => n.endsWith('.vt'))!;
    const bytes = readFileSync(join(dir, table));
    bytes[100] ^= 0x01;
    writeFileSync(join(dir, table), bytes);
    const verified = varveProcess(['verify', dir]);
    expect(verified.status).toBe(EXIT.CORRUPTION);
    expect(verified.stdout).toContain(`DAMAGED ${join(dir, table)}`);
    const read = varveProcess(['get', dir, 'victim']);
    expect(read.status).toBe(EXIT.CORRUPTION);
    expect(read.stderr).toMatch(/^varve: corruption: /);
  });

  it('writes plain output without a progress bar when piped', async () => {
    const dir = await seeded(100);
    const result = varveProcess(['compact', dir]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toContain('\r');
  });
});
