import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TableWorker } from '../src/flush/table-worker.js';
import { nodeFileSystem } from '../src/fs/node-fs.js';
import { Kind, makeInternalKey } from '../src/keys.js';
import { TableReader } from '../src/table/reader.js';
import type { TableProperties } from '../src/table/format.js';
import { TestBlockCache } from './support/block-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'varve-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sorted run in the memtable export format: [u32 key length][u32 value length][internal key][value]. */
function makeRun(count: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < count; i++) {
    const key = makeInternalKey(enc.encode(`key${String(i).padStart(8, '0')}`), i + 1, Kind.Value);
    const value = enc.encode(`value-${i}-`.repeat(8));
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, key.length, true);
    new DataView(header.buffer).setUint32(4, value.length, true);
    parts.push(header, key, value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

const options = { blockSize: 4096, blockRestartInterval: 16, bloomBitsPerKey: 10, compression: 'lz4' as const };

describe('table worker', () => {
  it('builds a readable table off the main thread without stalling the event loop', async () => {
    const worker = new TableWorker();
    const run = makeRun(100_000);
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const { bytes, properties } = await worker.build(run, [], options);
    histogram.disable();
    expect(run.byteLength).toBe(0); // transferred, not copied
    const props = properties as TableProperties;
    expect(props.entries).toBe(100_000);
    expect(props.largestSeq).toBe(100_000);
    // The build took a worker's CPU time, not the event loop's.
    console.log(`event-loop delay during the build: max ${(histogram.max / 1e6).toFixed(1)} ms`);
    expect(histogram.max / 1e6).toBeLessThan(50);
    const path = join(dir, '000001.vt');
    writeFileSync(path, bytes);
    const cache = new TestBlockCache(1 << 20);
    const reader = TableReader.open(nodeFileSystem.open(path, 'read'), 1, bytes.length, cache);
    const dec = new TextDecoder();
    for (const i of [0, 1, 4999, 99_999]) {
      const entry = reader.get(new TextEncoder().encode(`key${String(i).padStart(8, '0')}`), 1e9);
      expect(entry && dec.decode(entry.value)).toBe(`value-${i}-`.repeat(8));
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
