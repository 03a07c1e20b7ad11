// The child process of test/recovery.test.ts. It opens a database from the
// built package, runs a deterministic list of writes, and reports each
// acknowledged write on stdout the moment its promise resolves, so the
// parent knows exactly what was acknowledged when it kills this process.
//
// Usage: node crash-writer.mjs SPEC.json, where the spec is
//   { dir, options, ops, window, mode, exitAfter? }
//   ops:    [{ t: 'put', k, v, sync } | { t: 'del', k, sync } | { t: 'batch', ops: [{ k, v|null }], sync }
//           | { t: 'range', from, to, sync }]
//   window: writes kept in flight at once (several share one group commit)
//   mode:   'kill' - write, then idle until killed; 'exit' - process.exit() without close
//           once write `exitAfter` is acknowledged; 'hold' - open, then idle until killed
// The child loads the engine first and opens nothing until it reads 'go' on
// stdin, so a parent can start it ahead of time; it exits if stdin closes first.
// Output lines: 'ready', 'ack I' (write I acknowledged), 'done', 'error MESSAGE'.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { open } from '../../dist/index.js';

// Node writes to a stdout pipe synchronously on Linux and macOS (blocking when
// the pipe is full), so a line written before SIGKILL or exit reaches the parent.
const say = (line) => process.stdout.write(`${line}\n`);

function issue(db, op) {
  const options = { sync: op.sync };
  if (op.t === 'put') return db.put(op.k, op.v, options);
  if (op.t === 'del') return db.del(op.k, options);
  if (op.t === 'range') return db.deleteRange(op.from, op.to, options);
  const ops = op.ops.map((o) => (o.v === null ? { type: 'del', key: o.k } : { type: 'put', key: o.k, value: o.v }));
  return db.batch(ops, options);
}

function idleForever() {
  setInterval(() => {}, 1 << 30);
}

function waitForGo() {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    const quit = () => process.exit(0);
    lines.once('close', quit);
    lines.once('line', () => {
      lines.off('close', quit);
      lines.close();
      resolve();
    });
  });
}

async function main() {
  await waitForGo();
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const db = await open(spec.dir, spec.options);
  say('ready');
  if (spec.mode === 'hold') return idleForever();
  const inFlight = new Set();
  for (let i = 0; i < spec.ops.length; i++) {
    const write = issue(db, spec.ops[i]).then(() => {
      say(`ack ${i}`);
      if (spec.mode === 'exit' && i >= spec.exitAfter) process.exit(0);
    });
    inFlight.add(write);
    // Failures surface through the race or Promise.all below.
    write.finally(() => inFlight.delete(write)).catch(() => {});
    if (inFlight.size >= spec.window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  say('done');
  if (spec.mode === 'exit') process.exit(0);
  idleForever();
}

main().catch((err) => {
  say(`error ${err?.code ?? ''} ${err?.message ?? err}`);
  process.exit(1);
});
