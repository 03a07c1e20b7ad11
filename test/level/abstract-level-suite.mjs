// abstract-level's own compliance suite (the test/ folder of the
// abstract-level package), run with tape against varve/level as the
// package's README describes. Prints TAP; test/level.test.ts runs it
// inside npm test and checks the totals.
import test from 'tape';
import suite from 'abstract-level/test/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VarveLevel } from 'varve/level';

const root = mkdtempSync(join(tmpdir(), 'varve-abstract-level-'));
let n = 0;

suite({
  test,
  factory(options) {
    return new VarveLevel(join(root, String(n++)), options);
  },
});

test.onFinish(() => rmSync(root, { recursive: true, force: true }));
