// Crash and corruption tests with real processes and real files.
//
// A child process (support/crash-writer.mjs, driven through
// support/child-writer.ts) writes a deterministic sequence and reports each
// acknowledged write; the parent kills it with SIGKILL at a random moment,
// reopens, and checks the recovered state against a Map model: it must equal
// the model after SOME prefix of the issued writes that contains every
// acknowledged one (sync or not: a process crash keeps what the OS was
// handed). Then the files themselves are damaged: torn WAL tails must be
// recovered from, corruption anywhere else must be reported, never returned.
import { appendFileSync, cpSync, existsSync, readFileSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptionError, LockedError, nodeFileSystem, open, type Database, type Options } from '../src/index.js';
import { LogReader } from '../src/wal/reader.js';
import { BLOCK_SIZE, framedLength } from '../src/wal/format.js';
import { readCurrent, readManifest } from '../src/version/manifest.js';
import { VersionSet } from '../src/version/set.js';
import { parseFileName, tableFileName } from '../src/version/filenames.js';
import { ChildWriter, type Write } from './support/child-writer.js';
import { type Shape, between, makeWrites, matchingPrefixes, modelAfter, prng, readState, valueText } from './support/crash-model.js';
import { randomBytes } from './support/random.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('recovery');
const dec = new TextDecoder();

/** Names in `dir` that recovery must have removed: tables the MANIFEST does not name, and temp files. */
function strayFiles(dir: string): string[] {
  const name = readCurrent(nodeFileSystem, dir);
  const versions = new VersionSet();
  versions.recover(readManifest(nodeFileSystem, dir, name), name);
  const live = versions.liveFiles();
  return readdirSync(dir).filter((f) => {
    const parsed = parseFileName(f);
    return parsed?.kind === 'temp' || (parsed?.kind === 'table' && !live.has(parsed.number));
  });
}

/** While a database is open: the directory holds exactly CURRENT, LOCK, the live MANIFEST, its tables and one live WAL. */
function expectOnlyLiveFiles(dir: string): void {
  const manifest = readCurrent(nodeFileSystem, dir);
  const versions = new VersionSet();
  versions.recover(readManifest(nodeFileSystem, dir, manifest), manifest);
  const names = readdirSync(dir).sort();
  const wals = names.filter((n) => parseFileName(n)?.kind === 'wal');
  expect(wals.length, `WALs in ${names.join(' ')}`).toBe(1);
  expect(parseFileName(wals[0]!)!.number).toBeGreaterThanOrEqual(versions.logNumber);
  const expected = ['CURRENT', 'LOCK', manifest, wals[0]!, ...[...versions.liveFiles()].map(tableFileName)].sort();
  expect(names).toEqual(expected);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Cycle {
  seed: number;
  shape: Shape;
  window: number;
  /** Kill once this write is acknowledged, or this many ms after the child is ready. */
  kill: { afterAck: number } | { afterMs: number };
}

/**
 * Runs the cycles against one directory: each child continues from what the
 * last recovery left. Returns the cycles' recovered prefix lengths.
 */
interface Hooks {
  /** After the kill, before the parent reopens. */
  beforeOpen?(dir: string, cycle: number): void;
  /** While the parent has the recovered database open. */
  whileOpen?(dir: string): void;
}

async function crashCycles(dir: string, options: Options, cycles: Cycle[], hooks: Hooks = {}): Promise<number[]> {
  let base = new Map<string, string>();
  const prefixes: number[] = [];
  const sequences = cycles.map((c) => makeWrites(c.seed, c.shape));
  const spawnCycle = (n: number) => new ChildWriter({ dir, options, ops: sequences[n]!, window: cycles[n]!.window, mode: 'kill' }, `${dir}.spec-${n}.json`);
  // The next child boots while this cycle is verified.
  let next: ChildWriter | undefined = spawnCycle(0);
  try {
    for (const [n, cycle] of cycles.entries()) {
      const child = next!;
      next = undefined;
      child.start();
      const { kill } = cycle;
      if ('afterAck' in kill) await child.until(() => child.acked >= kill.afterAck);
      else {
        await child.until(() => child.ready);
        await sleep(kill.afterMs);
      }
      const exit = await child.kill();
      if (n + 1 < cycles.length) next = spawnCycle(n + 1);
      const context = `cycle ${n} (seed ${cycle.seed}, ${JSON.stringify(kill)}): acked ${child.acked}, sync-acked ${child.syncAcked}`;
      expect(child.error, context).toBeUndefined();
      expect(exit.signal, context).toBe('SIGKILL');
      hooks.beforeOpen?.(dir, n);
      const db = await open(dir, options);
      try {
        hooks.whileOpen?.(dir);
        const state = await readState(db);
        const matches = matchingPrefixes(base, sequences[n]!, state);
        expect(matches.length, `${context}: the recovered state is no prefix of the writes`).toBeGreaterThan(0);
        const prefix = matches[matches.length - 1]!;
        expect(prefix, `${context}: acknowledged writes lost`).toBeGreaterThan(child.acked);
        expect(prefix).toBeGreaterThan(child.syncAcked);
        // Point reads agree with the scan.
        for (const [k, v] of [...state].slice(0, 50)) expect(dec.decode(db.getSync(k)!)).toBe(v);
        prefixes.push(prefix);
        base = state;
      } finally {
        await db.close();
      }
    }
  } finally {
    await next?.kill();
  }
  return prefixes;
}

const mixed: Shape = { count: 1000, keys: 300, minValue: 10, maxValue: 400, del: 0.15, batch: 0.2, batchMin: 1, batchMax: 16, sync: 0.1 };
const small: Options = { memtableSize: 64 * 1024 };

describe('SIGKILL while writing', () => {
  it('recovers a prefix holding every acknowledged write, through 12 kills at random moments', async () => {
    const rand = prng(20240611);
    const cycles: Cycle[] = Array.from({ length: 12 }, (_, n) => ({
      seed: 1000 + n,
      shape: mixed,
      window: between(rand, 1, 8),
      kill: n % 2 === 0 ? { afterAck: between(rand, 0, mixed.count - 1) } : { afterMs: between(rand, 0, 200) },
    }));
    const prefixes = await crashCycles(newDir(), small, cycles);
    // The kills landed mid-sequence, not only after the child had finished.
    expect(prefixes.filter((p) => p < mixed.count).length).toBeGreaterThan(3);
  }, 60_000);

  it('keeps every acknowledged write when the process exits without close', async () => {
    const dir = newDir();
    let base = new Map<string, string>();
    for (const [n, exitAfter] of [0, 400, mixed.count - 1].entries()) {
      const writes = makeWrites(2000 + n, mixed);
      const child = new ChildWriter({ dir, options: small, ops: writes, window: 4, mode: 'exit', exitAfter }, `${dir}.spec-${n}.json`);
      child.start();
      const exit = await child.exited;
      expect(child.error).toBeUndefined();
      expect(exit.code).toBe(0);
      expect(child.acked).toBeGreaterThanOrEqual(exitAfter);
      const db = await open(dir, small);
      try {
        const state = await readState(db);
        const prefixes = matchingPrefixes(base, writes, state);
        expect(prefixes.length).toBeGreaterThan(0);
        expect(prefixes[prefixes.length - 1]!).toBeGreaterThan(child.acked);
        base = state;
      } finally {
        await db.close();
      }
    }
  }, 30_000);
});

describe('SIGKILL while flushing', () => {
  // Every batch is about a third of a memtable or more, so flushes run nearly all the time.
  const flushy: Shape = { count: 30, keys: 2000, minValue: 300, maxValue: 1500, del: 0, batch: 1, batchMin: 10, batchMax: 40, sync: 0.3 };

  it('reopens without error, keeps acknowledged writes and deletes partial tables', async () => {
    const rand = prng(777);
    const cycles: Cycle[] = Array.from({ length: 8 }, (_, n) => ({
      seed: 3000 + n,
      shape: flushy,
      window: between(rand, 1, 3),
      kill: n % 2 === 0 ? { afterAck: between(rand, 0, flushy.count - 1) } : { afterMs: between(rand, 10, 200) },
    }));
    let strays = 0;
    await crashCycles(newDir(), small, cycles, {
      beforeOpen(dir, n) {
        if (n === cycles.length - 1) {
          // Exercise the cleanup at least once with what a crash while writing a
          // table and while switching CURRENT leaves behind.
          const names = readdirSync(dir);
          const next = Math.max(...names.map((f) => parseFileName(f)?.number ?? 0)) + 1;
          const table = names.find((f) => parseFileName(f)?.kind === 'table');
          const partial = table === undefined ? new Uint8Array(100) : readFileSync(join(dir, table)).subarray(0, 1000);
          writeFileSync(join(dir, tableFileName(next)), partial);
          writeFileSync(join(dir, `CURRENT.${String(next + 1).padStart(6, '0')}.tmp`), 'MANIFEST-');
        }
        // Partial tables the kills left (timing decides how many) and the planted ones.
        strays += strayFiles(dir).length;
      },
      whileOpen: expectOnlyLiveFiles,
    });
    expect(strays).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe('LOCK', () => {
  it('refuses a directory a live process holds, and takes it over once that process is killed', async () => {
    const dir = newDir();
    const writes = makeWrites(4000, { ...mixed, count: 50 });
    const child = new ChildWriter({ dir, options: small, ops: writes, window: 1, mode: 'kill' }, `${dir}.spec.json`);
    child.start();
    try {
      await child.until(() => child.done);
      expect(child.error).toBeUndefined();
      const err = await open(dir, small).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LockedError);
      expect((err as LockedError).code).toBe('ERR_LOCKED');
      expect((err as LockedError).message).toContain(`process ${child.pid}`);
    } finally {
      await child.kill();
    }
    const db = await open(dir, small);
    expect(await readState(db)).toEqual(modelAfter(writes, writes.length));
    await db.close();
  }, 20_000);
});

/** Runs `writes` one awaited call at a time, so each is one WAL record. */
async function writeAll(db: Database, writes: Write[]): Promise<void> {
  for (const w of writes) {
    if (w.t === 'put') await db.put(w.k, w.v, { sync: w.sync });
    else if (w.t === 'del') await db.del(w.k, { sync: w.sync });
    else if (w.t === 'range') await db.deleteRange(w.from, w.to, { sync: w.sync });
    else await db.batch(w.ops.map((o) => (o.v === null ? { type: 'del' as const, key: o.k } : { type: 'put' as const, key: o.k, value: o.v })));
  }
}

function onlyFile(dir: string, kind: 'wal' | 'table' | 'manifest'): string {
  const names = readdirSync(dir).filter((f) => parseFileName(f)?.kind === kind);
  expect(names.length, `${kind} files in ${dir}`).toBe(1);
  return join(dir, names[0]!);
}

interface RecordSpan {
  start: number;
  end: number;
}

/** Where each record of a log file starts and ends (trailer bytes before a record belong to the one before). */
function recordSpans(path: string): RecordSpan[] {
  const reader = new LogReader(readFileSync(path), path, { tailMayBeTorn: false });
  const spans: RecordSpan[] = [];
  for (let r = reader.next(); r !== undefined; r = reader.next()) {
    spans.push({ start: reader.offset, end: reader.offset + framedLength(reader.offset % BLOCK_SIZE, r.length) });
  }
  return spans;
}

function flipBit(path: string, offset: number, bit = 3): void {
  const bytes = readFileSync(path);
  bytes[offset]! ^= 1 << bit;
  writeFileSync(path, bytes);
}

async function openError(dir: string, options?: Options): Promise<unknown> {
  return open(dir, options).then(
    async (db) => {
      await db.close();
      return undefined;
    },
    (e: unknown) => e,
  );
}

describe('WAL tail', () => {
  // 24 writes, one record each; write 20 is a value spanning three 32 KiB blocks.
  const writes: Write[] = makeWrites(5000, { count: 24, keys: 12, minValue: 5, maxValue: 300, del: 0.2, batch: 0.2, batchMin: 2, batchMax: 5, sync: 0.3 });
  writes[20] = { t: 'put', k: 'big', v: valueText(prng(1), 'big:', 70_000), sync: false };
  writes[22] = { t: 'del', k: 'big', sync: true };
  let pristine: string | undefined;

  async function cleanRun(): Promise<{ dir: string; wal: string; spans: RecordSpan[] }> {
    if (pristine === undefined) {
      pristine = newDir();
      const db = await open(pristine);
      await writeAll(db, writes);
      await db.close();
    }
    const dir = newDir();
    cpSync(pristine, dir, { recursive: true });
    const wal = onlyFile(dir, 'wal');
    const spans = recordSpans(wal);
    expect(spans.length).toBe(writes.length);
    expect(spans[spans.length - 1]!.end).toBe(readFileSync(wal).length);
    return { dir, wal, spans };
  }

  it('recovers exactly the whole records before a cut anywhere in the last records', async () => {
    const { spans } = await cleanRun();
    const cuts = new Set<number>([spans[19]!.end, spans[23]!.end]);
    for (const i of [20, 21, 22, 23]) {
      const { start, end } = spans[i]!;
      for (const c of [start + 1, start + 6, start + 7, (start + end) >> 1, end - 1]) cuts.add(c);
    }
    // Inside the big record: at and just past each block boundary it crosses.
    for (let b = Math.ceil(spans[20]!.start / BLOCK_SIZE) * BLOCK_SIZE; b < spans[20]!.end; b += BLOCK_SIZE) for (const c of [b, b + 3, b + 7]) cuts.add(c);
    const recovered: number[] = [];
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const { dir, wal } = await cleanRun();
      truncateSync(wal, cut);
      const whole = spans.filter((s) => s.end <= cut).length;
      const db = await open(dir);
      try {
        expect(await readState(db), `cut at ${cut}`).toEqual(modelAfter(writes, whole));
      } finally {
        await db.close();
      }
      recovered.push(whole);
    }
    expect(new Set(recovered)).toEqual(new Set([20, 21, 22, 23, 24]));
  }, 30_000);

  it('drops a torn tail for good: later writes and reopens are unaffected', async () => {
    const { dir, wal, spans } = await cleanRun();
    truncateSync(wal, spans[23]!.start + 9);
    let db = await open(dir);
    await db.put('after', 'tear', { sync: true });
    await db.close();
    db = await open(dir);
    const expected = modelAfter(writes, 23);
    expected.set('after', 'tear');
    expect(await readState(db)).toEqual(expected);
    await db.close();
  });

  it('opens a WAL followed by zeros or garbage, keeping every record', async () => {
    for (const tail of [new Uint8Array(100), new Uint8Array(40_000), randomBytes(50, 7), randomBytes(40_000, 8)]) {
      const { dir, wal } = await cleanRun();
      appendFileSync(wal, tail);
      const db = await open(dir);
      try {
        expect(await readState(db)).toEqual(modelAfter(writes, writes.length));
      } finally {
        await db.close();
      }
    }
  });

  it('reports a damaged record followed by valid ones as corruption naming the WAL and offset, and leaves the files alone', async () => {
    const { spans } = await cleanRun();
    const { start } = spans[3]!;
    // A payload byte, a CRC byte, the length, the type.
    for (const [offset, bit] of [[start + 12, 0], [start + 1, 5], [start + 4, 1], [start + 6, 1]] as const) {
      const { dir, wal } = await cleanRun();
      flipBit(wal, offset, bit);
      const damaged = readFileSync(wal);
      const err = await openError(dir);
      expect(err, `flip at ${offset}`).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).code).toBe('ERR_CORRUPTION');
      expect((err as Error).message).toContain(wal);
      expect((err as Error).message).toContain(`offset ${start}`);
      // A failed open deletes nothing and releases the LOCK: it fails the same way again.
      expect(readFileSync(wal)).toEqual(damaged);
      expect(await openError(dir)).toBeInstanceOf(CorruptionError);
    }
  });
});

describe('damaged CURRENT, MANIFEST and tables', () => {
  const writes = makeWrites(6000, { count: 3000, keys: 2500, minValue: 20, maxValue: 120, del: 0.05, batch: 0, batchMin: 0, batchMax: 0, sync: 0 });
  const expected = modelAfter(writes, writes.length);
  const options: Options = { compression: 'none' };
  let pristine: string | undefined;

  /** A copy of a database whose data is all in one table (written by the replay at the second open). */
  async function tableDb(): Promise<string> {
    if (pristine === undefined) {
      pristine = newDir();
      let db = await open(pristine, options);
      await writeAll(db, writes);
      await db.close();
      db = await open(pristine, options);
      await db.close();
    }
    const dir = newDir();
    cpSync(pristine, dir, { recursive: true });
    return dir;
  }

  async function expectCorruption(dir: string, names: string): Promise<void> {
    const err = await openError(dir, options);
    expect(err).toBeInstanceOf(CorruptionError);
    expect((err as CorruptionError).code).toBe('ERR_CORRUPTION');
    expect((err as Error).message).toContain(names);
  }

  it('reports a CURRENT that is malformed, empty or names a missing MANIFEST', async () => {
    for (const contents of ['MANIFEST-00000x\n', '', 'MANIFEST-000001', 'MANIFEST-999999\n']) {
      const dir = await tableDb();
      writeFileSync(join(dir, 'CURRENT'), contents);
      await expectCorruption(dir, join(dir, 'CURRENT'));
    }
  });

  it('refuses to start afresh over tables when CURRENT is missing', async () => {
    const dir = await tableDb();
    const table = onlyFile(dir, 'table');
    unlinkSync(join(dir, 'CURRENT'));
    await expectCorruption(dir, 'CURRENT');
    expect(existsSync(table)).toBe(true);
  });

  it('reports a MANIFEST with a damaged record, an empty one, and a missing one', async () => {
    let dir = await tableDb();
    let manifest = onlyFile(dir, 'manifest');
    expect(recordSpans(manifest).length).toBeGreaterThan(1);
    flipBit(manifest, 10);
    await expectCorruption(dir, `${manifest}: corrupt log at offset 0`);

    dir = await tableDb();
    manifest = onlyFile(dir, 'manifest');
    truncateSync(manifest, 0);
    await expectCorruption(dir, manifest);

    dir = await tableDb();
    manifest = onlyFile(dir, 'manifest');
    unlinkSync(manifest);
    await expectCorruption(dir, join(dir, 'CURRENT'));
  });

  it('reports a table the MANIFEST names that is missing', async () => {
    const dir = await tableDb();
    const table = onlyFile(dir, 'table');
    unlinkSync(table);
    await expectCorruption(dir, table.slice(dir.length + 1));
  });

  it('never returns a wrong value from a table with a flipped bit: the reads that touch it throw CorruptionError naming it', async () => {
    const keys = [...expected.keys()].sort();
    const size = readFileSync(onlyFile(await tableDb(), 'table')).length;
    // Spread over data blocks, then the filter, index and properties blocks and the footer at the end.
    const offsets = [5, ...Array.from({ length: 8 }, (_, i) => Math.floor(((i + 1) * size) / 10) + i), size - 600, size - 200, size - 81, size - 40, size - 1];
    for (const offset of offsets) {
      const dir = await tableDb();
      const table = onlyFile(dir, 'table');
      flipBit(table, offset, offset % 8);
      const db = await open(dir, options);
      let failures = 0;
      const check = (err: unknown) => {
        expect(err, `flip at ${offset}`).toBeInstanceOf(CorruptionError);
        expect((err as Error).message).toContain(table);
        failures++;
      };
      try {
        for (const k of keys.filter((_, i) => i % 25 === 0)) {
          let v: Uint8Array | undefined;
          try {
            v = db.getSync(k);
          } catch (err) {
            check(err);
            continue;
          }
          expect(v === undefined ? undefined : dec.decode(v), `${k} with a flip at ${offset}`).toBe(expected.get(k));
        }
        const seen: Array<[string, string]> = [];
        try {
          for await (const [k, v] of db.iterator()) seen.push([dec.decode(k), dec.decode(v)]);
        } catch (err) {
          check(err);
        }
        expect(seen, `scan with a flip at ${offset}`).toEqual(keys.slice(0, seen.length).map((k) => [k, expected.get(k)]));
        expect(failures, `flip at ${offset} went unnoticed`).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
    }
  });
});
