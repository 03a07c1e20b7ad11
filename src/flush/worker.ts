// The table worker: its own WebAssembly instance. It builds a table from a
// memtable's run (a flush: sorting the run first if it came unsorted) and
// sends the bytes back, or merges input tables into output tables (a
// compaction), reading and writing them itself when the engine's FileSystem
// is node:fs, else through the main thread.
import { parentPort } from 'node:worker_threads';
import { compact } from '../compaction/compactor.js';
import type { WindowedInput } from '../compaction/windowed-input.js';
import { withSortedRun } from '../memtable/sort-run.js';
import { TableBuilder } from '../table/builder.js';
import { raw } from '../wasm/loader.js';
import { type BuildRequest, type BuildResponse, type CompactionIoRequest, type CompactRequest, type CompactResponse, IO_CHUNK, type WorkerRequest, type WorkerResponse } from './protocol.js';
import { SyncCaller } from './sync-call.js';
import { remoteInput, remoteSink } from '../compaction/remote-io.js';
import { LocalOutputs, localInput } from '../compaction/local-io.js';
import { tableFileName } from '../version/filenames.js';
import { WarmBlocks } from '../table/warm-blocks.js';

function build(request: BuildRequest): BuildResponse {
  const o = request.options;
  const warm = request.warmBudget > 0 ? new WarmBlocks(request.warmBudget) : undefined;
  const builder = new TableBuilder({
    blockSize: o.blockSize,
    restartInterval: o.blockRestartInterval,
    bitsPerKey: o.bloomBitsPerKey,
    compression: o.compression,
    warm,
  });
  try {
    const run = new Uint8Array(request.run);
    if (request.sorted) builder.addRun(run);
    else withSortedRun(run, (ptr, len) => builder.addRunAt(ptr, len));
    for (const t of request.rangeDeletions) builder.addRangeDeletion(t.start, t.end, t.seq);
    const { bytes, properties } = builder.finish();
    return { id: request.id, wasmBytes: 0, bytes, properties, warm: warm?.message() };
  } finally {
    builder.abandon();
  }
}

/**
 * Runs a compaction. Its inputs and outputs travel piece by piece through
 * the request's channel, or, with `request.local`, this thread reads and
 * writes them itself.
 */
function compaction(request: CompactRequest): CompactResponse {
  const c = request.compaction;
  const caller = new SyncCaller<CompactionIoRequest, number>(request.port, request.flag);
  const local = request.local;
  const inputs: Array<{ number: number; file: WindowedInput; size: number }> = [];
  try {
    for (const [i, input] of c.inputs.entries()) {
      const file = local
        ? localInput(local.dir, input.number, input.size, new Uint8Array(request.shared, i * IO_CHUNK, IO_CHUNK))
        : remoteInput(tableFileName(input.number), caller, i, input.size, request.shared);
      inputs.push({ number: input.number, file, size: input.size });
    }
    const outputs = local ? new LocalOutputs(local, caller) : undefined;
    const warm = request.warmBudget > 0 ? new WarmBlocks(request.warmBudget) : undefined;
    const { stats } = compact({ ...c, inputs, table: { ...c.table, warm } }, outputs?.sink ?? remoteSink(caller, request.shared, inputs.length));
    return { id: request.id, wasmBytes: 0, stats, outputs: outputs?.written, warm: warm?.message() };
  } finally {
    // The compaction closes its inputs; these are for a failure before it starts.
    for (const input of inputs) input.file.closeSync();
    request.port.close();
  }
}

/** The buffers a response hands back. */
function transferList(response: WorkerResponse): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  if ('bytes' in response && response.bytes) list.push(response.bytes.buffer as ArrayBuffer);
  if (response.warm) list.push(response.warm.bytes, response.warm.entries.buffer as ArrayBuffer);
  return list;
}

parentPort!.on('message', (request: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    response = request.type === 'compact' ? compaction(request) : build(request);
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string; errno?: string };
    const fallback = request.type === 'compact' ? 'ERR_COMPACTION' : 'ERR_FLUSH';
    response = { id: request.id, wasmBytes: 0, error: { name: e.name ?? 'Error', code: e.code ?? fallback, message: e.message ?? String(err), errno: e.errno } };
  }
  response.wasmBytes = raw.memory.buffer.byteLength;
  parentPort!.postMessage(response, transferList(response));
});
