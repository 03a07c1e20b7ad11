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
    const { result, maxHoldMs, maxWallMs } = await measureLoopHold(() => worker.build(run, [], options));
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
    await expect(worker.build(new Uint8Array([1, 2, 3]), [], options)).rejects.toMatchObject({ name: 'VarveError', message: expect.stringContaining('table build failed') });
    const { properties } = await worker.build(makeRun(10), [], options);
    expect((properties as TableProperties).entries).toBe(10);
    await worker.terminate();
  });
});
