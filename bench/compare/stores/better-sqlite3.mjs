// SQLite through better-sqlite3 as a key-value table: one WITHOUT ROWID
// table keyed by a BLOB, WAL journal, synchronous=NORMAL (the usual setting
// with WAL). better-sqlite3 is synchronous; each call here runs to its end
// before it returns.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const name = 'better-sqlite3';
export const durability = 'WAL mode, synchronous=NORMAL: each write (a batch is one transaction) is in the WAL file, handed to the OS, when it returns; no fsync per commit. Sync puts run with synchronous=FULL, which fsyncs the WAL at each commit';

export async function open(dir) {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'kv.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
  const insert = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
  const remove = db.prepare('DELETE FROM kv WHERE k = ?');
  const select = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
  // The empty blob sorts first, so it stands for "no lower bound"; LIMIT -1 is no limit.
  const scans = {
    forward: db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?').raw(),
    reverse: db.prepare('SELECT k, v FROM kv WHERE k >= ? ORDER BY k DESC LIMIT ?').raw(),
  };
  const applyBatch = db.transaction((ops) => {
    for (const op of ops) {
      if (op.type === 'put') insert.run(op.key, op.value);
      else remove.run(op.key);
    }
  });
  let synchronous = 'NORMAL';
  const setSynchronous = (mode) => {
    if (mode === synchronous) return;
    db.pragma(`synchronous = ${mode}`);
    synchronous = mode;
  };
  return {
    name,
    batch(ops) {
      setSynchronous('NORMAL');
      applyBatch(ops);
    },
    put(key, value, options) {
      setSynchronous(options?.sync ? 'FULL' : 'NORMAL');
      insert.run(key, value);
    },
    get: (key) => select.get(key),
    // No multi-key read in SQLite's API: one prepared select per key.
    getMany: (keys) => keys.map((key) => select.get(key)),
    async *iterate(options = {}) {
      const scan = options.reverse ? scans.reverse : scans.forward;
      yield* scan.iterate(options.gte ?? Buffer.alloc(0), options.limit ?? -1);
    },
    close() {
      db.close();
    },
  };
}
