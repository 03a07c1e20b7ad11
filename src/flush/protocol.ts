// Messages between the engine and its table worker. Every request carries
// an id; its response carries the same id. Buffers travel transferred, not
// copied, in both directions.
import type { MessagePort } from 'node:worker_threads';
import type { CompactionRequest, CompactionStats } from '../compaction/compactor.js';
import type { TableProperties } from '../table/format.js';
import type { RangeTombstone } from '../rangedel/tombstone.js';
import type { WarmBlocksMessage } from '../table/warm-blocks.js';

export interface BuildRequest {
  type: 'build';
  id: number;
  /** The memtable's run (docs/FORMAT.md, "Memtable runs"), transferred. */
  run: ArrayBuffer;
  /** Whether the run is in sorted order; if not, the worker sorts it first. */
  sorted: boolean;
  /** The memtable's range deletions (copied). */
  rangeDeletions: RangeTombstone[];
  options: { blockSize: number; blockRestartInterval: number; bloomBitsPerKey: number; compression: 'lz4' | 'none' };
  /** Bytes of decoded data blocks to send back for the block cache (src/table/warm-blocks.ts); 0: none. */
  warmBudget: number;
}

export interface CompactRequest {
  type: 'compact';
  id: number;
  /** The compaction; the worker reads each input and writes each output through the channel below. */
  compaction: Omit<CompactionRequest, 'inputs'> & { inputs: Array<{ number: number; size: number }> };
  /** The worker's end of the compaction's I/O channel (src/flush/sync-call.ts), transferred. */
  port: MessagePort;
  flag: SharedArrayBuffer;
  /** IO_CHUNK bytes per input (its read window, in input order), then IO_CHUNK for output pieces. */
  shared: SharedArrayBuffer;
  /** Present when the engine's FileSystem is node:fs: the worker opens, writes and syncs the files itself (src/compaction/local-io.ts). */
  local?: LocalFiles;
  /** Bytes of the outputs' decoded data blocks to send back for the block cache; 0: none. */
  warmBudget: number;
}

/** Where a compaction doing its own I/O finds its inputs and names its outputs. */
export interface LocalFiles {
  dir: string;
  /** File numbers reserved for the outputs, used in order; more come from a 'number' call. */
  numbers: number[];
}

/** An output a compaction wrote, fdatasynced and closed itself. */
export interface LocalOutput {
  number: number;
  size: number;
  properties: TableProperties;
}

/** Bytes a compaction moves between the threads per call: an input read ahead, or an output piece. */
export const IO_CHUNK = 256 * 1024;

/** What a compaction in the worker asks of the main thread; every call answers with a number (a byte count; 0 for writes). */
export type CompactionIoRequest =
  /** Read up to `length` (<= IO_CHUNK) bytes at `position` of input `input` into its window. */
  | { op: 'read'; input: number; position: number; length: number }
  /** Write the first `length` bytes of the output region at `position` of the current output; position 0 starts a new output. */
  | { op: 'write'; position: number; length: number }
  /** The current output is complete: `size` bytes, these properties. */
  | { op: 'finish'; size: number; properties: TableProperties }
  /** A fresh file number for an output (a compaction doing its own I/O, its reserved numbers used up). */
  | { op: 'number' };

export type WorkerRequest = BuildRequest | CompactRequest;

/** A failure inside the worker: its error's name, stable code and message. */
export interface WorkerError {
  name: string;
  code: string;
  message: string;
  /** An I/O failure's errno (ENOSPC, EIO, ...), when known. */
  errno?: string | undefined;
}

export interface BuildResponse {
  id: number;
  /** The worker's linear memory size after the request, in bytes. */
  wasmBytes: number;
  /** The complete table file, transferred. */
  bytes?: Uint8Array;
  properties?: unknown;
  /** The table's decoded data blocks, up to the request's warmBudget, transferred. */
  warm?: WarmBlocksMessage;
  error?: WorkerError;
}

export interface CompactResponse {
  id: number;
  /** The worker's linear memory size after the request, in bytes. */
  wasmBytes: number;
  stats?: CompactionStats;
  /** The outputs, in key order, when the worker wrote them itself; else they went to the main thread as they were cut. */
  outputs?: LocalOutput[];
  /** The outputs' decoded data blocks (output ordinals in the order the outputs were cut), up to the request's warmBudget, transferred. */
  warm?: WarmBlocksMessage;
  error?: WorkerError;
}

export type WorkerResponse = BuildResponse | CompactResponse;
