// The crash torture: cycle after cycle, a writer child (./crash-writer.mjs)
// puts, deletes, batches and range-deletes into one directory, some writes
// with sync, with a memtable and levels small enough that flushes and
// compactions run all the time; it is killed with SIGKILL at a random
// moment (after a random acknowledgement, or a random time after opening).
// The parent reopens the directory and checks it against the Map model:
//   - the state equals the model after some prefix of the issued writes
//     (no holes, no resurrected deletes);
//   - that prefix holds every acknowledged write (sync or not: a process
//     crash keeps what the OS was handed), so every sync-acknowledged one;
//   - reverse iteration and point reads agree with the forward scan.
// A failed check is a violation, counted and described, and the next cycle
// continues from what was recovered. Everything derives from one seed.
import { cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Database, type Options } from '../../src/index.js';
import { ChildWriter, type Write } from './child-writer.js';
import { type Shape, between, keyOf, makeWrites, matchingPrefixes, prng, readState } from './crash-model.js';

export interface TortureReport {
  cycles: number;
  violations: string[];
  /** Cycles whose kill landed before the child had every write acknowledged. */
  killedMidway: number;
  /** Tables in levels >= 1 at the end: compactions ran. */
  deeperTables: number;
}

export const TORTURE_OPTIONS: Options = {
  memtableSize: 64 * 1024,
  compaction: { maxBytesForLevelBase: 256 * 1024, levelMultiplier: 4, targetFileSize: 64 * 1024 },
};

const SHAPE: Shape = { count: 400, keys: 3000, minValue: 10, maxValue: 600, del: 0.1, batch: 0.2, range: 0.03, batchMin: 1, batchMax: 24, sync: 0.1 };

const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What is wrong with `db` after writes[0..) from `base` were cut by a kill, or nothing; and the recovered state. */
async function check(db: Database, base: Map<string, string>, writes: Write[], acked: number, rand: () => number): Promise<{ problems: string[]; state: Map<string, string>; prefix: number }> {
  const problems: string[] = [];
  const state = await readState(db);
  const matches = matchingPrefixes(base, writes, state);
  const prefix = matches.length > 0 ? matches[matches.length - 1]! : -1;
  if (matches.length === 0) problems.push('the recovered state is the model after no prefix of the writes');
  else if (prefix <= acked) problems.push(`acknowledged writes lost: the state is a prefix of ${prefix} writes, ${acked + 1} were acknowledged`);
  const forward = [...state.keys()];
  const backward: string[] = [];
  for await (const [k] of db.iterator({ reverse: true })) backward.push(dec.decode(k));
  if (backward.reverse().join('\n') !== forward.join('\n')) problems.push('reverse iteration disagrees with the forward scan');
  const probes = [...forward.filter(() => rand() < 0.1), ...Array.from({ length: 50 }, () => keyOf(between(rand, 0, SHAPE.keys - 1)))];
  for (const k of probes) {
    const got = db.getSync(k);
    if ((got === undefined ? undefined : dec.decode(got)) !== state.get(k)) problems.push(`get(${k}) disagrees with the scan`);
  }
  return { problems, state, prefix };
}

/** Runs `cycles` kill cycles against `dir`. A violating cycle's directory is copied under the system's temporary directory, named in the violation, for study. */
export async function torture(dir: string, cycles: number, seed: number): Promise<TortureReport> {
  const rand = prng(seed);
  const report: TortureReport = { cycles: 0, violations: [], killedMidway: 0, deeperTables: 0 };
  type Kill = { afterAck: number } | { afterMs: number };
  const plan = Array.from({ length: cycles }, (_, n): { writes: Write[]; window: number; kill: Kill } => ({
    writes: makeWrites(seed * 100_003 + n, SHAPE),
    window: between(rand, 1, 16),
    kill: rand() < 0.5 ? { afterAck: between(rand, 0, SHAPE.count - 1) } : { afterMs: between(rand, 0, 250) },
  }));
  const spawn = (n: number) => new ChildWriter({ dir, options: TORTURE_OPTIONS, ops: plan[n]!.writes, window: plan[n]!.window, mode: 'kill' }, `${dir}.spec.json`);
  let base = new Map<string, string>();
  // The next child boots while this cycle is checked.
  let next: ChildWriter | undefined = spawn(0);
  try {
    for (let n = 0; n < cycles; n++) {
      const child = next!;
      next = undefined;
      const { writes, kill } = plan[n]!;
      child.start();
      if ('afterAck' in kill) await child.until(() => child.acked >= kill.afterAck);
      else {
        await child.until(() => child.ready);
        await sleep(kill.afterMs);
      }
      await child.kill();
      const context = `cycle ${n} (seed ${seed}, kill ${JSON.stringify(kill)}, acked ${child.acked}, sync-acked ${child.syncAcked})`;
      const problems = child.error === undefined ? [] : [`the writer failed: ${child.error}`];
      let db: Database | undefined;
      try {
        db = await open(dir, TORTURE_OPTIONS);
        const result = await check(db, base, writes, child.acked, rand);
        problems.push(...result.problems);
        if (result.prefix >= 0 && result.prefix < writes.length) report.killedMidway++;
        base = result.state;
      } catch (err) {
        problems.push(`reopen or read failed: ${(err as Error).message}`);
      } finally {
        await db?.close();
      }
      if (n + 1 < cycles) next = spawn(n + 1);
      if (problems.length > 0) {
        const kept = join(tmpdir(), `varve-torture-violation-${process.pid}-${n}`);
        if (existsSync(dir)) cpSync(dir, kept, { recursive: true });
        report.violations.push(`${context}: ${problems.join('; ')} (the directory is kept at ${kept})`);
      }
      report.cycles++;
    }
  } finally {
    await next?.kill();
  }
  const db = await open(dir, TORTURE_OPTIONS);
  report.deeperTables = db.stats().levels.slice(1).reduce((sum, level) => sum + level.files, 0);
  await db.close();
  return report;
}
