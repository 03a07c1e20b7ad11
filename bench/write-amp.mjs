// Write amplification of the compaction styles on one workload: random
// 16-byte keys with 100-byte values (half compressible, as db_bench), loaded
// in batches of 1,000, once as unique keys and once with overwrites.
// For each style it prints bytes written to tables by flushes and by
// compactions and to the WAL, over the user bytes (keys + values); the final
// level shape; space amplification (table bytes over the live data's bytes
// after a full compaction, which leaves only live data); and the time taken.
//
// Usage (after npm run build): node bench/write-amp.mjs [--n 1000000] [--styles leveled,tiered] [--workloads unique,overwrite]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { open, nodeFileSystem } from '../dist/index.js';

const KEY_SIZE = 16;
const VALUE_SIZE = 100;
const BATCH = 1000;

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    styles: { type: 'string', default: 'leveled,tiered' },
    workloads: { type: 'string', default: 'unique,overwrite' },
  },
});
const N = Number(args.n);

/** A FileSystem that counts the bytes written to tables (.vt) and WALs (.log). */
function countingFileSystem(counts) {
  const kindOf = (path) => (path.endsWith('.vt') ? 'table' : path.endsWith('.log') ? 'wal' : 'other');
  const wrap = (handle, kind) => ({
    get path() {
      return handle.path;
    },
    readSync: (b, o, l, p) => handle.readSync(b, o, l, p),
    read: (b, o, l, p) => handle.read(b, o, l, p),
    writeSync(b, o, l, p) {
      counts[kind] += l;
      handle.writeSync(b, o, l, p);
    },
    write(b, o, l, p) {
      counts[kind] += l;
      return handle.write(b, o, l, p);
    },
    datasync: () => handle.datasync(),
    datasyncSync: () => handle.datasyncSync(),
    size: () => handle.size(),
    closeSync: () => handle.closeSync(),
  });
  // Everything else is nodeFileSystem's own (its methods live on its prototype).
  const fs = Object.create(nodeFileSystem);
  fs.open = (path, mode) => wrap(nodeFileSystem.open(path, mode), kindOf(path));
  return fs;
}

/** xorshift32 */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** The i-th key of the workload: unique keys are a random permutation's worth of distinct values; overwrites draw from N/4 keys. */
function keyOf(workload, i, rand) {
  const k = new Uint8Array(KEY_SIZE);
  const id = workload === 'unique' ? Math.imul(i, 0x9e3779b1) >>> 0 : rand() % Math.max(1, Math.floor(N / 4));
  new DataView(k.buffer).setUint32(0, id, false);
  new DataView(k.buffer).setUint32(4, workload === 'unique' ? i : id, false);
  for (let j = 8; j < KEY_SIZE; j++) k[j] = (id >>> ((j % 4) * 8)) & 0xff;
  return k;
}

function valueOf(rand) {
  const v = new Uint8Array(VALUE_SIZE);
  for (let j = 0; j < VALUE_SIZE / 2; j++) v[j] = rand() & 0xff;
  v.fill(0x61, VALUE_SIZE / 2);
  return v;
}

const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);

async function run(style, workload) {
  const dir = mkdtempSync(join(os.tmpdir(), `varve-wamp-${style}-`));
  const counts = { table: 0, wal: 0, other: 0 };
  const rand = rng(42);
  const started = performance.now();
  const options = { compactionStyle: style, fs: countingFileSystem(counts) };
  let compactionWritten = 0;
  let compactions = 0;
  let moves = 0;
  let peak = 0;
  let db = await open(dir, options);
  try {
    for (let b = 0; b < N; b += BATCH) {
      const ops = [];
      for (let i = b; i < Math.min(N, b + BATCH); i++) ops.push({ type: 'put', key: keyOf(workload, i, rand), value: valueOf(rand) });
      await db.batch(ops);
    }
    // Reopening flushes what the memtable holds (WAL replay), so the tables hold every write.
    await db.waitForCompactions();
    const first = db.stats();
    compactionWritten = first.write.compactionBytesWritten;
    compactions = first.write.compactions;
    moves = first.write.trivialMoves;
    peak = first.background.peakCompactions;
    await db.close();
    db = await open(dir, options);
    await db.waitForCompactions();
    const loadSeconds = (performance.now() - started) / 1000;
    const stats = db.stats();
    const userBytes = N * (KEY_SIZE + VALUE_SIZE);
    const tableBytes = stats.levels.reduce((s, l) => s + l.bytes, 0);
    // Compaction counters restart with the reopen; the table bytes written by both opens are all flushes and compactions.
    const compactionBytes = compactionWritten + stats.write.compactionBytesWritten;
    const flushBytes = counts.table - compactionBytes;
    const shape = stats.levels.filter((l) => l.files > 0).map((l) => `L${l.level}:${l.files}/${mib(l.bytes)}M`).join(' ');
    // Space amplification: what the tree holds now over what a full compaction leaves (the live data alone).
    await db.compactRange();
    const liveBytes = db.stats().levels.reduce((s, l) => s + l.bytes, 0);
    return {
      style,
      workload,
      n: N,
      seconds: Number(loadSeconds.toFixed(1)),
      userMiB: Number(mib(userBytes)),
      walMiB: Number(mib(counts.wal)),
      flushMiB: Number(mib(flushBytes)),
      compactionMiB: Number(mib(compactionBytes)),
      writeAmp: Number(((flushBytes + compactionBytes) / userBytes).toFixed(2)),
      writeAmpWithWal: Number(((flushBytes + compactionBytes + counts.wal) / userBytes).toFixed(2)),
      compactions: compactions + stats.write.compactions,
      trivialMoves: moves + stats.write.trivialMoves,
      peakRunning: Math.max(peak, stats.background.peakCompactions),
      shape,
      spaceAmp: Number((tableBytes / liveBytes).toFixed(2)),
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const workload of args.workloads.split(',')) {
  for (const style of args.styles.split(',')) {
    const r = await run(style, workload);
    results.push(r);
    console.log(
      `${workload.padEnd(9)} ${style.padEnd(7)} n=${r.n} ${r.seconds}s  user ${r.userMiB} MiB  flush ${r.flushMiB} + compaction ${r.compactionMiB} MiB` +
        `  write-amp ${r.writeAmp} (${r.writeAmpWithWal} with WAL)  space-amp ${r.spaceAmp}  compactions ${r.compactions} (+${r.trivialMoves} moves, ${r.peakRunning} at once)  ${r.shape}`,
    );
  }
}
if (process.env.WRITE_AMP_JSON) console.log(JSON.stringify(results, null, 2));
