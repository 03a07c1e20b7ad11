// Making a built table durable: the worker builds the bytes, this thread
// writes them through the FileSystem. Used by flushes and compactions.
import { join } from 'node:path';
import type { FileSystem } from '../fs/filesystem.js';
import type { ResolvedOptions } from '../options.js';
import type { TableProperties } from '../table/format.js';
import type { FileMetadata } from '../version/edit.js';
import { tableFileName } from '../version/filenames.js';
import type { TableWorker } from './table-worker.js';
import type { RangeTombstone } from '../rangedel/tombstone.js';
import type { MemtableRun } from '../memtable/memtable.js';
import type { WarmBlocksMessage } from '../table/warm-blocks.js';

/**
 * Writes table `number` and fdatasyncs it and its directory; returns its
 * metadata once both are durable (a MANIFEST edit may then name it).
 */
export async function writeTableFile(fs: FileSystem, dir: string, number: number, bytes: Uint8Array, properties: TableProperties): Promise<FileMetadata> {
  const file = fs.open(join(dir, tableFileName(number)), 'write');
  try {
    await file.write(bytes, 0, bytes.length, 0);
    await file.datasync();
  } finally {
    file.closeSync();
  }
  await fs.syncDir(dir);
  return {
    number,
    size: bytes.length,
    smallest: properties.smallestKey,
    largest: properties.largestKey,
    smallestSeq: properties.smallestSeq,
    largestSeq: properties.largestSeq,
  };
}

/**
 * Builds table `number` from a memtable's run and range deletions in the
 * worker and writes it durably; with the table, up to `warmBudget` bytes of
 * its decoded data blocks for the block cache.
 */
export async function writeTable(
  fs: FileSystem,
  dir: string,
  number: number,
  run: MemtableRun,
  rangeDeletions: readonly RangeTombstone[],
  worker: TableWorker,
  options: ResolvedOptions,
  warmBudget = 0,
): Promise<{ meta: FileMetadata; warm?: WarmBlocksMessage }> {
  const tableOptions = {
    blockSize: options.blockSize,
    blockRestartInterval: options.blockRestartInterval,
    bloomBitsPerKey: options.bloomBitsPerKey,
    compression: options.compression,
  };
  const { bytes, properties, warm } = await worker.build(run, rangeDeletions, tableOptions, warmBudget);
  return { meta: await writeTableFile(fs, dir, number, bytes, properties as TableProperties), warm };
}
