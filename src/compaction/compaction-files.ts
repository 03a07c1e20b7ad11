// The files of one compaction, on the main thread: its inputs, read piece
// by piece off the event loop as the worker asks, and its outputs, created
// and written piece by piece as the worker cuts them, then made durable
// together. Every operation goes through the engine's FileSystem.
import { join } from 'node:path';
import type { FileHandle, FileSystem } from '../fs/filesystem.js';
import type { CompactionIo } from '../flush/table-worker.js';
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
  file: FileHandle;
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
      const number = this.#host.newFileNumber();
      this.#host.pendingTables.add(number);
      this.outputNumbers.push(number);
      this.#outputs.push({ number, file: this.#host.fs.open(this.#path(number), 'write') });
    }
    const output = this.#outputs.at(-1);
    if (output === undefined || output.meta !== undefined) throw new Error('compaction output written before it was started');
    await output.file.write(piece, 0, piece.length, position);
  }

  async finish(size: number, properties: TableProperties): Promise<void> {
    const output = this.#outputs.at(-1)!;
    output.meta = {
      number: output.number,
      size,
      smallest: properties.smallestKey,
      largest: properties.largestKey,
      smallestSeq: properties.smallestSeq,
      largestSeq: properties.largestSeq,
    };
  }

  /** fdatasyncs every output and the directory; returns their metadata, in key order. */
  async syncOutputs(): Promise<FileMetadata[]> {
    for (const output of this.#outputs) {
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

  /** After a failure: closes and removes every output (no version names them). Best effort. */
  async discardOutputs(): Promise<void> {
    for (const output of this.#outputs) {
      try {
        output.file.closeSync();
        await this.#host.fs.unlink(this.#path(output.number));
      } catch {
        // Left for obsolete-file deletion at the next open.
      }
    }
  }

  #path(number: number): string {
    return join(this.#host.dir, tableFileName(number));
  }
}
