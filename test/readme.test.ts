// Every README example runs as written: each js block that imports varve
// or varve/level (the imports pointed at the built package), and the
// command-line block, line by line, with `varve` on the PATH running
// dist/cli/bin.js. Each in a fresh directory.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptRunner } from './support/runtime.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /from 'varve(\/level)?'/.test(code));
const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url).href;
const cliBlock = /## The varve command line[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const cliLines = cliBlock.split('\n').filter((l) => l.startsWith('varve '));

function inFreshDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'varve-readme-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README examples', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples.some((code) => code.includes("from 'varve/level'"))).toBe(true);
  });
  for (const [i, code] of examples.entries()) {
    it(`example ${i + 1} runs`, () =>
      inFreshDir((dir) => {
        const file = join(dir, 'example.mjs');
        writeFileSync(file, code.replaceAll("from 'varve/level'", `from '${dist('level/index.js')}'`).replaceAll("from 'varve'", `from '${dist('index.js')}'`));
        const result = spawnSync(scriptRunner[0], [...scriptRunner.slice(1), file], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      }));
  }

  it('runs the command-line example line by line', () =>
    inFreshDir((dir) => {
      expect(cliLines.length).toBeGreaterThan(10);
      const binDir = join(dir, 'bin');
      mkdirSync(binDir);
      writeFileSync(join(binDir, 'varve'), `#!/bin/sh\nexec ${scriptRunner.map((a) => `"${a}"`).join(' ')} "${new URL('../dist/cli/bin.js', import.meta.url).pathname}" "$@"\n`);
      chmodSync(join(binDir, 'varve'), 0o755);
      // The file the example imports.
      writeFileSync(join(dir, 'users.jsonl'), ['ada', 'grace', 'edsger'].map((n) => JSON.stringify({ key: `user:${n}`, value: n })).join('\n') + '\n');
      const outputs: string[] = [];
      for (const line of cliLines) {
        const result = spawnSync('/bin/sh', ['-c', line], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${binDir}:${process.env['PATH']}` } });
        expect({ line, status: result.status, stderr: result.stderr }).toEqual({ line, status: 0, stderr: '' });
        outputs.push(result.stdout);
      }
      const out = (command: string) => outputs[cliLines.findIndex((l) => l.startsWith(`varve ${command}`))]!;
      expect(out('get')).toBe('hello\n');
      expect(out('scan').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { key: 'user:ada', value: 'ada' },
        { key: 'user:edsger', value: 'edsger' },
      ]);
      expect(out('count')).toBe('3\n');
      expect(out('verify')).toMatch(/^ok: every checksum matched/);
      expect(readFileSync(join(dir, 'backup.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
      expect(readFileSync(join(dir, 'tree.svg'), 'utf8')).toMatch(/^<svg|^<\?xml/);
    }), 60_000);
});
