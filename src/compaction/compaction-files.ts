// The files of one compaction, on the main thread: its inputs, read piece
// by piece off the event loop as the worker asks, and its outputs, created
// and written piece by piece as the worker cuts them, then made durable
// together. Every operation goes through the engine's FileSystem. When the
// worker does its own I/O (src/compaction/local-io.ts), this only names its
// outputs, adopts them once written, and makes the directory durable.
import { join } from 'node:path';
import type { FileHandle, FileSystem } from '../fs/filesystem.js';
import type { CompactionIo } from '../flush/table-worker.js';
import type { LocalOutput } from '../flush/protocol.js';
import type { TableProperties } from '../table/format.js';
import type { FileMetadata } from '../version/edit.js';
import { tableFileName } from '../version/filenames.js';

export interface CompactionFilesHost {
  fs: FileSystem;
  dir: string;
  /** A fresh file number for each output. */
  newFileNumber(): number;
  /** Outputs are added here when created: obsolete-file deletion must spare them. The caller removes them. */
  pendingTables: Set<number>;
}

interface Output {
  number: number;
  /** Open while this thread writes it; undefined once the worker wrote, synced and closed it. */
  file: FileHandle | undefined;
  meta?: FileMetadata;
}

export class CompactionFiles implements CompactionIo {
  readonly #host: CompactionFilesHost;
  readonly #inputs: readonly FileMetadata[];
  readonly #open: Array<FileHandle | undefined>;
  readonly #outputs: Output[] = [];
  /** Numbers of every output created, for the caller to un-pend. */
  readonly outputNumbers: number[] = [];

  constructor(host: CompactionFilesHost, inputs: readonly FileMetadata[]) {
    this.#host = host;
    this.#inputs = inputs;
    this.#open = inputs.map(() => undefined);
  }

  async read(index: number, into: Uint8Array, position: number): Promise<number> {
    const file = (this.#open[index] ??= this.#host.fs.open(this.#path(this.#inputs[index]!.number), 'read'));
    let done = 0;
    while (done < into.length) {
      const n = await file.read(into, done, into.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  async write(piece: Uint8Array, position: number): Promise<void> {
    if (position === 0) {
      const number = this.newOutputNumber();
      this.#outputs.push({ number, file: this.#host.fs.open(this.#path(number), 'write') });
    }
    const output = this.#outputs.at(-1);
    if (output?.file === undefined || output.meta !== undefined) throw new Error('compaction output written before it was started');
    await output.file.write(piece, 0, piece.length, position);
  }

  async finish(size: number, properties: TableProperties): Promise<void> {
    const output = this.#outputs.at(-1)!;
    output.meta = metadata(output.number, size, properties);
  }

  /** A fresh number for an output, spared by obsolete-file deletion until the caller un-pends it. */
  newOutputNumber(): number {
    const number = this.#host.newFileNumber();
    this.#host.pendingTables.add(number);
    this.outputNumbers.push(number);
    return number;
  }

  /** Numbers for about the outputs of `inputBytes` of input cut at `targetFileSize`: the worker asks for more if it needs them. */
  reserveNumbers(inputBytes: number, targetFileSize: number): number[] {
    const count = Math.ceil(inputBytes / targetFileSize) + 2;
    return Array.from({ length: count }, () => this.newOutputNumber());
  }

  /** The outputs a worker wrote, fdatasynced and closed itself, in key order. */
  adopt(outputs: readonly LocalOutput[]): void {
    for (const o of outputs) this.#outputs.push({ number: o.number, file: undefined, meta: metadata(o.number, o.size, o.properties) });
  }

  /** fdatasyncs every output this thread wrote, and the directory; returns the outputs' metadata, in key order. */
  async syncOutputs(): Promise<FileMetadata[]> {
    for (const output of this.#outputs) {
      if (output.file === undefined) continue;
      await output.file.datasync();
      output.file.closeSync();
    }
    await this.#host.fs.syncDir(this.#host.dir);
    return this.#outputs.map((o) => o.meta!);
  }

  /** Closes the inputs. Idempotent. */
  closeInputs(): void {
    for (const file of this.#open) file?.closeSync();
    this.#open.fill(undefined);
  }

  /** After a failure: closes and removes every output, including any a worker left (no version names them). Best effort. */
  async discardOutputs(): Promise<void> {
    for (const output of this.#outputs) output.file?.closeSync();
    for (const number of this.outputNumbers) {
      const path = this.#path(number);
      try {
        if (this.#host.fs.exists(path)) await this.#host.fs.unlink(path);
      } catch {
        // Left for obsolete-file deletion at the next open.
      }
    }
  }

  #path(number: number): string {
    return join(this.#host.dir, tableFileName(number));
  }
}

function metadata(number: number, size: number, properties: TableProperties): FileMetadata {
  return {
    number,
    size,
    smallest: properties.smallestKey,
    largest: properties.largestKey,
    smallestSeq: properties.smallestSeq,
    largestSeq: properties.largestSeq,
  };
}
