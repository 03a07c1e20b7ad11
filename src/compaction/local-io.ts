// A compaction's file access from inside the worker when the engine's
// FileSystem is node:fs, which every thread can use: the worker reads its
// inputs and writes, fdatasyncs and closes its outputs itself, so a
// compaction never waits for the main thread's event loop (which a burst of
// synchronous reads can hold for seconds). Only a fresh file number, when
// the ones reserved with the request run out, is asked of the main thread.
// The main thread makes the directory durable and installs the outputs.
import { join } from 'node:path';
import { nodeFileSystem } from '../fs/node-fs.js';
import type { LocalFiles, LocalOutput } from '../flush/protocol.js';
import type { TableProperties } from '../table/format.js';
import { tableFileName } from '../version/filenames.js';
import { u8 } from '../wasm/heap.js';
import type { OutputSink } from './compactor.js';
import { asIoError, type IoCaller } from './remote-io.js';
import { WindowedInput } from './windowed-input.js';

/** Table `number` of `dir`, `size` bytes, read through `window` with preads on this thread. */
export function localInput(dir: string, number: number, size: number, window: Uint8Array): WindowedInput {
  const file = nodeFileSystem.open(join(dir, tableFileName(number)), 'read');
  const fill = (into: Uint8Array, position: number, length: number): number => {
    let done = 0;
    while (done < length) {
      const n = file.readSync(into, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  };
  return new WindowedInput(file.path, size, window, fill, () => file.closeSync());
}

/** The outputs of one compaction, each written whole, made durable and closed as it is cut. */
export class LocalOutputs {
  readonly written: LocalOutput[] = [];
  readonly #files: LocalFiles;
  readonly #caller: IoCaller;
  #reserved = 0;

  constructor(files: LocalFiles, caller: IoCaller) {
    this.#files = files;
    this.#caller = caller;
  }

  readonly sink: OutputSink = (ptr: number, len: number, properties: TableProperties) => {
    const number = this.#nextNumber();
    const file = nodeFileSystem.open(join(this.#files.dir, tableFileName(number)), 'write');
    try {
      // Straight from linear memory: nothing below allocates there.
      file.writeSync(u8(), ptr, len, 0);
      file.datasyncSync();
    } finally {
      file.closeSync();
    }
    this.written.push({ number, size: len, properties });
  };

  #nextNumber(): number {
    if (this.#reserved < this.#files.numbers.length) return this.#files.numbers[this.#reserved++]!;
    try {
      return this.#caller.call({ op: 'number' });
    } catch (err) {
      throw asIoError(err, 'taking a file number for a compaction output');
    }
  }
}
