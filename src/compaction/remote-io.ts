// A compaction's file access from inside the worker when the engine's
// FileSystem lives on the main thread only (any FileSystem but node:fs, such
// as the fault-injecting ones of the tests): each input's read-ahead window
// is filled by the main thread on a miss; each output is sent to the main
// thread in IO_CHUNK pieces as soon as it is cut. Both go through one
// blocking channel (src/flush/sync-call.ts) and fixed shared buffers, so a
// compaction holds at most (inputs + 1) x IO_CHUNK bytes in flight whatever
// its size. With node:fs the worker does its own I/O (local-io.ts).
import { IOError, VarveError } from '../errors.js';
import type { SyncCaller } from '../flush/sync-call.js';
import { type CompactionIoRequest, IO_CHUNK } from '../flush/protocol.js';
import { u8 } from '../wasm/heap.js';
import type { OutputSink } from './compactor.js';
import { WindowedInput } from './windowed-input.js';

export type IoCaller = SyncCaller<CompactionIoRequest, number>;

/** Input `index` of the compaction, `size` bytes, its window of the shared buffer filled by the main thread. */
export function remoteInput(path: string, caller: IoCaller, index: number, size: number, shared: SharedArrayBuffer): WindowedInput {
  const window = new Uint8Array(shared, index * IO_CHUNK, IO_CHUNK);
  return new WindowedInput(path, size, window, (_window, position, length) => {
    try {
      return caller.call({ op: 'read', input: index, position, length });
    } catch (err) {
      throw asIoError(err, `reading ${path} at ${position}`);
    }
  });
}

/** An output sink that sends each finished output to the main thread in pieces through the output region. */
export function remoteSink(caller: IoCaller, shared: SharedArrayBuffer, inputs: number): OutputSink {
  const region = new Uint8Array(shared, inputs * IO_CHUNK, IO_CHUNK);
  return (ptr, len, properties) => {
    // The view is taken once: nothing below allocates in linear memory.
    const mem = u8();
    try {
      for (let position = 0; position < len || position === 0; position += IO_CHUNK) {
        const n = Math.min(IO_CHUNK, len - position);
        region.set(mem.subarray(ptr + position, ptr + position + n));
        caller.call({ op: 'write', position, length: n });
        if (len === 0) break;
      }
      caller.call({ op: 'finish', size: len, properties });
    } catch (err) {
      throw asIoError(err, 'writing a compaction output');
    }
  };
}

/** The main thread's error in this thread, its code kept (an I/O failure stays an IOError). */
export function asIoError(err: unknown, what: string): VarveError {
  const e = err as { code?: string; message?: string; errno?: string };
  const message = `${what}: ${e.message ?? String(err)}`;
  // The errno (ENOSPC, EIO, ...) travels as the cause's code, where IOError reads it.
  return e.code === undefined || e.code === 'ERR_IO' ? new IOError(message, { cause: { code: e.errno } }) : new VarveError(e.code, message);
}
