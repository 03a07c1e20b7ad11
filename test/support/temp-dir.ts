// Temporary directories for tests that use real files; removed after each test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export function tempDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), `varve-${prefix}-`));
  let n = 0;
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return () => join(root, `db${n++}`);
}
