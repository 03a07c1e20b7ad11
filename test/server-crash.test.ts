// kill -9 of a varve serve process while clients write, then a restart on
// the same directory: every write the server acknowledged is there, with
// --appendfsync always (acknowledged after fdatasync) and with the default
// (acknowledged once the OS has it, which a process crash cannot lose).
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { tempDirs } from './support/temp-dir.js';
import { until } from './support/server.js';
import { isDeno, scriptRunner } from './support/runtime.js';

const newDir = tempDirs('server-crash');
const bin = new URL('../dist/cli/bin.js', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The code the child exits with; under Deno, whose child_process reports any child it sent a signal as killed by it, 0 stands in. */
function exitCodeOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(isDeno ? 0 : code)));
}

async function startProcess(dir: string, port: number, appendfsync: string): Promise<ChildProcess> {
  const child = spawn(scriptRunner[0], [...scriptRunner.slice(1), bin, 'serve', dir, '--port', String(port), '--metrics-port', 'off', '--appendfsync', appendfsync, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  await until(() => child.exitCode === null, 1000);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await probe.connect();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return child;
}

/** Writes from 16 concurrent writers until the process dies; returns what was acknowledged. */
async function writeUntilKilled(port: number, child: ChildProcess, cycle: number, killAfterMs: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  const client = new Redis({ port, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('ready', resolve));
  let n = 0;
  let dead = false;
  const writer = async () => {
    while (!dead) {
      const key = `c${cycle}:${n++}`;
      const value = `${key}:${'x'.repeat(n % 200)}`;
      try {
        await client.set(key, value);
        acked.set(key, value);
      } catch {
        return;
      }
    }
  };
  const writers = Array.from({ length: 16 }, writer);
  await new Promise((r) => setTimeout(r, killAfterMs));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  dead = true;
  await Promise.all(writers);
  client.disconnect();
  await exited;
  return acked;
}

describe('varve serve as a process', () => {
  it('logs JSON lines (pino) at the level asked, and closes the store on SIGINT', async () => {
    const dir = newDir();
    const port = await freePort();
    const child = spawn(scriptRunner[0], [...scriptRunner.slice(1), bin, 'serve', dir, '--port', String(port), '--metrics-port', 'off', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await until(() => out.includes('varve serve ready'), 20_000);
    const exited = exitCodeOf(child);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; port?: number });
    expect(lines[0]).toMatchObject({ level: 30, msg: 'varve serve ready', port });
    expect(lines.map((l) => l.msg)).toEqual(['varve serve ready', 'signal received', 'shutting down', 'store closed']);
  }, 60_000);
});

describe('varve serve under kill -9', () => {
  for (const appendfsync of ['always', 'no']) {
    it(`keeps every acknowledged write across 3 kills (appendfsync ${appendfsync})`, async () => {
      const dir = newDir();
      const port = await freePort();
      const all = new Map<string, string>();
      for (let cycle = 0; cycle < 3; cycle++) {
        const child = await startProcess(dir, port, appendfsync);
        for (const [k, v] of await writeUntilKilled(port, child, cycle, 300 + cycle * 200)) all.set(k, v);
      }
      expect(all.size).toBeGreaterThan(100);
      const child = await startProcess(dir, port, appendfsync);
      const client = new Redis({ port });
      try {
        const keys = [...all.keys()];
        for (let i = 0; i < keys.length; i += 500) {
          const slice = keys.slice(i, i + 500);
          expect(await client.mget(...slice)).toEqual(slice.map((k) => all.get(k)));
        }
      } finally {
        client.disconnect();
      }
      const exited = exitCodeOf(child);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }, 120_000);
  }
});
