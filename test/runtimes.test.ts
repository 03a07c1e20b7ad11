// The library unchanged on Node, Deno and Bun. The package is installed
// into a fresh project as npm would lay it out (its `files` copied into
// node_modules/varve, its dependency linked), then each runtime runs the
// same TypeScript smoke test (Node after tsc; Deno after `deno check`), the
// plain-ESM one, importing the package by name, and the `varve` executable.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDirs } from './support/temp-dir.js';
import { nodeBinary } from './support/runtime.js';
import { until } from './support/server.js';

const repo = new URL('..', import.meta.url).pathname;
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
const newDir = tempDirs('runtimes');

/** A project directory with varve installed in node_modules, and the two smoke scripts. */
function installedProject(): string {
  const project = newDir();
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { files: string[]; dependencies: Record<string, string> };
  const installed = join(project, 'node_modules', 'varve');
  mkdirSync(installed, { recursive: true });
  cpSync(join(repo, 'package.json'), join(installed, 'package.json'));
  for (const entry of pkg.files) {
    const from = join(repo, entry);
    if (!existsSync(from)) throw new Error(`package file ${entry} is missing: run npm run build`);
    mkdirSync(dirname(join(installed, entry)), { recursive: true });
    cpSync(from, join(installed, entry), { recursive: true });
  }
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(repo, 'node_modules', dep), join(project, 'node_modules', dep));
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', dependencies: { varve: '*' } }));
  for (const file of ['smoke.ts', 'esm.mjs', 'tsconfig.json']) cpSync(join(repo, 'test', 'runtimes', file), join(project, file));
  return project;
}

function run(project: string, command: string, args: string[], status = 0): string {
  const result = spawnSync(command, args, { cwd: project, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  if (result.status !== status) throw new Error(`${command} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The installed `varve` executable under a runtime (`prefix` runs a script): put, get, and a missing key's exit code 1. */
function checkCli(project: string, command: string, prefix: string[]): void {
  const cli = [...prefix, 'node_modules/varve/dist/cli/bin.js'];
  run(project, command, [...cli, 'put', 'cli-data', 'greeting', 'hello']);
  expect(run(project, command, [...cli, 'get', 'cli-data', 'greeting'])).toBe('hello\n');
  run(project, command, [...cli, 'get', 'cli-data', 'missing'], 1);
}

/** The installed `varve serve` under a runtime: a SET, then a GET and a PING pipelined in one write, then a clean stop on SIGTERM. */
async function checkServe(project: string, command: string, prefix: string[]): Promise<void> {
  const child = spawn(command, [...prefix, 'node_modules/varve/dist/cli/bin.js', 'serve', 'serve-data', '--port', '0', '--metrics-port', 'off', '--log-level', 'info'], { cwd: project, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await until(() => out.includes('varve serve ready'), 60_000);
    const { port } = JSON.parse(out.split('\n')[0]!) as { port: number };
    const client = connect(port, '127.0.0.1');
    let replies = '';
    client.on('data', (c: Buffer) => (replies += c.toString('latin1')));
    const replied = async (expected: string) => {
      await until(() => replies.length >= expected.length || client.closed);
      expect(replies).toBe(expected);
    };
    await once(client, 'connect');
    client.write('*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n');
    await replied('+OK\r\n');
    client.write('*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n');
    await replied('+OK\r\n$5\r\nworld\r\n+PONG\r\n');
    client.destroy();
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  }
}

describe('runtimes', () => {
  it('Node runs the TypeScript smoke test (compiled by tsc against the published types), the ESM one, the CLI and the server', async () => {
    const project = installedProject();
    run(project, nodeBinary, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    expect(run(project, nodeBinary, ['out/smoke.js'])).toContain('ok node');
    expect(run(project, nodeBinary, ['esm.mjs'])).toContain('ok esm');
    checkCli(project, nodeBinary, []);
    await checkServe(project, nodeBinary, []);
  }, 180_000);

  it('Deno type-checks and runs the TypeScript smoke test, runs the ESM one and the CLI with read and write permissions only, and the server', async () => {
    const project = installedProject();
    run(project, bin('deno'), ['check', 'smoke.ts']);
    expect(run(project, bin('deno'), ['run', '--allow-all', 'smoke.ts'])).toContain('ok deno');
    expect(run(project, bin('deno'), ['run', '--allow-all', 'esm.mjs'])).toContain('ok esm');
    // The library and the CLI need read and write access and nothing else.
    checkCli(project, bin('deno'), ['run', '--allow-read=.', '--allow-write=.']);
    // The server's log (pino) reads the environment; it needs the network besides.
    await checkServe(project, bin('deno'), ['run', '--allow-all']);
  }, 180_000);

  it('Bun runs the TypeScript smoke test, the ESM one, the CLI and the server', async () => {
    const project = installedProject();
    expect(run(project, bin('bun'), ['smoke.ts'])).toContain('ok bun');
    expect(run(project, bin('bun'), ['esm.mjs'])).toContain('ok esm');
    checkCli(project, bin('bun'), []);
    await checkServe(project, bin('bun'), []);
  }, 180_000);
});
