import { describe, expect, it } from 'vitest';
import { CommandTable } from '../src/server/command-table.js';
import { AfterCommit, OK, type Command, type Context } from '../src/server/command.js';
import { Commit } from '../src/server/commit.js';
import { Waiting, dispatch } from '../src/server/dispatch.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const written = new Commit();
const command = (name: string, run: Command['run']): Command => ({ name, arity: -1, flags: [], firstKey: 0, lastKey: 0, step: 0, run });
const table = new CommandTable(
  new Map([
    ['slow', command('slow', () => (busy(20), OK))],
    ['fast', command('fast', () => OK)],
    ['slowwrite', command('slowwrite', () => (busy(20), new AfterCommit(written, OK)))],
  ]),
);
const args = (name: string) => [Buffer.from(name)];

function context(): Context {
  const session = { authenticated: true, lastCommand: '' } as Context['session'];
  return { keyspace: undefined as unknown as Context['keyspace'], session, server: undefined as unknown as Context['server'], now: Date.now(), started: performance.now() };
}

describe('dispatch', () => {
  it("times each command of a run from when the one before it returned, so no command's latency holds another's", async () => {
    const timed: [string, number][] = [];
    const hooks = { unexpected: (err: unknown) => { throw err; }, finished: (name: string, seconds: number) => timed.push([name, seconds]) };
    const ctx = context();
    dispatch(table, ctx, args('fast'), hooks);
    dispatch(table, ctx, args('slow'), hooks);
    dispatch(table, ctx, args('fast'), hooks);
    dispatch(table, ctx, args('nosuchcommand'), hooks);
    const write = dispatch(table, ctx, args('slowwrite'), hooks);
    dispatch(table, ctx, args('fast'), hooks);
    expect(timed.map(([name]) => name)).toEqual(['fast', 'slow', 'fast', 'fast']);
    const [first, slow, afterSlow, afterWrite] = timed.map(([, s]) => s);
    expect(slow).toBeGreaterThanOrEqual(0.02);
    for (const fast of [first!, afterSlow!, afterWrite!]) expect(fast).toBeLessThan(0.01);
    // A write is timed from its own start to its commit, its synchronous part included.
    expect(write).toBeInstanceOf(Waiting);
    const waiting = write as Waiting;
    expect(waiting.commit).toBe(written);
    const ready = new Promise<void>((resolve) => waiting.whenReady(hooks, resolve));
    expect(waiting.take(hooks)).toBeUndefined();
    busy(5);
    written.settle(false);
    await ready;
    expect(waiting.take(hooks)).toBe(OK);
    expect(timed.at(-1)![0]).toBe('slowwrite');
    expect(timed.at(-1)![1]).toBeGreaterThanOrEqual(0.025);
    // Taken again, the reply is the same and the latency is not counted twice.
    expect(waiting.take(hooks)).toBe(OK);
    expect(timed.length).toBe(5);
  });

  it("a write's reply is its error reply when the commit fails", async () => {
    const failed = new Commit();
    const failing = new CommandTable(new Map([['w', command('w', () => new AfterCommit(failed, OK))]]));
    const hooks = { unexpected: () => {}, finished: () => {} };
    const waiting = dispatch(failing, context(), args('w'), hooks) as Waiting;
    failed.settle(true, new Error('disk gone'));
    const lines: string[] = [];
    waiting.take(hooks)!({ error: (m: string) => lines.push(m) } as never);
    expect(lines).toEqual(['ERR internal error (logged by the server)']);
  });
});
