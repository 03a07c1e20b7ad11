import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableWorker } from '../src/flush/table-worker.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import { TableReader } from '../src/table/reader.js';
import type { TableProperties } from '../src/table/format.js';
import { TestBlockCache } from './support/block-cache.js';
import { makeRun, runKey, runValue } from './support/sorted-run.js';
import { measureLoopHold } from './support/loop-hold.js';

const dir = mkdtempSync(join(tmpdir(), 'varve-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = { blockSize: 4096, blockRestartInterval: 16, bloomBitsPerKey: 10, compression: 'lz4' as const };

describe('table worker', () => {
  it('builds a readable table off the main thread without stalling the event loop', async () => {
    const worker = new TableWorker();
    const run = makeRun(100_000);
    const started = performance.now();
    const { result, maxHoldMs, maxWallMs } = await measureLoopHold(() => worker.build({ bytes: run, sorted: true }, [], options));
    const buildMs = performance.now() - started;
    const { bytes, properties } = result;
    expect(run.byteLength).toBe(0); // transferred, not copied
    const props = properties as TableProperties;
    expect(props.entries).toBe(100_000);
    expect(props.largestSeq).toBe(100_000);
    // The build took a worker's CPU time, not the event loop's: built on this
    // thread, it would hold the loop for about its whole time.
    console.log(`event loop during the ${buildMs.toFixed(0)} ms build: held at most ${maxHoldMs.toFixed(0)} ms (CPU), longest gap ${maxWallMs.toFixed(0)} ms (wall)`);
    expect(maxHoldMs).toBeLessThan(50);
    const path = join(dir, '000001.vt');
    writeFileSync(path, bytes);
    const cache = new TestBlockCache(1 << 20);
    const reader = TableReader.open(nodeFileSystem.open(path, 'read'), 1, bytes.length, cache);
    const dec = new TextDecoder();
    for (const i of [0, 1, 4999, 99_999]) {
      const entry = reader.get(new TextEncoder().encode(runKey(i)), 1e9);
      expect(entry && dec.decode(entry.value)).toBe(runValue(i));
    }
    expect(reader.get(new TextEncoder().encode('absent'), 1e9)).toBeUndefined();
    reader.close();
    await worker.terminate();
  });

  it('reports a malformed run as a typed error and keeps working', async () => {
    const worker = new TableWorker();
    await expect(worker.build({ bytes: new Uint8Array([1, 2, 3]), sorted: true }, [], options)).rejects.toMatchObject({ name: 'VarveError', message: expect.stringContaining('table build failed') });
    await expect(worker.build({ bytes: new Uint8Array([1, 2, 3]), sorted: false }, [], options)).rejects.toMatchObject({ name: 'VarveError', message: expect.stringContaining('malformed run') });
    const { properties } = await worker.build({ bytes: makeRun(10), sorted: true }, [], options);
    expect((properties as TableProperties).entries).toBe(10);
    await worker.terminate();
  });

  it('sorts an unsorted run first: the table is the one the sorted run builds', async () => {
    const worker = new TableWorker();
    const count = 20_000;
    // A fixed shuffle: each step of 7919 (prime, coprime to the count) visits every entry once.
    const shuffled = makeRun(count, (i) => (i * 7919) % count);
    const sorted = await worker.build({ bytes: makeRun(count), sorted: true }, [], options);
    const built = await worker.build({ bytes: shuffled, sorted: false }, [], options);
    const { creationTime: _a, ...builtProps } = built.properties as TableProperties;
    const { creationTime: _b, ...sortedProps } = sorted.properties as TableProperties;
    expect(builtProps).toEqual(sortedProps);
    expect(builtProps.entries).toBe(count);
    expect(built.bytes.length).toBe(sorted.bytes.length);
    const path = join(dir, '000002.vt');
    writeFileSync(path, built.bytes);
    const reader = TableReader.open(nodeFileSystem.open(path, 'read'), 2, built.bytes.length, new TestBlockCache(1 << 20));
    const dec = new TextDecoder();
    for (let i = 0; i < count; i++) {
      const entry = reader.get(new TextEncoder().encode(runKey(i)), 1e9);
      expect(entry && dec.decode(entry.value)).toBe(runValue(i));
    }
    reader.close();
    await worker.terminate();
  });
});
