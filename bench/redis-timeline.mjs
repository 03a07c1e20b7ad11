// How the first GET run after a SET run unfolds on one server, a row every
// --interval ms: the GET rate redis-benchmark reports, and the CPU the
// server's main thread and its other threads (compactions, flushes, the
// runtime's compiler and collector) used meanwhile. bench/redis.mjs reports
// that first run as one number; this shows it ramp as the block cache fills,
// a compaction runs and the code warms up, then the same for a second run.
//
// Usage (after npm run build; needs redis-server and redis-benchmark, and
// /proc for the CPU columns):
//   node bench/redis-timeline.mjs [--server varve|redis] [--pipeline 16] [--requests 800000] [--interval 250]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVERS, threadSeconds, waitForPort } from './redis-servers.mjs';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'varve' },
    pipeline: { type: 'string', default: '16' },
    requests: { type: 'string', default: '800000' },
    interval: { type: 'string', default: '250' },
  },
});
const INTERVAL_MS = Number(values.interval);
const args = (test) => ['-p', String(port), '-c', '50', '-d', '100', '-r', '1000000', '-t', test, '-n', values.requests, '-P', values.pipeline];

/** Runs a GET run, sampling every INTERVAL_MS; resolves with the rows and redis-benchmark's overall rate. */
function timedGetRun(pid) {
  return new Promise((resolve, reject) => {
    const run = spawn('redis-benchmark', args('get'), { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    run.stdout.setEncoding('utf8');
    run.stdout.on('data', (text) => (output += text));
    const rows = [];
    const started = performance.now();
    let last = threadSeconds(pid);
    const timer = setInterval(() => {
      const now = threadSeconds(pid);
      const seconds = INTERVAL_MS / 1000;
      let main = 0;
      let others = 0;
      let busiest = 0;
      for (const [tid, cpu] of now) {
        const used = cpu - (last.get(tid) ?? 0);
        if (tid === pid) main = used;
        else {
          others += used;
          busiest = Math.max(busiest, used);
        }
      }
      last = now;
      // redis-benchmark rewrites one line ("GET: rps=... (overall: ...) ...") with carriage returns.
      const rates = [...output.matchAll(/rps=([\d.]+)/g)];
      const rate = rates.length > 0 ? Number(rates[rates.length - 1][1]) : 0;
      rows.push({ t: (performance.now() - started) / 1000, rate, main: main / seconds, busiest: busiest / seconds, others: others / seconds });
    }, INTERVAL_MS);
    run.once('error', reject);
    run.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`redis-benchmark exited with ${code}`));
      const overall = output.match(/([\d.]+) requests per second/);
      resolve({ rows, overall: overall ? Number(overall[1]) : NaN });
    });
  });
}

const dir = mkdtempSync(join(os.tmpdir(), 'bench-redis-timeline-'));
const port = 7000 + Math.floor(Math.random() * 1000);
const server = SERVERS[values.server](dir, port);
const pct = (x) => `${Math.round(x * 100)}%`;
try {
  await waitForPort(port);
  const set = spawnSync('redis-benchmark', [...args('set'), '-q'], { encoding: 'utf8' });
  if (set.status !== 0) throw new Error(`redis-benchmark SET failed: ${set.stderr}`);
  console.log(`${values.server}: redis-benchmark -c 50 -d 100 -r 1000000 -n ${values.requests} -P ${values.pipeline}, SET, then GET twice; a row every ${INTERVAL_MS} ms`);
  for (const name of ['first GET run', 'second GET run']) {
    const { rows, overall } = await timedGetRun(server.pid);
    console.log(`\n${name}: ${Math.round(overall).toLocaleString('en-US')} GET/s overall`);
    console.log('| s | GET/s | main thread | busiest other thread | all other threads |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.t.toFixed(2)} | ${Math.round(r.rate).toLocaleString('en-US')} | ${pct(r.main)} | ${pct(r.busiest)} | ${pct(r.others)} |`);
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
