// `npm run bench:memory`: where the memory goes during a fillrandom of
// --n keys (16-byte keys, 100-byte values compressing to about half,
// batches of 1000, default options unless --budget BYTES). Samples the
// process and the engine every 100 ms and prints the peak RSS with the
// breakdown at that sample. The inputs are generated per batch, so the
// bench itself holds only the permutation (4 bytes per key).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { open, type MemoryUsage } from 'varve';
import { keyInto, permutation, valuePool, valueOf } from './fill.js';

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  engine: MemoryUsage;
}

const MiB = 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '1000000' }, budget: { type: 'string' } } });
  const n = Number(values.n);
  const dir = mkdtempSync(join(os.tmpdir(), 'varve-memory-'));
  const db = await open(dir);
  const order = permutation(n, 1);
  const pool = valuePool(2);
  let peak: Sample | undefined;
  const sample = (): void => {
    const m = process.memoryUsage();
    const s = { at: performance.now(), rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, engine: db.memoryUsage() };
    if (peak === undefined || s.rss > peak.rss) peak = s;
  };
  const timer = setInterval(sample, 100);
  const start = performance.now();
  try {
    for (let i = 0; i < n; i += 1000) {
      const ops = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: 'put' as const, key: keyInto(order[j]!, new Uint8Array(16)), value: valueOf(pool, order[j]!) });
      await db.batch(ops);
    }
    const seconds = (performance.now() - start) / 1000;
    sample();
    clearInterval(timer);
    const p = peak!;
    console.log(`fillrandom ${n.toLocaleString('en-US')} keys in ${seconds.toFixed(1)} s (${Math.round(n / seconds).toLocaleString('en-US')} ops/s)`);
    console.log(`peak RSS ${mib(p.rss)} at ${((p.at - start) / 1000).toFixed(1)} s (process maxRSS ${mib(process.resourceUsage().maxRSS * 1024)})`);
    console.log('at the peak:');
    const rows: Array<[string, number]> = [
      ['V8 heap used', p.heapUsed],
      ['external (all ArrayBuffers, WebAssembly memories included)', p.external],
      ['  arrayBuffers', p.arrayBuffers],
      ['  wasm, main thread', p.engine.wasmMain],
      ['    memtables', p.engine.memtables],
      ['    block cache', p.engine.blockCache],
      ['  wasm, table workers', p.engine.wasmTableWorkers],
      ['compaction inputs/outputs in flight', p.engine.compactionInFlight],
    ];
    for (const [name, bytes] of rows) console.log(`  ${name.padEnd(60)} ${mib(bytes).padStart(10)}`);
  } finally {
    clearInterval(timer);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
