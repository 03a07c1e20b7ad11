// SIGKILL torture (test/support/torture.ts): 50 cycles here; `npm run
// torture` runs 1,000 (TORTURE_CYCLES) and prints the same summary line.
import { describe, expect, it } from 'vitest';
import { torture } from './support/torture.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('torture');
const CYCLES = Number(process.env.TORTURE_CYCLES ?? 50);
const SEED = Number(process.env.TORTURE_SEED ?? 20261121);

describe('crash torture', () => {
  it(`recovers a prefix holding every acknowledged write after each of ${CYCLES} kills`, async () => {
    const report = await torture(newDir(), CYCLES, SEED);
    console.log(`torture: ${report.cycles} cycles, ${report.violations.length} violations (seed ${SEED}; ${report.killedMidway} kills mid-sequence; ${report.deeperTables} tables below level 0 at the end)`);
    for (const v of report.violations) console.log(`violation: ${v}`);
    expect(report.violations).toEqual([]);
    expect(report.cycles).toBe(CYCLES);
    // The kills landed mid-sequence, and flushes and compactions ran between them.
    expect(report.killedMidway).toBeGreaterThan(CYCLES / 4);
    expect(report.deeperTables).toBeGreaterThan(0);
  }, 60_000 + CYCLES * 2_000);
});
