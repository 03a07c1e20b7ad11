// Turning a memtable's sorted run into a durable table file: the worker
// builds the bytes, this thread writes them through the FileSystem.
import { join } from 'node:path';
import type { FileSystem } from '../fs/filesystem.js';
import type { ResolvedOptions } from '../options.js';
import type { TableProperties } from '../table/format.js';
import type { FileMetadata } from '../version/edit.js';
import { tableFileName } from '../version/filenames.js';
import type { TableWorker } from './table-worker.js';

/** Builds, writes and fdatasyncs table `number` from `run`; returns its metadata once the file and its directory entry are durable. */
export async function writeTable(fs: FileSystem, dir: string, number: number, run: Uint8Array, worker: TableWorker, options: ResolvedOptions): Promise<FileMetadata> {
  const { bytes, properties } = await worker.build(run, {
    blockSize: options.blockSize,
    blockRestartInterval: options.blockRestartInterval,
    bloomBitsPerKey: options.bloomBitsPerKey,
    compression: options.compression,
  });
  const props = properties as TableProperties;
  const file = fs.open(join(dir, tableFileName(number)), 'write');
  try {
    await file.write(bytes, 0, bytes.length, 0);
    await file.datasync();
  } finally {
    file.closeSync();
  }
  // The directory entry must be durable before a MANIFEST edit names the file.
  await fs.syncDir(dir);
  return {
    number,
    size: bytes.length,
    smallest: props.smallestKey,
    largest: props.largestKey,
    smallestSeq: props.smallestSeq,
    largestSeq: props.largestSeq,
  };
}
