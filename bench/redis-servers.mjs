// What bench/redis.mjs and bench/redis-timeline.mjs share: the servers they
// start (redis-server, varve serve, the parser floor), waiting for one to
// listen, and reading a server's CPU time from /proc (Linux).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Each server's start on a fresh directory and a port: redis-server with appendonly yes, varve serve with its defaults, the floor. */
export const SERVERS = {
  redis: (dir, port) => spawn('redis-server', ['--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--logfile', ''], { stdio: 'ignore' }),
  varve: (dir, port) => spawn(process.execPath, [join(root, 'dist/cli/bin.js'), 'serve', dir, '--port', String(port), '--metrics-port', 'off', '--log-level', 'warn'], { stdio: 'ignore' }),
  floor: (_dir, port) => spawn(process.execPath, [join(root, 'bench/resp-floor.mjs'), String(port)], { stdio: 'ignore' }),
};

/** Resolves once something accepts connections on `port`; rejects after 20 s. */
export function waitForPort(port) {
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

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU seconds (user + system) in a /proc stat file, or undefined where it is not there. */
function statSeconds(stat) {
  if (!existsSync(stat)) return undefined;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds the process has used so far, every thread; undefined where /proc is not there. */
export function cpuSeconds(pid) {
  return statSeconds(`/proc/${pid}/stat`);
}

/**
 * The machine's CPU time so far, in clock ticks over all CPUs: the total, and
 * the part a hypervisor gave to other guests (steal); undefined where
 * /proc/stat is not there.
 */
export function machineTicks() {
  if (!existsSync('/proc/stat')) return undefined;
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] };
}

/** CPU seconds of each of the process's threads (its main thread's id is its pid); empty where /proc is not there. */
export function threadSeconds(pid) {
  const dir = `/proc/${pid}/task`;
  const out = new Map();
  if (!existsSync(dir)) return out;
  for (const tid of readdirSync(dir)) {
    const seconds = statSeconds(`${dir}/${tid}/stat`);
    if (seconds !== undefined) out.set(Number(tid), seconds);
  }
  return out;
}
