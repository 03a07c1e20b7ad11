// `npm run bench:kernels`: every kernel against its best
// pure-JS rival, one table with ratios. `--time MS` sets time per case.
import { formatTable, measure, type Case, type Row } from './harness.js';
import * as block from './kernels/block.js';
import * as crc32c from './kernels/crc32c.js';
import * as lz4 from './kernels/lz4.js';
import * as hash from './kernels/hash.js';
import * as bloom from './kernels/bloom.js';
import * as skiplist from './kernels/skiplist.js';

const suites: Array<{ cases(): Case[] }> = [crc32c, lz4, hash, bloom, block, skiplist];

function timeOption(): number {
  const i = process.argv.indexOf('--time');
  return i >= 0 ? Number(process.argv[i + 1]) : 1000;
}

async function main(): Promise<void> {
  const time = timeOption();
  const rows: Row[] = [];
  for (const suite of suites) {
    for (const c of suite.cases()) {
      const row = await measure(c, time);
      rows.push(row);
      process.stderr.write(`measured ${row.kernel}: ${row.op}\n`);
    }
  }
  console.log(`varve kernel benchmarks (node ${process.version}, ${time} ms per case, medians)\n`);
  console.log(formatTable(rows));
  const missed = rows.filter((r) => !r.pass);
  if (missed.length > 0) console.log(`\n${missed.length} case(s) below their bar; see the README's kernel section.`);
}

await main();
