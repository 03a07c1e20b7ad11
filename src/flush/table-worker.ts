// The engine's handle on its table-building worker thread. Builds run one
// at a time per worker, in request order.
import { Worker } from 'node:worker_threads';
import { VarveError } from '../errors.js';
import type { BuildRequest, BuildResponse } from './protocol.js';
import { workerUrl } from './worker-url.js';

interface Waiter {
  resolve(r: BuildResponse): void;
  reject(e: unknown): void;
}

export class TableWorker {
  /** Started on the first build: opening a database that never flushes costs no thread. */
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiter>();
  #nextId = 1;
  #failed: Error | undefined;

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(workerUrl());
    // An idle worker must not keep the process alive.
    worker.unref();
    worker.on('message', (response: BuildResponse) => this.#settle(response));
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => this.#fail(new VarveError('ERR_WORKER', `table worker exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  /** Builds a table from a sorted run; the run's buffer is transferred (unusable afterwards). */
  build(run: Uint8Array, options: BuildRequest['options']): Promise<{ bytes: Uint8Array; properties: unknown }> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    const buffer = run.byteOffset === 0 && run.byteLength === run.buffer.byteLength ? (run.buffer as ArrayBuffer) : run.slice().buffer;
    const request: BuildRequest = { id, run: buffer, options };
    const worker = this.#started();
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, {
        resolve: (r) => (r.error ? reject(new VarveError(r.error.code, `table build failed: ${r.error.message}`)) : resolve({ bytes: r.bytes!, properties: r.properties })),
        reject,
      });
      if (this.#waiting.size === 1) worker.ref();
      worker.postMessage(request, [buffer]);
    });
  }

  #settle(response: BuildResponse): void {
    const waiter = this.#waiting.get(response.id);
    if (!waiter) return;
    this.#waiting.delete(response.id);
    if (this.#waiting.size === 0) this.#worker?.unref();
    waiter.resolve(response);
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  async terminate(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
