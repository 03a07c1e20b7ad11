// The side-by-side comparison: runs each store in its own child process on
// the same db_bench-shaped workloads, prints a table of ops/s with varve's
// ratio to each peer, and saves the figures as JSON under bench/results/.
//
// Usage (from the repository root, after npm run build):
//   node bench/compare/run.mjs [--n 1000000] [--reads N] [--runs 1]
//     [--stores varve,classic-level,...] [--workloads fillseq,fillrandom,...] [--seed 1]
//     [--runtime node|bun|deno]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SUBJECT } from './best-peer.mjs';
import { writeChart } from './chart.mjs';
import { resolveRuntime, runtimeLabel } from './runtimes.mjs';
import { peakRssNote, summarize, table } from './summary.mjs';
import { KEY_SIZE, VALUE_SIZE, WORKLOADS, syncWrites, workloadNamed } from './workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const STORES = ['varve', 'classic-level', 'rocksdb', 'lmdb', 'better-sqlite3', 'memory-level'];

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000000' },
      reads: { type: 'string' },
      runs: { type: 'string', default: '1' },
      stores: { type: 'string', default: STORES.join(',') },
      workloads: { type: 'string', default: WORKLOADS.map((w) => w.name).join(',') },
      seed: { type: 'string', default: '1' },
      runtime: { type: 'string', default: 'node' },
    },
  });
  const integer = (name, text, min) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`);
    return v;
  };
  const n = integer('n', values.n, 1);
  const workloads = values.workloads.split(',');
  workloads.forEach(workloadNamed);
  return {
    n,
    reads: values.reads === undefined ? Math.max(1, Math.floor(n / 10)) : integer('reads', values.reads, 1),
    runs: integer('runs', values.runs, 1),
    stores: values.stores.split(','),
    workloads,
    seed: integer('seed', values.seed, 1),
    runtime: values.runtime,
  };
}

/** Installs bench/compare's peers on first use, and again when its package files change. */
function installPeers() {
  const installed = join(here, 'node_modules', '.package-lock.json');
  const newest = Math.max(statSync(join(here, 'package.json')).mtimeMs, statSync(join(here, 'package-lock.json')).mtimeMs);
  if (existsSync(installed) && statSync(installed).mtimeMs >= newest) return;
  console.log(`Installing the peers in ${relative(process.cwd(), here) || '.'} (npm ci, first use); a peer that fails to install is skipped.`);
  const shell = process.platform === 'win32';
  let npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit', shell });
  if (npm.status !== 0) {
    // npm ci refuses a lock that lacks other platforms' optional binaries (lmdb's msgpackr-extract): install from package.json instead.
    console.log('npm ci failed in bench/compare; installing from package.json without touching the lock.');
    npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock'], { cwd: here, stdio: 'inherit', shell });
  }
  if (npm.status !== 0) console.log('npm install failed in bench/compare: peers that did not install are skipped.');
}

function checkVarveBuilt() {
  for (const file of ['dist/index.js', 'build/varve.wasm']) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run npm run build first`);
  }
}

/** Runs one store in a child process under `runtime` (runtimes.mjs) in a fresh temporary directory; resolves to its JSON report. */
function runChild(store, opts, runtime) {
  const dir = mkdtempSync(join(os.tmpdir(), `varve-compare-${store}-`));
  const config = { store, dir, n: opts.n, reads: opts.reads, seed: opts.seed, workloads: opts.workloads };
  return new Promise((resolve) => {
    const child = spawn(runtime.execPath, [...runtime.args, join(here, 'child.mjs'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      const last = out.trim().split('\n').at(-1);
      if (code === 0 && last) resolve(JSON.parse(last));
      else resolve({ store, failed: `the child exited with ${signal ?? `code ${code}`}` });
    });
  });
}

/** What the chosen workloads do beyond their labels: counts and the store each runs on. */
function describeWorkloads(opts) {
  const count = (x) => x.toLocaleString('en-US');
  const notes = {
    fillsync: `fillsync: ${count(syncWrites(opts.n))} (n/100) sync puts, each awaited, into a new store`,
    'fillsync-64': `fillsync-64: ${count(syncWrites(opts.n))} (n/100) sync puts from 64 concurrent writers, each awaiting its own, into a new store`,
    overwrite: 'overwrite: every key once more, in another random order, with another value, on the store the last fill left open',
    readrandom: `readrandom: ${count(opts.reads)} awaited gets, one at a time, of uniformly drawn existing keys`,
    readmany: `readmany: the same ${count(opts.reads)} keys in groups of 16, one awaited getMany per group`,
    readmissing: `readmissing: ${count(opts.reads)} awaited gets of keys never written (n..2n-1)`,
    readseq: 'readseq: one for-await over the store\'s iterator, every entry',
    readreverse: 'readreverse: the same, in reverse',
    seekrandom: `seekrandom: ${count(opts.reads)} seeks to existing keys, each reading 10 entries (a repositioned iterator where the store has seek, else an iterator with gte and limit 10)`,
    deleterandom: 'deleterandom: every key deleted once, in random order, batches of 1000; the store ends empty',
  };
  const lines = opts.workloads.filter((w) => notes[w] !== undefined).map((w) => notes[w]);
  lines.push('Reads and seeks run on the store the last fill (or overwrite) left open; after each phase its data are checked, unmeasured.');
  return lines;
}

function gitCommit() {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : undefined;
}

async function main() {
  const opts = options();
  // First, so that an unknown --runtime fails before anything is installed.
  const runtime = resolveRuntime(opts.runtime);
  checkVarveBuilt();
  if (opts.stores.some((s) => s !== SUBJECT)) installPeers();
  const machine = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAverage: os.loadavg() };
  console.log(`${opts.stores.join(' vs ')}: N = ${opts.n.toLocaleString('en-US')}, ${KEY_SIZE}-byte keys (zero-padded decimal), ${VALUE_SIZE}-byte values (half compressible)`);
  const harness = runtime.name === 'node' ? '' : ` (each store's child; run.mjs under Node ${machine.node})`;
  console.log(`${runtimeLabel(runtime)}${harness}, ${machine.platform}, ${machine.cpus} CPUs, load average ${machine.loadAverage.map((x) => x.toFixed(2)).join(' ')}; ${opts.runs} run(s), each store in its own process`);
  for (const line of describeWorkloads(opts)) console.log(line);
  const reports = Object.fromEntries(opts.stores.map((s) => [s, []]));
  for (let run = 1; run <= opts.runs; run++) {
    for (const store of opts.stores) {
      console.log(`run ${run}/${opts.runs}: ${store} (load average ${os.loadavg()[0].toFixed(2)})`);
      const report = await runChild(store, opts, runtime);
      if (report.skipped) console.log(`  ${store} skipped: ${report.skipped}`);
      if (report.failed) console.log(`  ${store} failed: ${report.failed}`);
      reports[store].push(report);
    }
  }

  const summaries = opts.stores.map((s) => summarize(s, reports[s]));
  console.log('');
  for (const s of summaries) console.log(`${s.store}: ${s.durability ? `durability ${s.durability}` : `not measured (${s.unavailable})`}`);
  console.log('');
  console.log('ops/s: median of 20 slices of the phase (whole-phase average in parentheses); disk: file lengths after close, named by the workloads that wrote the store; best peer excludes memory-level (in memory, the pure-JS ceiling)');
  console.log(table(summaries, opts.workloads));
  console.log(peakRssNote(summaries));

  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `compare-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const record = { date: new Date().toISOString(), commit: gitCommit(), runtime: { name: runtime.name, version: runtime.version }, machine, options: opts, keySize: KEY_SIZE, valueSize: VALUE_SIZE, summaries, reports };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  const chart = file.replace(/\.json$/, '.svg');
  writeChart(record, chart);
  console.log(`\nsaved ${relative(process.cwd(), file)} and ${relative(process.cwd(), chart)}`);
}

await main();
