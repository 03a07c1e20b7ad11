// One store's run, in its own process: builds the shared inputs, runs the
// chosen workloads in order and writes its results as one JSON line on
// stdout (progress goes to stderr). A store that cannot be loaded, or cannot
// open its first store, reports itself skipped instead of failing the
// comparison.
//
// Usage: node child.mjs '{"store":"varve","dir":"/tmp/x","n":1000000,"reads":100000,"seed":1,"workloads":["fillseq"]}'
// (or under Bun or Deno: run.mjs's --runtime; only node: modules are used).
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { currentRuntime } from './runtimes.mjs';
import { makeInputs, workloadNamed } from './workloads.mjs';

const config = JSON.parse(process.argv[2]);

function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function log(message) {
  process.stderr.write(`  [${config.store}] ${message}\n`);
}

/** Bytes of the files under `dir` (their lengths, not their allocated blocks). */
function directorySize(dir) {
  // A store without files (memory-level) never makes its directory.
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directorySize(path) : statSync(path).size;
  }
  return total;
}

function skip(reason) {
  report({ store: config.store, skipped: reason });
  process.exit(0);
}

async function loadAdapter() {
  try {
    return await import(`./stores/${config.store}.mjs`);
  } catch (err) {
    skip(`could not be loaded: ${err.message}`);
  }
}

/** Interval of the RSS sampler, where the runtime has no high-water mark. */
const RSS_SAMPLE_MS = 50;

/**
 * The peak RSS of this process, from the kernel's high-water mark
 * (resourceUsage().maxRSS, in KiB) where the runtime provides it. Otherwise
 * the largest memoryUsage().rss seen every RSS_SAMPLE_MS and after each
 * phase, a lower bound: a peak between samples is missed. `source` says which.
 */
function peakRssMeter() {
  if (typeof process.resourceUsage === 'function' && process.resourceUsage().maxRSS > 0) {
    return { sample() {}, read: () => ({ bytes: process.resourceUsage().maxRSS * 1024, source: 'process.resourceUsage().maxRSS (the high-water mark)' }) };
  }
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  sample();
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  return {
    sample,
    read() {
      clearInterval(timer);
      sample();
      return { bytes: peak, source: `process.memoryUsage().rss sampled every ${RSS_SAMPLE_MS} ms and after each phase (a lower bound)` };
    },
  };
}

const rss = peakRssMeter();
const adapter = await loadAdapter();
const inputs = makeInputs(config);
const results = {};
const diskBytes = {};
/**
 * The open store; `writes`, the workloads that wrote to it (naming its disk
 * figure); `full`, whether it holds all n keys; `state`, what they hold.
 */
let current;

async function closeCurrent() {
  if (current === undefined) return;
  await current.store.close();
  diskBytes[current.writes.join('+')] = directorySize(current.dir);
  rmSync(current.dir, { recursive: true, force: true });
  current = undefined;
}

/** Whether a store has opened: until then, a failing open means the store cannot run here at all. */
let openedOnce = false;

/**
 * Opens `adapter` in an empty directory. The first open is where a binding
 * loaded only when a store opens (better-sqlite3's) shows that it cannot
 * run under this runtime: such a store is skipped, as one whose import fails.
 */
async function openStore(dir) {
  try {
    const store = await adapter.open(dir);
    openedOnce = true;
    return store;
  } catch (err) {
    if (openedOnce) throw err;
    skip(`could not open a store: ${err.message}`);
  }
}

async function freshStore(name) {
  await closeCurrent();
  const dir = join(config.dir, name);
  current = { store: await openStore(dir), dir, writes: [], full: false, state: { shift: 0 } };
  return current.store;
}

async function run(workload) {
  const result = await workload.run(current.store, inputs, current.state);
  if (workload.leavesFull !== undefined) {
    current.writes.push(workload.name);
    current.full = workload.leavesFull;
  }
  return result;
}

for (const name of config.workloads) {
  const workload = workloadNamed(name);
  if (workload.fresh) await freshStore(name);
  else if (current === undefined || !current.full) {
    log(`${name} needs a store holding every key: an unmeasured fillrandom first`);
    await freshStore('prefill');
    await run(workloadNamed('fillrandom'));
    current.writes[0] = 'prefill';
  }
  try {
    const result = await run(workload);
    results[name] = result;
    log(`${name}: ${Math.round(result.opsPerSec).toLocaleString('en-US')} ops/s (median slice), ${result.seconds.toFixed(2)} s`);
  } catch (err) {
    // A wrong or failing store gets no figure for this workload; what it holds is now unknown, so it is closed.
    results[name] = { failed: err.message };
    log(`${name} failed: ${err.message}`);
    await closeCurrent().catch(() => {});
    current = undefined;
  }
  rss.sample();
}
await closeCurrent();
const peakRss = rss.read();

report({
  store: adapter.name,
  durability: adapter.durability,
  ceiling: adapter.ceiling === true,
  results,
  diskBytes,
  peakRssBytes: peakRss.bytes,
  peakRssSource: peakRss.source,
  runtime: currentRuntime(),
});
