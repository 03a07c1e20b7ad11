// The end of a turn: the writes issued in one turn of the event loop (from
// separate socket callbacks, with microtasks between them) commit as one
// WAL record, visible at once; replies the commit resolves are written
// before the turn's flushes run.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { open, type Database } from '../src/db.js';
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from '../src/options.js';
import { CommandError } from '../src/server/command.js';
import { Keyspace } from '../src/server/keyspace.js';
import { TurnEnd } from '../src/server/turn.js';
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
      commits.push(ks.write([{ key: bytes(`k${i}`), entry: { value: bytes(`v${i}`), expiresAt: undefined } }]));
      await Promise.resolve(); // as between two sockets' data callbacks
    }
    expect(value(ks.get(bytes('k49'), Date.now()))).toBe('v49');
    expect(ks.db.stats().wal.records).toBe(before);
    await Promise.all(commits);
    expect(ks.db.stats().wal.records).toBe(before + 1);
    expect(value(await ks.db.getEntry(bytes('k0')))).toBe('v0');

    await ks.write([{ key: bytes('a'), entry: { value: bytes('1'), expiresAt: undefined } }]);
    await nextTurn();
    await ks.write([{ key: bytes('a'), entry: null }]);
    expect(ks.db.stats().wal.records).toBe(before + 3);
    expect(ks.get(bytes('a'), Date.now())).toBeUndefined();
  });

  it('syncs once for a turn of writes with --appendfsync always', async () => {
    const ks = await keyspace(true);
    const before = ks.db.stats().wal.syncs;
    const commits = Array.from({ length: 20 }, (_, i) => ks.write([{ key: bytes(`s${i}`), entry: { value: bytes('x'), expiresAt: undefined } }]));
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
    const ok = ks.write([{ key: bytes('fine'), entry: { value: bytes('1'), expiresAt: undefined } }]);
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
    const first = ks.write([{ key: bytes('k'), entry: { value: bytes('old'), expiresAt: undefined } }]);
    await ks.settled(); // the first group is handed over; its settle has not run yet
    const second = ks.write([{ key: bytes('k'), entry: { value: bytes('new'), expiresAt: undefined } }]);
    await first;
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new');
    await second;
    expect(value(ks.get(bytes('k'), Date.now()))).toBe('new');
    expect(ks.pendingWrites).toBe(0);
  });
});

describe('TurnEnd', () => {
  it('runs the commits, then the replies they resolve, then the flushes; later work waits for the next turn', async () => {
    const turn = new TurnEnd();
    const events: string[] = [];
    let resolveCommit!: () => void;
    const committed = new Promise<void>((r) => (resolveCommit = r));
    void committed.then(() => events.push('reply')).then(() => events.push('reply chained'));
    const flushA = () => void events.push('flush A');
    turn.flush(flushA);
    turn.commit(() => {
      events.push('commit');
      resolveCommit();
    });
    turn.flush(() => {
      events.push('flush B');
      turn.flush(() => events.push('flush next turn'));
    });
    turn.flush(flushA); // scheduled twice in one turn: runs once
    await nextTurn();
    await nextTurn();
    expect(events).toEqual(['commit', 'reply', 'reply chained', 'flush A', 'flush B', 'flush next turn']);
  });
});
