// varve serve beside redis-server under redis-benchmark: 50 clients,
// 100-byte values, random keys, SET and GET, without pipelining and with
// -P 16. Each server runs in its own process on a fresh directory, one at a
// time; redis-server with appendonly yes (appendfsync everysec, Debian's
// default), varve serve with its default (--appendfsync no: a write is
// acknowledged once the OS has it). Prints requests per second, the median
// of --runs runs, and varve's ratio to Redis. A third server, the floor
// (bench/resp-floor.mjs: varve's RESP parser answering +OK, nothing else),
// shows how much of the gap is node:net's own cost.
//
// Usage (after npm run build; needs redis-server and redis-benchmark):
//   node bench/redis.mjs [--requests 200000] [--runs 3]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } } });
const REQUESTS = Number(values.requests);
const RUNS = Number(values.runs);
const root = new URL('..', import.meta.url).pathname;

function waitForPort(port) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const attempt = () => {
      const socket = createConnection(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => (Date.now() > deadline ? reject(new Error(`nothing listens on ${port}`)) : setTimeout(attempt, 50)));
    };
    attempt();
  });
}

const SERVERS = {
  redis: (dir, port) => spawn('redis-server', ['--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--logfile', ''], { stdio: 'ignore' }),
  varve: (dir, port) => spawn(process.execPath, [join(root, 'dist/cli/bin.js'), 'serve', dir, '--port', String(port), '--metrics-port', 'off', '--log-level', 'warn'], { stdio: 'ignore' }),
  floor: (_dir, port) => spawn(process.execPath, [join(root, 'bench/resp-floor.mjs'), String(port)], { stdio: 'ignore' }),
};

/** Requests per second of each test in one redis-benchmark run; pipelined runs send 4x the requests, so they last about as long. */
function benchmark(port, pipeline) {
  const requests = pipeline === 1 ? REQUESTS : REQUESTS * 4;
  const args = ['-p', String(port), '-c', '50', '-d', '100', '-r', '1000000', '-t', 'set,get', '-n', String(requests), '-P', String(pipeline), '--csv'];
  const run = spawnSync('redis-benchmark', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`redis-benchmark failed: ${run.stderr}`);
  const out = {};
  for (const line of run.stdout.trim().split('\n').slice(1)) {
    const [test, rps] = line.split(',').map((f) => f.replaceAll('"', ''));
    out[test] = Number(rps);
  }
  return out;
}

async function measure(name, pipeline) {
  const dir = mkdtempSync(join(os.tmpdir(), `bench-redis-${name}-`));
  const port = 7000 + Math.floor(Math.random() * 1000);
  const child = SERVERS[name](dir, port);
  try {
    await waitForPort(port);
    return benchmark(port, pipeline);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`redis-benchmark -c 50 -d 100 -r 1000000 -t set,get; ${os.cpus().length} CPUs, ${RUNS} runs each (median), servers one at a time`);
console.log(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim());
const rows = [];
for (const pipeline of [1, 16]) {
  const results = { redis: [], varve: [], floor: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const name of ['redis', 'varve', 'floor']) results[name].push(await measure(name, pipeline));
  }
  for (const test of ['SET', 'GET']) {
    const [redis, varve, floor] = ['redis', 'varve', 'floor'].map((name) => median(results[name].map((r) => r[test])));
    rows.push({ test: `${test} -P ${pipeline}`, redis, varve, floor });
  }
}
const rate = (n) => `${Math.round(n).toLocaleString('en-US')}/s`;
console.log('| test | redis-server (appendonly yes) | varve serve | varve / redis | floor (parser, +OK) | floor / redis |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.test} | ${rate(r.redis)} | ${rate(r.varve)} | ${(r.varve / r.redis).toFixed(2)}x | ${rate(r.floor)} | ${(r.floor / r.redis).toFixed(2)}x |`);
