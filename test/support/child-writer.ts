// The parent's handle on a crash-writer child process (./crash-writer.mjs):
// spawns it with a spec (it loads the engine, then waits for start()), follows its acknowledgements line by line, and
// kills it. Lines the child wrote before it died are all read before
// `exited` resolves, so `acked` is exact once the child is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Options } from '../../src/index.js';

const SCRIPT = fileURLToPath(new URL('./crash-writer.mjs', import.meta.url));

export type Write =
  | { t: 'put'; k: string; v: string; sync: boolean }
  | { t: 'del'; k: string; sync: boolean }
  | { t: 'batch'; ops: Array<{ k: string; v: string | null }>; sync: boolean }
  /** deleteRange(from, to): keys from <= k < to. */
  | { t: 'range'; from: string; to: string; sync: boolean };

export interface WriterSpec {
  dir: string;
  options: Options;
  ops: Write[];
  /** Writes in flight at once. */
  window: number;
  mode: 'kill' | 'exit';
  /** In 'exit' mode: process.exit() once this write is acknowledged. */
  exitAfter?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChildWriter {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  ready = false;
  done = false;
  /** Highest acknowledged write index, -1 before any. */
  acked = -1;
  /** Highest acknowledged write index that asked for sync, -1 before any. */
  syncAcked = -1;
  /** The child's 'error' line, or stderr output, if any. */
  error: string | undefined;
  readonly #child: ChildProcess;
  readonly #ops: Write[];
  #waiters: Array<() => void> = [];
  #gone = false;
  #stderr = '';

  /** Starts the child; `specPath` is where its spec file is written. */
  constructor(spec: WriterSpec, specPath: string) {
    writeFileSync(specPath, JSON.stringify(spec));
    this.#ops = spec.ops;
    this.#child = spawn(process.execPath, [SCRIPT, specPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.#child.pid!;
    this.#child.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    const lines = createInterface({ input: this.#child.stdout! });
    lines.on('line', (line) => this.#onLine(line));
    const linesClosed = new Promise<void>((resolve) => lines.once('close', resolve));
    const exit = new Promise<Exit>((resolve) => this.#child.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = Promise.all([exit, linesClosed]).then(([e]) => {
      if (this.#stderr.length > 0) this.error ??= this.#stderr;
      this.#gone = true;
      this.#wake();
      return e;
    });
  }

  /** Lets the child open the database and write. */
  start(): void {
    this.#child.stdin!.write('go\n');
  }

  #onLine(line: string): void {
    if (line === 'ready') this.ready = true;
    else if (line === 'done') this.done = true;
    else if (line.startsWith('ack ')) {
      const i = Number(line.slice(4));
      this.acked = Math.max(this.acked, i);
      if (this.#ops[i]!.sync) this.syncAcked = Math.max(this.syncAcked, i);
    } else this.error ??= line;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `condition` holds or the child has exited (check which). */
  async until(condition: () => boolean): Promise<void> {
    while (!condition() && !this.#gone) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** SIGKILL, then wait until the child is gone and its output read. */
  async kill(): Promise<Exit> {
    this.#child.kill('SIGKILL');
    return this.exited;
  }
}
