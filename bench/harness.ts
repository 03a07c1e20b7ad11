// Kernel benchmark harness: each case times varve's kernel and its best
// pure-JS rival on the same input in the same process with tinybench, and
// reports median throughput and the ratio against the case's bar.
import { Bench } from 'tinybench';

export interface Case {
  kernel: string;
  /** What one call does, e.g. "compress 64 KiB text". */
  op: string;
  /** Throughput unit and how many units one call processes (bytes -> MB/s, items -> M/s). */
  unit: 'MB/s' | 'M/s';
  perCall: number;
  varve: () => unknown;
  rival: { name: string; fn: () => unknown };
  /** The bar for varve / rival; absent for rows shown for information. */
  bar?: number;
}

export interface Row {
  kernel: string;
  op: string;
  unit: string;
  varve: number;
  rivalName: string;
  rival: number;
  ratio: number;
  bar: number | undefined;
  pass: boolean;
}

let sink: unknown;

async function medianOpsPerSecond(fn: () => unknown, timeMs: number): Promise<number> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 2) });
  bench.add('task', () => {
    sink = fn();
  });
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`benchmark task ended as ${result.state}`);
  return result.throughput.p50;
}

export async function measure(c: Case, timeMs: number): Promise<Row> {
  // Alternate the two sides twice and keep the better median of each, so a
  // background hiccup does not decide a ratio.
  let v = 0;
  let r = 0;
  for (let round = 0; round < 2; round++) {
    v = Math.max(v, await medianOpsPerSecond(c.varve, timeMs / 2));
    r = Math.max(r, await medianOpsPerSecond(c.rival.fn, timeMs / 2));
  }
  const scale = c.perCall / 1e6; // bytes -> MB/s, items -> M/s
  const ratio = v / r;
  return {
    kernel: c.kernel,
    op: c.op,
    unit: c.unit,
    varve: v * scale,
    rivalName: c.rival.name,
    rival: r * scale,
    ratio,
    bar: c.bar,
    pass: c.bar === undefined || ratio >= c.bar,
  };
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function formatTable(rows: Row[]): string {
  const header = ['kernel', 'operation', 'varve', 'rival', 'rival speed', 'ratio', 'bar', ''];
  const body = rows.map((r) => [
    r.kernel,
    r.op,
    `${fmt(r.varve)} ${r.unit}`,
    r.rivalName,
    `${fmt(r.rival)} ${r.unit}`,
    `${r.ratio.toFixed(2)}x`,
    r.bar === undefined ? '-' : `>= ${r.bar}x`,
    r.bar === undefined ? '' : r.pass ? 'ok' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Keeps results observable so the JIT cannot drop the timed work. */
export function consumed(): unknown {
  return sink;
}
