// One store's run, in its own process: builds the shared inputs, runs the
// chosen workloads in order and writes its results as one JSON line on
// stdout (progress goes to stderr). A store that cannot be loaded reports
// itself skipped instead of failing the comparison.
//
// Usage: node child.mjs '{"store":"varve","dir":"/tmp/x","n":1000000,"reads":100000,"seed":1,"workloads":["fillseq"]}'
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
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
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directorySize(path) : statSync(path).size;
  }
  return total;
}

async function loadAdapter() {
  try {
    return await import(`./stores/${config.store}.mjs`);
  } catch (err) {
    report({ store: config.store, skipped: `could not be loaded: ${err.message}` });
    process.exit(0);
  }
}

const adapter = await loadAdapter();
const inputs = makeInputs(config);
const results = {};
const diskBytes = {};
/** The open store and the workload that filled it. */
let current;

async function closeCurrent() {
  if (current === undefined) return;
  await current.store.close();
  diskBytes[current.filledBy] = directorySize(current.dir);
  rmSync(current.dir, { recursive: true, force: true });
  current = undefined;
}

async function freshStore(filledBy) {
  await closeCurrent();
  const dir = join(config.dir, filledBy);
  current = { store: await adapter.open(dir), dir, filledBy };
  return current.store;
}

for (const name of config.workloads) {
  const workload = workloadNamed(name);
  if (!workload.fresh && current === undefined) {
    log(`${name} needs a filled store: an unmeasured fillrandom first`);
    await workloadNamed('fillrandom').run(await freshStore('prefill'), inputs);
  }
  const store = workload.fresh ? await freshStore(name) : current.store;
  const result = await workload.run(store, inputs);
  results[name] = result;
  log(`${name}: ${Math.round(result.opsPerSec).toLocaleString('en-US')} ops/s (median slice), ${result.seconds.toFixed(2)} s`);
}
await closeCurrent();

report({
  store: adapter.name,
  durability: adapter.durability,
  results,
  diskBytes,
  // resourceUsage().maxRSS is in KiB.
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
});
