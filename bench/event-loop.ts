// `npm run bench:event-loop -- --n 5000000 [--mode batch|put]`: how
// responsive the event loop stays during a big fillrandom (16-byte keys,
// 100-byte values compressing to about half, default options): batches of
// 1000, or single awaited puts. perf_hooks.monitorEventLoopDelay samples the
// delay throughout (1 ms timer, so an idle loop reads about 1 ms); prints
// p50/p99/max and the throughput.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { open } from 'varve';
import { keyInto, permutation, valuePool, valueOf } from './fill.js';

const ms = (ns: number): string => `${(ns / 1e6).toFixed(2)} ms`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '5000000' }, mode: { type: 'string', default: 'batch' } } });
  const n = Number(values.n);
  const mode = values.mode;
  if (!Number.isInteger(n) || n < 1 || (mode !== 'batch' && mode !== 'put')) throw new Error('usage: --n COUNT --mode batch|put');
  const dir = mkdtempSync(join(os.tmpdir(), 'varve-event-loop-'));
  const db = await open(dir);
  const order = permutation(n, 1);
  const pool = valuePool(2);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const start = performance.now();
  histogram.enable();
  try {
    if (mode === 'batch') {
      for (let i = 0; i < n; i += 1000) {
        const ops = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) ops.push({ type: 'put' as const, key: keyInto(order[j]!, new Uint8Array(16)), value: valueOf(pool, order[j]!) });
        await db.batch(ops);
      }
    } else {
      for (let j = 0; j < n; j++) await db.put(keyInto(order[j]!, new Uint8Array(16)), valueOf(pool, order[j]!));
    }
    histogram.disable();
    const seconds = (performance.now() - start) / 1000;
    console.log(`fillrandom ${n.toLocaleString('en-US')} keys (${mode === 'batch' ? 'batches of 1000' : 'single awaited puts'}) in ${seconds.toFixed(1)} s: ${Math.round(n / seconds).toLocaleString('en-US')} ops/s`);
    console.log(`event-loop delay: p50 ${ms(histogram.percentile(50))}, p99 ${ms(histogram.percentile(99))}, max ${ms(histogram.max)}`);
  } finally {
    histogram.disable();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
