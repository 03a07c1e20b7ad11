// The engine against a model, metamorphically: one random sequence of writes
// (puts with and without TTL, deletes, range deletes, batches, clears), clock
// moves, snapshots, reads, iterators with bounds and reverse, compactions,
// checkpoints and reopens runs under every option set below (tiny memtable
// and blocks, no compression, size-tiered compaction, sync on), with every
// read compared against a plain Map at the latest state and at every held
// snapshot: the same results everywhere. fast-check shrinks a failing
// sequence to a minimal one.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { open, type Database, type Snapshot } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('model');
const dec = new TextDecoder();
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : dec.decode(b));

/** A key's value and when it expires (ms since the epoch; undefined: never). */
interface ModelEntry {
  value: string;
  expiresAt: number | undefined;
}
type State = Map<string, ModelEntry>;

type Write =
  | { t: 'put'; k: string; v: string; ttl: number | null }
  | { t: 'del'; k: string }
  | { t: 'range'; lo: string; hi: string };
type Op =
  | Write
  | { t: 'batch'; ops: Write[]; now: boolean }
  | { t: 'clear'; lo: string | null; hi: string | null }
  | { t: 'tick'; ms: number }
  | { t: 'snap' }
  | { t: 'release'; i: number }
  | { t: 'get'; k: string; at: number }
  | { t: 'getMany'; ks: string[]; at: number }
  | { t: 'scan'; lo: string | null; hi: string | null; reverse: boolean; limit: number; at: number }
  | { t: 'compact'; lo: string | null; hi: string | null }
  | { t: 'checkpoint' }
  | { t: 'reopen' };

const key = fc.stringMatching(/^[a-c]{0,2}$/);
const value = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 400, maxLength: 2000 }));
// Coarse times, so a read often lands exactly on an expiry.
const ttl = fc.option(fc.integer({ min: 1, max: 30 }).map((n) => n * 100), { freq: 3 });
const bound = fc.option(key, { freq: 3 });
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: value, ttl }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('range' as const), lo: key, hi: key }) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: write },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(write, { maxLength: 8 }), now: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clear' as const), lo: bound, hi: bound }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 20 }).map((n) => n * 100) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'snap' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('get' as const), k: key, at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('getMany' as const), ks: fc.array(key, { maxLength: 12 }), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('scan' as const), lo: bound, hi: bound, reverse: fc.boolean(), limit: fc.integer({ min: -1, max: 6 }), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const), lo: bound, hi: bound }) },
  { weight: 1, arbitrary: fc.constant({ t: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
);

function applyWrite(state: State, w: Write, now: number): void {
  if (w.t === 'put') state.set(w.k, { value: w.v, expiresAt: w.ttl === null ? undefined : now + w.ttl });
  else if (w.t === 'del') state.delete(w.k);
  else for (const k of [...state.keys()]) if (k >= w.lo && k < w.hi) state.delete(k);
}

function live(entry: ModelEntry | undefined, now: number): ModelEntry | undefined {
  return entry === undefined || (entry.expiresAt !== undefined && entry.expiresAt <= now) ? undefined : entry;
}

function dbWrite(w: Write) {
  if (w.t === 'put') return { type: 'put' as const, key: w.k, value: w.v, ...(w.ttl === null ? {} : { ttl: w.ttl }) };
  if (w.t === 'del') return { type: 'del' as const, key: w.k };
  return { type: 'deleteRange' as const, start: w.lo, end: w.hi };
}

/** Options of a run: the database's, and those of every write (sync on or off). */
interface RunOptions {
  open: Record<string, unknown>;
  write: { sync: boolean };
}

async function runSequence(ops: Op[], run: RunOptions): Promise<void> {
  const options = run.open;
  const sync = run.write;
  const dir = newDir();
  let checkpoints = 0;
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  let db: Database = await open(dir, { ...options, clock });
  let state: State = new Map();
  // Held snapshots with the model state each one must keep seeing.
  let snaps: Array<{ snap: Snapshot; state: State }> = [];
  const view = (at: number) => (snaps.length === 0 || at % (snaps.length + 1) === 0 ? undefined : snaps[(at % (snaps.length + 1)) - 1]);
  try {
    for (const o of ops) {
      switch (o.t) {
        case 'put':
          await db.put(o.k, o.v, o.ttl === null ? sync : { ...sync, ttl: o.ttl });
          applyWrite(state, o, now);
          break;
        case 'del':
          await db.del(o.k, sync);
          applyWrite(state, o, now);
          break;
        case 'range':
          if (o.lo < o.hi) {
            await db.deleteRange(o.lo, o.hi, sync);
            applyWrite(state, o, now);
          }
          break;
        case 'batch': {
          const ops = o.ops.filter((w) => w.t !== 'range' || w.lo < w.hi);
          // batchNow when it can (not when sync is asked for: it never syncs), else batch().
          if (!o.now || sync.sync || !db.batchNow(ops.map(dbWrite))) await db.batch(ops.map(dbWrite), sync);
          for (const w of ops) applyWrite(state, w, now);
          break;
        }
        case 'clear':
          await db.clear({ ...(o.lo === null ? {} : { gte: o.lo }), ...(o.hi === null ? {} : { lt: o.hi }) }, sync);
          for (const k of [...state.keys()]) if ((o.lo === null || k >= o.lo) && (o.hi === null || k < o.hi)) state.delete(k);
          break;
        case 'tick':
          now += o.ms;
          break;
        case 'snap':
          snaps.push({ snap: db.snapshot(), state: new Map(state) });
          break;
        case 'release':
          if (snaps.length > 0) snaps.splice(o.i % snaps.length, 1)[0]!.snap.release();
          break;
        case 'get': {
          const v = view(o.at);
          const expected = live((v?.state ?? state).get(o.k), now);
          const read = v === undefined ? {} : { snapshot: v.snap };
          expect(text(await db.get(o.k, read))).toBe(expected?.value);
          expect(text(db.getSync(o.k, read))).toBe(expected?.value);
          expect(await db.has(o.k, read)).toBe(expected !== undefined);
          const entry = await db.getEntry(o.k, read);
          expect(entry === undefined ? undefined : { value: text(entry.value), expiresAt: entry.expiresAt }).toEqual(expected);
          break;
        }
        case 'getMany': {
          // Read together (src/point-batch.ts), each key as a lone get reads it.
          const v = view(o.at);
          const expected = o.ks.map((k) => live((v?.state ?? state).get(k), now));
          const read = v === undefined ? {} : { snapshot: v.snap };
          expect((await db.getMany(o.ks, read)).map(text)).toEqual(expected.map((e) => e?.value));
          const entries = db.getEntriesSync(o.ks, read).map((e) => (e === undefined ? undefined : { value: text(e.value), expiresAt: e.expiresAt }));
          expect(entries).toEqual(expected);
          break;
        }
        case 'scan': {
          const v = view(o.at);
          let expected = [...(v?.state ?? state)]
            .filter(([k, e]) => live(e, now) !== undefined && (o.lo === null || k >= o.lo) && (o.hi === null || k < o.hi))
            .map(([k, e]) => [k, e.value])
            .sort(([a], [b]) => (a! < b! ? -1 : 1));
          if (o.reverse) expected.reverse();
          if (o.limit >= 0) expected = expected.slice(0, o.limit);
          const options = { ...(o.lo === null ? {} : { gte: o.lo }), ...(o.hi === null ? {} : { lt: o.hi }), reverse: o.reverse, limit: o.limit };
          const it = db.iterator(v === undefined ? options : { ...options, snapshot: v.snap });
          const seen = (await it.all()).map(([k, val]) => [dec.decode(k), dec.decode(val)]);
          expect(seen).toEqual(expected);
          break;
        }
        case 'compact':
          await db.compactRange(o.lo ?? undefined, o.hi ?? undefined);
          break;
        case 'checkpoint': {
          // A checkpoint holds every acknowledged write: opened on its own, it reads as the model does now.
          const target = `${dir}-checkpoint-${checkpoints++}`;
          await db.checkpoint(target);
          const copy = await open(target, { ...options, clock });
          try {
            const expected = [...state].filter(([, e]) => live(e, now) !== undefined).map(([k, e]) => [k, e.value]).sort(([a], [b]) => (a! < b! ? -1 : 1));
            expect((await copy.iterator().all()).map(([k, val]) => [dec.decode(k), dec.decode(val)])).toEqual(expected);
          } finally {
            await copy.close();
          }
          break;
        }
        case 'reopen':
          for (const s of snaps) s.snap.release();
          snaps = [];
          await db.close();
          db = await open(dir, { ...options, clock });
          break;
      }
    }
    // Everything written is still there, at the end, after a full compaction and a reopen.
    const expectAll = async () => {
      const expected = [...state].filter(([, e]) => live(e, now) !== undefined).map(([k, e]) => [k, e.value]).sort(([a], [b]) => (a! < b! ? -1 : 1));
      expect((await db.iterator().all()).map(([k, val]) => [dec.decode(k), dec.decode(val)])).toEqual(expected);
    };
    for (const s of snaps) s.snap.release();
    snaps = [];
    await expectAll();
    await db.compactRange();
    await expectAll();
    await db.close();
    db = await open(dir, { ...options, clock });
    await expectAll();
    state = new Map();
  } finally {
    await db.close();
  }
}

const small = { memtableSize: 64 * 1024 };
const optionSets: Array<[string, RunOptions]> = [
  ['small memtable and blocks', { open: { ...small, blockSize: 256 }, write: { sync: false } }],
  ['no compression, one-entry restarts', { open: { ...small, blockSize: 512, compression: 'none', blockRestartInterval: 1 }, write: { sync: false } }],
  ['size-tiered compaction', { open: { ...small, compactionStyle: 'tiered' }, write: { sync: false } }],
  ['every write synced', { open: small, write: { sync: true } }],
];

describe('model: writes, TTL, range deletes, snapshots, compactions, checkpoints and reopens', () => {
  it(`one sequence matches a Map model under each option set: ${optionSets.map(([name]) => name).join('; ')}`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 70, size: 'max' }), async (ops) => {
        for (const [, run] of optionSets) await runSequence(ops, run);
      }),
      // 25 whole-database runs take ~30 s on 2 idle cores; the global 45 s interrupt is for quick properties.
      { numRuns: 25, interruptAfterTimeLimit: 240_000 },
    );
  }, 300_000);
});
