// Messages between the engine and its table worker. Every request carries
// an id; its response carries the same id. Buffers travel transferred, not
// copied, in both directions.
import type { CompactionRequest, CompactionResult } from '../compaction/compactor.js';

export interface BuildRequest {
  type: 'build';
  id: number;
  /** The memtable's sorted run (docs/FORMAT.md, "Sorted runs"), transferred. */
  run: ArrayBuffer;
  options: { blockSize: number; blockRestartInterval: number; bloomBitsPerKey: number; compression: 'lz4' | 'none' };
}

export interface CompactRequest {
  type: 'compact';
  id: number;
  /** The compaction, with each input table's whole file transferred as its own buffer. */
  compaction: Omit<CompactionRequest, 'inputs'> & { inputs: Array<{ number: number; bytes: ArrayBuffer }> };
}

export type WorkerRequest = BuildRequest | CompactRequest;

/** A failure inside the worker: its error's name, stable code and message. */
export interface WorkerError {
  name: string;
  code: string;
  message: string;
}

export interface BuildResponse {
  id: number;
  /** The worker's linear memory size after the request, in bytes. */
  wasmBytes: number;
  /** The complete table file, transferred. */
  bytes?: Uint8Array;
  properties?: unknown;
  error?: WorkerError;
}

export interface CompactResponse {
  id: number;
  /** The worker's linear memory size after the request, in bytes. */
  wasmBytes: number;
  /** The outputs' bytes are transferred. */
  result?: CompactionResult;
  error?: WorkerError;
}

export type WorkerResponse = BuildResponse | CompactResponse;
