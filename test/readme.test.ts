// Every README example that imports varve runs as written (the import is
// pointed at the built package), in a fresh directory.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes("from 'varve'"));
const dist = new URL('../dist/index.js', import.meta.url).href;

describe('README examples', () => {
  it('has examples to run', () => expect(examples.length).toBeGreaterThan(0));
  for (const [i, code] of examples.entries()) {
    it(`example ${i + 1} runs`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'varve-readme-'));
      try {
        const file = join(dir, 'example.mjs');
        writeFileSync(file, code.replaceAll("from 'varve'", `from '${dist}'`));
        const result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
