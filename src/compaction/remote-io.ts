// A compaction's file access from inside the worker: each input is a
// FileHandle whose reads are served from a read-ahead window of IO_CHUNK
// bytes that the main thread fills on a miss; each output is sent to the
// main thread in IO_CHUNK pieces as soon as it is cut. Both go through one
// blocking channel (src/flush/sync-call.ts) and fixed shared buffers, so a
// compaction holds at most (inputs + 1) x IO_CHUNK bytes in flight whatever
// its size, and the main thread does every read and write through the
// engine's FileSystem.
import { ClosedError, InvalidArgumentError, IOError, ReadOnlyError, VarveError } from '../errors.js';
import type { FileHandle } from '../fs/filesystem.js';
import type { SyncCaller } from '../flush/sync-call.js';
import { type CompactionIoRequest, IO_CHUNK } from '../flush/protocol.js';
import { u8 } from '../wasm/heap.js';
import type { OutputSink } from './compactor.js';

export type IoCaller = SyncCaller<CompactionIoRequest, number>;

/** Input `index` of the compaction, `size` bytes, read through its window of the shared buffer. */
export class RemoteInput implements FileHandle {
  readonly path: string;
  readonly #caller: IoCaller;
  readonly #index: number;
  readonly #size: number;
  readonly #window: Uint8Array;
  /** File position of the window's first byte, and how many of its bytes are valid. */
  #start = 0;
  #filled = 0;
  #closed = false;

  constructor(path: string, caller: IoCaller, index: number, size: number, shared: SharedArrayBuffer) {
    this.path = path;
    this.#caller = caller;
    this.#index = index;
    this.#size = size;
    this.#window = new Uint8Array(shared, index * IO_CHUNK, IO_CHUNK);
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    if (this.#closed) throw new ClosedError(`${this.path} is closed`);
    if (offset + length > buffer.length) throw new InvalidArgumentError(`read of ${length} bytes into [${offset}, ${buffer.length}) of ${this.path} is out of range`);
    let done = 0;
    while (done < length) {
      const at = position + done;
      if (at < this.#start || at >= this.#start + this.#filled) {
        if (at >= this.#size) break;
        this.#fill(at);
        if (this.#filled === 0) break;
      }
      const from = at - this.#start;
      const n = Math.min(length - done, this.#filled - from);
      buffer.set(this.#window.subarray(from, from + n), offset + done);
      done += n;
    }
    return done;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    try {
      return Promise.resolve(this.readSync(buffer, offset, length, position));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Asks the main thread for the window at `position`. */
  #fill(position: number): void {
    const length = Math.min(IO_CHUNK, this.#size - position);
    this.#filled = 0;
    let n: number;
    try {
      n = this.#caller.call({ op: 'read', input: this.#index, position, length });
    } catch (err) {
      throw asIoError(err, `reading ${this.path} at ${position}`);
    }
    this.#start = position;
    this.#filled = n;
  }

  writeSync(): void {
    throw new ReadOnlyError(`${this.path} is a compaction input`);
  }

  write(): Promise<void> {
    return Promise.reject(new ReadOnlyError(`${this.path} is a compaction input`));
  }

  datasync(): Promise<void> {
    return Promise.resolve();
  }

  datasyncSync(): void {}

  size(): number {
    return this.#size;
  }

  closeSync(): void {
    this.#closed = true;
  }
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
function asIoError(err: unknown, what: string): VarveError {
  const e = err as { code?: string; message?: string };
  const message = `${what}: ${e.message ?? String(err)}`;
  return e.code === undefined || e.code === 'ERR_IO' ? new IOError(message, { cause: err }) : new VarveError(e.code, message);
}
