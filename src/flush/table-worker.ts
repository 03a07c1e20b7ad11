// The engine's handle on its table worker thread. Requests (flush builds
// and compactions) run one at a time per worker, in request order.
import { Worker } from 'node:worker_threads';
import type { CompactionRequest, CompactionResult } from '../compaction/compactor.js';
import { CorruptionError, VarveError } from '../errors.js';
import type { BuildRequest, BuildResponse, CompactRequest, CompactResponse, WorkerError, WorkerRequest, WorkerResponse } from './protocol.js';
import { workerUrl } from './worker-url.js';

interface Waiter {
  resolve(r: WorkerResponse): void;
  reject(e: unknown): void;
}

export class TableWorker {
  /** Started on the first request: opening a database that never flushes costs no thread. */
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiter>();
  #nextId = 1;
  #failed: Error | undefined;
  #wasmBytes = 0;

  /** The worker's linear memory size as of its last response (0 before any): memories only grow. */
  get wasmMemoryBytes(): number {
    return this.#wasmBytes;
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(workerUrl());
    // An idle worker must not keep the process alive.
    worker.unref();
    worker.on('message', (response: WorkerResponse) => this.#settle(response));
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => this.#fail(new VarveError('ERR_WORKER', `table worker exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  /** Builds a table from a sorted run; the run's buffer is transferred (unusable afterwards). */
  build(run: Uint8Array, options: BuildRequest['options']): Promise<{ bytes: Uint8Array; properties: unknown }> {
    const buffer = wholeBuffer(run);
    return this.#send<BuildResponse>((id) => ({ type: 'build', id, run: buffer, options }), [buffer]).then((r) => {
      if (r.error) throw new VarveError(r.error.code, `table build failed: ${r.error.message}`);
      return { bytes: r.bytes!, properties: r.properties };
    });
  }

  /**
   * Runs a compaction in the worker. Each input's buffer is transferred
   * (unusable afterwards) unless the input is a view of part of a larger
   * buffer, which is copied; the outputs' buffers come back transferred.
   */
  compact(request: CompactionRequest): Promise<CompactionResult> {
    const inputs = request.inputs.map((input) => ({ number: input.number, bytes: wholeBuffer(input.bytes) }));
    const transfer = [...new Set(inputs.map((input) => input.bytes))];
    const compaction: CompactRequest['compaction'] = { ...request, inputs };
    return this.#send<CompactResponse>((id) => ({ type: 'compact', id, compaction }), transfer).then((r) => {
      if (r.error) throw workerError(r.error, 'compaction failed');
      return r.result!;
    });
  }

  #send<R extends WorkerResponse>(request: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<R> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    const worker = this.#started();
    return new Promise<R>((resolve, reject) => {
      this.#waiting.set(id, { resolve: (r) => resolve(r as R), reject });
      if (this.#waiting.size === 1) worker.ref();
      worker.postMessage(request(id), transfer);
    });
  }

  #settle(response: WorkerResponse): void {
    this.#wasmBytes = response.wasmBytes;
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

/** The buffer `bytes` spans whole, or a copy of just its bytes. */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
}

/** The worker's error on this thread: corruption stays a CorruptionError; the rest keep their code. */
function workerError(e: WorkerError, what: string): VarveError {
  if (e.code === 'ERR_CORRUPTION') return new CorruptionError(`${what}: ${e.message}`);
  return new VarveError(e.code, `${what}: ${e.message}`);
}
