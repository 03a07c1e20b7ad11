// The end of a turn: the writes issued in one turn of the event loop (from
// separate socket callbacks, with microtasks between them) commit as one
// WAL record, visible at once; replies the commit resolves are written
// before the turn's flushes run.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { open, type Database } from '../src/db.js';
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from '../src/options.js';
import type { VarveError } from '../src/errors.js';
import { CommandError } from '../src/server/command.js';
import { Commit } from '../src/server/commit.js';
import { Keyspace } from '../src/server/keyspace.js';
import { TurnEnd } from '../src/server/turn.js';
import { FaultFs } from './support/fault-fs.js';
import { tempDirs } from './support/temp-dir.js';

const newDir = tempDirs('turn');
const bytes = (s: string) => Buffer.from(s);
let db: Database | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function keyspace(sync = false): Promise<Keyspace> {
  db = await open(newDir());
  return new Keyspace(db, sync, new TurnEnd());
}

const value = (entry: { value: Uint8Array } | undefined) => (entry === undefined ? undefined : Buffer.from(entry.value).toString());

describe('Keyspace with TurnEnd', () => {
  it('commits the writes of one turn as one WAL record, and each later turn as its own', async () => {
    const ks = await keyspace();
    const before = ks.db.stats().wal.records;
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      commits.push(ks.write([{ key: bytes(`k${i}`), entry: { value: bytes(`v${i}`), expiresAt: undefined } }]).promise());
      await Promise.resolve(); // as between two sockets' data callbacks
    }
    expect(value(ks.get(bytes('k49'), Date.now()))).toBe('v49');
    expect(ks.db.stats().wal.records).toBe(before);
    await Promise.all(commits);
    expect(ks.db.stats().wal.records).toBe(before + 1);
    expect(value(await ks.db.getEntry(bytes('k0')))).toBe('v0');

    await ks.write([{ key: bytes('a'), entry: { value: bytes('1'), expiresAt: undefined } }]).promise();
    await nextTurn();
    await ks.write([{ key: bytes('a'), entry: null }]).promise();
    expect(ks.db.stats().wal.records).toBe(before + 3);
    expect(ks.get(bytes('a'), Date.now())).toBeUndefined();
  });

  it('settles a turn whose WAL write fails as failed, with the cause; drops its writes from reads; refuses the next turn', async () => {
    const fs = new FaultFs();
    db = await open(newDir(), { fs });
    const ks = new Keyspace(db, false, new TurnEnd());
    const put = (key: string, v: string) => ks.write([{ key: bytes(key), entry: { value: bytes(v), expiresAt: undefined } }]);
    const ok = put('a', '1');
    await nextTurn();
    expect([ok.settled, ok.failed]).toEqual([true, false]);
    fs.arm({ op: 'write', nth: 1, errno: 'EIO', path: /\.log$/ });
    const bad = put('b', '2');
    expect(value(ks.get(bytes('b'), Date.now()))).toBe('2');
    await nextTurn();
    expect([bad.settled, bad.failed]).toEqual([true, true]);
    expect((bad.error as VarveError).code).toBe('ERR_IO');
    expect(ks.get(bytes('b'), Date.now())).toBeUndefined();
    expect(value(ks.get(bytes('a'), Date.now()))).toBe('1');
    fs.clear();
    const refused = put('c', '3');
    await nextTurn();
    expect((refused.error as VarveError).code).toBe('ERR_READ_ONLY');
  });

  it('syncs once for a turn of writes with --appendfsync always', async () => {
    const ks = await keyspace(true);
    const before = ks.db.stats().wal.syncs;
    const commits = Array.from({ length: 20 }, (_, i) => ks.write([{ key: bytes(`s${i}`), entry: { value: bytes('x'), expiresAt: undefined } }]).promise());
    await Promise.all(commits);
    expect(ks.db.stats().wal.syncs).toBe(before + 1);
  });

  it('settled() hands the pending writes to the engine at once, so an iteration after it sees them', async () => {
    const ks = await keyspace();
    void ks.write([{ key: bytes('x'), entry: { value: bytes('1'), expiresAt: undefined } }]);
    await ks.settled();
    expect(value(await ks.db.getEntry(bytes('x')))).toBe('1');
    expect(await ks.count()).toBe(1);
  });

  it('refuses a key or value over the engine limits with a CommandError, issuing nothing, and commits the rest of the turn', async () => {
    const ks = await keyspace();
    const ok = ks.write([{ key: bytes('fine'), entry: { value: bytes('1'), expiresAt: undefined } }]).promise();
    const bigKey = Buffer.alloc(MAX_KEY_SIZE + 1, 1);
    expect(() => ks.write([{ key: bytes('a'), entry: { value: bytes('x'), expiresAt: undefined } }, { key: bigKey, entry: null }])).toThrow(CommandError);
    expect(() => ks.write([{ key: bytes('b'), entry: { value: Buffer.allocUnsafe(MAX_VALUE_SIZE + 1), expiresAt: undefined } }])).toThrow(/value of 268435457 bytes is over varve's limit/);
    expect(ks.pendingWrites).toBe(1);
    await ok;
    expect(value(await ks.db.getEntry(bytes('fine')))).toBe('1');
    expect(await ks.db.getEntry(bytes('a'))).toBeUndefined();
  });

  it('a later write of a key keeps its overlay entry when an earlier group commits', async () => {
    const ks = await keyspace();
    const first = ks.write([{ key: bytes('k'), entry: { value: bytes('old'), expiresAt: undefined } }]).promise();
    await ks.settled(); // the first group is handed over; its settle has not run yet
    const second = ks.write([{ key: bytes('k'), entry: { value: bytes('new'), expiresAt: undefined } }]).promise();
    await first;
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new');
    await second;
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new');
    expect(ks.pendingWrites).toBe(0);
  });
});

describe('Keyspace overlay generations', () => {
  it('keeps a later group\'s write of a key when an earlier group settles first (--appendfsync always)', async () => {
    const ks = await keyspace(true);
    const first = ks.write([{ key: bytes('k'), entry: { value: bytes('old'), expiresAt: undefined } }]).promise();
    await nextTurn(); // the first group is handed over and waits for its fdatasync
    const second = ks.write([{ key: bytes('k'), entry: { value: bytes('new'), expiresAt: undefined } }]).promise();
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new'); // builds the overlay
    await first; // settled; the second group still waits for its own fdatasync
    expect(ks.pendingWrites).toBe(1);
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new');
    await second;
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new');
    expect(ks.pendingWrites).toBe(0);
  });
});

describe('TurnEnd', () => {
  it('a group that reaches 1 MiB commits at once; the writes after it in the turn, and in later turns, commit at their turn ends', async () => {
    const ks = await keyspace();
    const before = ks.db.stats().wal.records;
    const big = new Uint8Array(600 * 1024).fill(1);
    const put = (key: string, v: Uint8Array) => ks.write([{ key: bytes(key), entry: { value: v, expiresAt: undefined } }]).promise();
    const first = [put('a', big), put('b', big)];
    const after = put('c', bytes('small'));
    await Promise.all(first);
    expect(ks.db.stats().wal.records).toBe(before + 1);
    await after;
    expect(ks.db.stats().wal.records).toBe(before + 2);
    await nextTurn();
    await put('d', bytes('next turn'));
    expect(ks.db.stats().wal.records).toBe(before + 3);
    expect(value(await ks.db.getEntry(bytes('c')))).toBe('small');
    expect(value(await ks.db.getEntry(bytes('d')))).toBe('next turn');
  });

  it('runs the commits, then the flushes, those the commits queued included; later work waits for the next turn', async () => {
    const turn = new TurnEnd();
    const events: string[] = [];
    const commit = new Commit();
    commit.listen(() => {
      events.push('reply');
      turn.flush(() => events.push('flush reply'));
    });
    turn.flush(() => events.push('flush A'));
    turn.commit(() => {
      events.push('commit');
      // The keyspace settles a commit made at once on this stack: its listeners run inside the commit phase.
      commit.settle(false);
      turn.commit(() => events.push('commit next turn'));
    });
    turn.flush(() => {
      events.push('flush B');
      turn.flush(() => events.push('flush next turn'));
    });
    await nextTurn();
    expect(events).toEqual(['commit', 'reply', 'flush A', 'flush B', 'flush reply']);
    await nextTurn();
    expect(events.slice(5)).toEqual(['commit next turn', 'flush next turn']);
  });
});

describe('Keyspace against a model', () => {
  type Op =
    | { op: 'set'; key: number; value: number }
    | { op: 'del'; key: number }
    | { op: 'get'; key: number }
    | { op: 'flushdb' }
    | { op: 'microtask' }
    | { op: 'turn' }
    | { op: 'wait' }
    | { op: 'settled' };
  const keyArb = fc.integer({ min: 0, max: 5 });
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: fc.nat(99) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), key: keyArb }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), key: keyArb }) },
    { weight: 1, arbitrary: fc.constant({ op: 'flushdb' as const }) },
    { weight: 2, arbitrary: fc.constant({ op: 'microtask' as const }) },
    { weight: 2, arbitrary: fc.constant({ op: 'turn' as const }) },
    // Long enough for one group's fdatasync to finish while a later group still waits for its own.
    { weight: 1, arbitrary: fc.constant({ op: 'wait' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'settled' as const }) },
  );

  it('reads every write issued before, whether pending, handed over or committed, and whenever the overlay is built', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(opArb, { maxLength: 60 }), async (sync, ops) => {
        const ks = await keyspace(sync);
        const model = new Map<number, string>();
        const commits: Promise<unknown>[] = [];
        for (const o of ops) {
          if (o.op === 'set') {
            commits.push(ks.write([{ key: bytes(`k${o.key}`), entry: { value: bytes(`v${o.value}`), expiresAt: undefined } }]).promise());
            model.set(o.key, `v${o.value}`);
          } else if (o.op === 'del') {
            commits.push(ks.write([{ key: bytes(`k${o.key}`), entry: null }]).promise());
            model.delete(o.key);
          } else if (o.op === 'get') {
            expect(value(ks.get(bytes(`k${o.key}`), Date.now()))).toBe(model.get(o.key));
          } else if (o.op === 'flushdb') {
            commits.push(ks.flush().promise());
            model.clear();
          } else if (o.op === 'microtask') {
            await Promise.resolve();
          } else if (o.op === 'turn') {
            await nextTurn();
          } else if (o.op === 'wait') {
            await new Promise((r) => setTimeout(r, 2));
          } else {
            await ks.settled();
          }
        }
        await Promise.all(commits);
        for (let key = 0; key <= 5; key++) {
          expect(value(ks.get(bytes(`k${key}`), Date.now()))).toBe(model.get(key));
          expect(value(await ks.db.getEntry(bytes(`k${key}`)))).toBe(model.get(key));
        }
        expect(ks.pendingWrites).toBe(0);
        await ks.db.close();
        db = undefined;
      }),
      { numRuns: 150 },
    );
  });
});
