// With node:fs the compaction worker reads its inputs and writes, syncs and
// closes its outputs itself (src/compaction/local-io.ts), asking the main
// thread only for file numbers once the reserved ones run out. A failure
// part-way must leave no output behind.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactionFiles } from '../src/compaction/compaction-files.js';
import { CorruptionError, ReadOnlyError } from '../src/errors.js';
import { TableWorker } from '../src/flush/table-worker.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import { open } from '../src/index.js';
import type { TableProperties } from '../src/table/format.js';
import { TableReader } from '../src/table/reader.js';
import { tableFileName } from '../src/version/filenames.js';
import { TestBlockCache } from './support/block-cache.js';
import { makeRun, runKey } from './support/sorted-run.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('compaction-local-io');
const dec = new TextDecoder();
const tableOptions = { blockSize: 4096, blockRestartInterval: 16, bloomBitsPerKey: 10, compression: 'lz4' as const };

describe('compaction I/O in the worker', () => {
  it('names outputs from the reserved numbers, then asks for more, and each output is complete on disk', async () => {
    const dir = newDir();
    mkdirSync(dir, { recursive: true });
    const worker = new TableWorker();
    const { bytes } = await worker.build({ bytes: makeRun(50_000), sorted: true }, [], tableOptions);
    writeFileSync(join(dir, tableFileName(1)), bytes);
    let next = 100;
    const pendingTables = new Set<number>();
    const io = new CompactionFiles({ fs: nodeFileSystem, dir, newFileNumber: () => next++, pendingTables }, [
      { number: 1, size: bytes.length, smallest: new Uint8Array(), largest: new Uint8Array(), smallestSeq: 0, largestSeq: 0 },
    ]);
    const request = {
      inputs: [{ number: 1, size: bytes.length }],
      smallestSnapshot: 1e9,
      deeperLevels: [],
      grandparents: [],
      targetFileSize: 64 * 1024,
      table: { blockSize: 4096, restartInterval: 16, bitsPerKey: 10, compression: 'lz4' as const },
    };
    const reserved = [io.newOutputNumber(), io.newOutputNumber()];
    const { stats, outputs } = await worker.compact(request, io, { dir, numbers: reserved });
    await worker.terminate();

    expect(stats.entriesOut).toBe(50_000);
    expect(outputs!.length).toBeGreaterThan(2);
    // Reserved numbers first, in order; then numbers served by this thread, each pending until installed.
    expect(outputs!.map((o) => o.number)).toEqual(Array.from({ length: outputs!.length }, (_, i) => 100 + i));
    expect([...pendingTables].sort((a, b) => a - b)).toEqual(outputs!.map((o) => o.number));
    let entries = 0;
    let expected = 0;
    for (const o of outputs!) {
      const path = join(dir, tableFileName(o.number));
      expect(statSync(path).size).toBe(o.size);
      const reader = TableReader.open(nodeFileSystem.open(path, 'read'), o.number, o.size, new TestBlockCache(1 << 20));
      const props: TableProperties = o.properties;
      expect(dec.decode(props.smallestKey.subarray(0, -8))).toBe(runKey(expected));
      const it = reader.iterator();
      for (it.seekToFirst(); it.valid(); it.next()) {
        expect(dec.decode(it.key().subarray(0, -8))).toBe(runKey(expected++));
        entries++;
      }
      it.close();
      reader.close();
    }
    expect(entries).toBe(50_000);
  }, 30_000);

  it('a corrupt input fails the compaction, its outputs are removed, and the tree is intact', async () => {
    const dir = newDir();
    const options = { memtableSize: 256 * 1024, compaction: { targetFileSize: 32 * 1024 } };
    let db = await open(dir, options);
    const model = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (let start = 0; start < 4000; start += 500) {
        const ops = [];
        for (let i = start; i < start + 500; i++) {
          const k = String(i).padStart(16, '0');
          const v = `${round}:${i}:`.repeat(20);
          ops.push({ type: 'put' as const, key: k, value: v });
          model.set(k, v);
        }
        await db.batch(ops);
      }
      if (round === 0) await db.compactRange();
    }
    // Reopening flushes the WAL's memtable to level 0: the compaction below writes nothing but its outputs.
    await db.close();
    db = await open(dir, options);
    const tables = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.vt')).sort();
    const before = tables();
    // Corrupt the last data block of the newest level-0 table (the highest number): outputs cut before the merge reaches it exist when it fails.
    const victim = join(dir, before.at(-1)!);
    const data = readFileSync(victim);
    const at = Math.floor(data.length * 0.6);
    for (let i = at; i < at + 64; i++) data[i]! ^= 0xff;
    writeFileSync(victim, data);

    await expect(db.compactRange()).rejects.toThrow(CorruptionError);
    expect(tables()).toEqual(before);
    await expect(db.put('x', 'y')).rejects.toThrow(ReadOnlyError);
    // Keys outside the corrupt block still read their newest values.
    for (const k of ['0000000000000000', '0000000000003999']) expect(dec.decode((await db.get(k))!)).toBe(model.get(k));
    await db.close();
  }, 30_000);
});
