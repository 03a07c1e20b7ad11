// The engine's handle on its table worker thread. Requests (flush builds
// and compactions) run one at a time per worker, in request order.
import { MessageChannel, type TransferListItem, Worker } from 'node:worker_threads';
import type { CompactionRequest, CompactionStats } from '../compaction/compactor.js';
import { CorruptionError, IOError, VarveError } from '../errors.js';
import type { TableProperties } from '../table/format.js';
import {
  type BuildRequest,
  type BuildResponse,
  type CompactionIoRequest,
  type CompactRequest,
  type CompactResponse,
  IO_CHUNK,
  type LocalFiles,
  type LocalOutput,
  type WorkerError,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol.js';
import { newSyncFlag, serveSyncCalls } from './sync-call.js';
import { workerUrl } from './worker-url.js';
import type { RangeTombstone } from '../rangedel/tombstone.js';
import type { MemtableRun } from '../memtable/memtable.js';
import type { WarmBlocksMessage } from '../table/warm-blocks.js';

/** A compaction whose inputs are named by number and size; the worker reads them through a CompactionIo. */
export type StreamedCompaction = Omit<CompactionRequest, 'inputs'> & { inputs: Array<{ number: number; size: number }> };

/** What this thread does for a compaction in the worker: every read and write of its files. */
export interface CompactionIo {
  /** Reads up to `into.length` bytes at `position` of input `index` (its place in the request) into `into`; returns the count (short only at the end). */
  read(index: number, into: Uint8Array, position: number): Promise<number>;
  /** Writes `piece` at `position` of the current output; position 0 starts the next output. */
  write(piece: Uint8Array, position: number): Promise<void>;
  /** The current output is complete: `size` bytes with these properties. */
  finish(size: number, properties: TableProperties): Promise<void>;
  /** A fresh file number for an output the worker writes itself. */
  newOutputNumber(): number;
}

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
  #shared: SharedArrayBuffer | undefined;

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

  /** Builds a table from a memtable's run and range deletions; the run's buffer is transferred (unusable afterwards). */
  build(
    run: MemtableRun,
    rangeDeletions: readonly RangeTombstone[],
    options: BuildRequest['options'],
    warmBudget = 0,
  ): Promise<{ bytes: Uint8Array; properties: unknown; warm?: WarmBlocksMessage }> {
    const buffer = wholeBuffer(run.bytes);
    const tombstones = [...rangeDeletions];
    return this.#send<BuildResponse>((id) => ({ type: 'build', id, run: buffer, sorted: run.sorted, rangeDeletions: tombstones, options, warmBudget }), [buffer]).then((r) => {
      if (r.error) throw new VarveError(r.error.code, `table build failed: ${r.error.message}`);
      return { bytes: r.bytes!, properties: r.properties, warm: r.warm };
    });
  }

  /**
   * Runs a compaction in the worker. The worker reads the inputs and writes
   * the outputs through `io`, on this thread, a piece of at most IO_CHUNK
   * bytes at a time, each piece in a shared buffer reused by every call:
   * nothing proportional to the compaction's size is held anywhere (but the
   * decoded blocks kept for the block cache, at most `warmBudget` bytes).
   * With `local` the worker does its own I/O and asks `io` only for file
   * numbers; the outputs it wrote come back with the stats.
   */
  compact(
    request: StreamedCompaction,
    io: CompactionIo,
    local?: LocalFiles,
    warmBudget = 0,
  ): Promise<{ stats: CompactionStats; outputs?: LocalOutput[]; warm?: WarmBlocksMessage }> {
    const shared = this.#sharedFor(request.inputs.length + 1);
    const { port1, port2 } = new MessageChannel();
    const flag = newSyncFlag();
    const stop = serveSyncCalls<CompactionIoRequest, number>(port1, flag, (q) => serveIo(q, io, shared, request.inputs.length));
    const compaction: CompactRequest['compaction'] = request;
    return this.#send<CompactResponse>((id) => ({ type: 'compact', id, compaction, port: port2, flag, shared, local, warmBudget }), [port2])
      .then((r) => {
        if (r.error) throw workerError(r.error, 'compaction failed');
        return { stats: r.stats!, outputs: r.outputs, warm: r.warm };
      })
      .finally(stop);
  }

  /** Bytes of the buffer shared with the worker for compaction I/O (0 before the first compaction). */
  get sharedBytes(): number {
    return this.#shared?.byteLength ?? 0;
  }

  /** The shared buffer for `chunks` pieces: kept and reused while large enough (the worker runs one job at a time). */
  #sharedFor(chunks: number): SharedArrayBuffer {
    if (this.#shared === undefined || this.#shared.byteLength < chunks * IO_CHUNK) this.#shared = new SharedArrayBuffer(chunks * IO_CHUNK);
    return this.#shared;
  }

  #send<R extends WorkerResponse>(request: (id: number) => WorkerRequest, transfer: TransferListItem[]): Promise<R> {
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

  /** Stops the thread; a request still waiting, or sent from now on, rejects (no exit event settles it once its listener is gone). */
  async terminate(): Promise<void> {
    this.#fail(new VarveError('ERR_CLOSED', 'table worker terminated'));
    const worker = this.#worker;
    if (!worker) return;
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}

/** Serves one I/O call of a compaction in the worker (shared buffer layout in protocol.ts: one window per input, then the output region). */
async function serveIo(q: CompactionIoRequest, io: CompactionIo, shared: SharedArrayBuffer, inputs: number): Promise<number> {
  if (q.op === 'read') return io.read(q.input, new Uint8Array(shared, q.input * IO_CHUNK, q.length), q.position);
  if (q.op === 'write') {
    await io.write(new Uint8Array(shared, inputs * IO_CHUNK, q.length), q.position);
    return 0;
  }
  if (q.op === 'number') return io.newOutputNumber();
  await io.finish(q.size, q.properties);
  return 0;
}

/** The buffer `bytes` spans whole, or a copy of just its bytes. */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
}

/** The worker's error on this thread: corruption stays a CorruptionError; the rest keep their code. */
function workerError(e: WorkerError, what: string): VarveError {
  if (e.code === 'ERR_CORRUPTION') return new CorruptionError(`${what}: ${e.message}`);
  if (e.code === 'ERR_IO') return new IOError(`${what}: ${e.message}`, { cause: { code: e.errno } });
  return new VarveError(e.code, `${what}: ${e.message}`);
}
