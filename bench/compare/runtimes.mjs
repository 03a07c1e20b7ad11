// The JavaScript runtimes a store's child can run under (--runtime). run.mjs
// itself runs under Node; Bun and Deno need not be installed: they come
// through npx at the versions package.json's test:bun and test:deno scripts
// pin (change them together).
//
// Run as a script, this prints the runtime running it as JSON (run.mjs's probe).
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const NPX_RUNTIMES = {
  bun: { spec: 'bun@1.4.5', args: [] },
  deno: { spec: 'deno@2.9.5', args: ['run', '--allow-all'] },
};

const RUNTIMES = ['node', ...Object.keys(NPX_RUNTIMES)];

/** The runtime running this process: name, version, executable. */
export function currentRuntime() {
  const name = process.versions.bun ? 'bun' : process.versions.deno ? 'deno' : 'node';
  return { name, version: process.versions[name], execPath: process.execPath };
}

/** How to print a runtime: "Bun 1.4.5". */
export function runtimeLabel({ name, version }) {
  return `${name[0].toUpperCase()}${name.slice(1)} ${version}`;
}

/**
 * The runtime `name` as `{ name, version, execPath, args }`: a child runs as
 * `execPath ...args child.mjs config`. Bun and Deno are found once through
 * npx (which fetches them on first use) and then started directly, so a
 * child is the runtime's own process, not npx's, and its exit and peak RSS
 * are the store's.
 */
export function resolveRuntime(name) {
  if (name === 'node') return { ...currentRuntime(), args: [] };
  const npx = NPX_RUNTIMES[name];
  if (npx === undefined) throw new Error(`--runtime must be one of ${RUNTIMES.join(', ')}, got ${name}`);
  const probe = spawnSync('npx', ['--yes', npx.spec, ...npx.args, fileURLToPath(import.meta.url)], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  const found = probe.status === 0 ? JSON.parse(probe.stdout.trim().split('\n').at(-1)) : undefined;
  if (found?.name !== name) throw new Error(`could not start ${npx.spec} through npx (exit ${probe.status ?? probe.signal}):\n${probe.stderr}${probe.stdout}`);
  return { ...found, args: npx.args };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(currentRuntime()));
