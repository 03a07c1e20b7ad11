// varve serve through Debian's redis-tools: redis-cli round trips and a
// short redis-benchmark run. .ci/run installs redis-tools when missing;
// on a machine without it these tests are skipped, and say so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { RunningServer } from '../src/server/server.js';
import { tempDirs } from './support/temp-dir.js';
import { startTestServer } from './support/server.js';

const newDir = tempDirs('server-redis-tools');
const hasRedisTools = spawnSync('redis-cli', ['--version']).status === 0 && spawnSync('redis-benchmark', ['--version']).status === 0;
if (!hasRedisTools) console.warn('redis-tools is not installed: the redis-cli and redis-benchmark tests are skipped (apt-get install redis-tools)');

describe.skipIf(!hasRedisTools)('redis-tools', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer(newDir());
  });
  afterAll(() => server.close());

  /** Runs a tool as a child process without blocking this process's event loop, where the server runs. */
  function tool(command: string, args: string[], input = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(command, args);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(input);
    });
  }
  const cli = (...args: string[]) => tool('redis-cli', ['-p', String(server.port), ...args]);

  it('round-trips commands through redis-cli', async () => {
    expect((await cli('SET', 'greeting', 'hello world')).stdout).toBe('OK\n');
    expect((await cli('GET', 'greeting')).stdout).toBe('hello world\n');
    expect((await cli('INCRBY', 'n', '5')).stdout).toBe('5\n');
    expect((await cli('TTL', 'greeting')).stdout).toBe('-1\n');
    expect((await cli('MGET', 'greeting', 'nope')).stdout).toBe('hello world\n\n');
    for (let i = 0; i < 30; i++) await cli('SET', `scan:${i}`, String(i));
    const scanned = (await cli('--scan', '--pattern', 'scan:*')).stdout.trim().split('\n');
    expect(scanned.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `scan:${i}`).sort());
    expect((await cli('-3', 'HELLO', '3')).stdout).toContain('proto');
    expect((await cli('FROB')).stdout).toContain("ERR unknown command 'FROB'");
    const piped = await tool('redis-cli', ['-p', String(server.port)], 'SET piped 1\nINCR piped\nGET piped\n');
    expect(piped.stdout).toBe('OK\n2\n2\n');
  });

  it('runs redis-benchmark without errors, with and without pipelining', async () => {
    for (const pipeline of ['1', '16']) {
      const run = await tool('redis-benchmark', ['-p', String(server.port), '-t', 'set,get', '-n', '20000', '-c', '50', '-r', '100000', '-d', '100', '-P', pipeline, '-q']);
      expect(run.status).toBe(0);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.stdout).toMatch(/SET: [\d.]+ requests per second/);
      expect(run.stdout).toMatch(/GET: [\d.]+ requests per second/);
    }
  }, 240_000);
});
