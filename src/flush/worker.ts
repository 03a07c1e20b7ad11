// The table worker: pure CPU, its own WebAssembly instance. It builds a
// table from a memtable's sorted run (a flush), or merges input tables into
// output tables (a compaction), and sends the bytes back; the main thread
// does all file I/O through the engine's FileSystem.
import { parentPort } from 'node:worker_threads';
import { compact } from '../compaction/compactor.js';
import { TableBuilder } from '../table/builder.js';
import { raw } from '../wasm/loader.js';
import type { BuildRequest, BuildResponse, CompactionIoRequest, CompactRequest, CompactResponse, WorkerRequest, WorkerResponse } from './protocol.js';
import { SyncCaller } from './sync-call.js';
import { RemoteInput, remoteSink } from '../compaction/remote-io.js';
import { tableFileName } from '../version/filenames.js';

function build(request: BuildRequest): BuildResponse {
  const o = request.options;
  const builder = new TableBuilder({
    blockSize: o.blockSize,
    restartInterval: o.blockRestartInterval,
    bitsPerKey: o.bloomBitsPerKey,
    compression: o.compression,
  });
  try {
    builder.addRun(new Uint8Array(request.run));
    for (const t of request.rangeDeletions) builder.addRangeDeletion(t.start, t.end, t.seq);
    const { bytes, properties } = builder.finish();
    return { id: request.id, wasmBytes: 0, bytes, properties };
  } finally {
    builder.abandon();
  }
}

/** Runs a compaction whose inputs and outputs travel piece by piece through the request's channel. */
function compaction(request: CompactRequest): CompactResponse {
  const c = request.compaction;
  const caller = new SyncCaller<CompactionIoRequest, number>(request.port, request.flag);
  try {
    const inputs = c.inputs.map((input, i) => ({
      number: input.number,
      file: new RemoteInput(tableFileName(input.number), caller, i, input.size, request.shared),
      size: input.size,
    }));
    const { stats } = compact({ ...c, inputs }, remoteSink(caller, request.shared, inputs.length));
    return { id: request.id, wasmBytes: 0, stats };
  } finally {
    request.port.close();
  }
}

/** The buffers a response hands back. */
function transferList(response: WorkerResponse): ArrayBuffer[] {
  if ('bytes' in response && response.bytes) return [response.bytes.buffer as ArrayBuffer];
  return [];
}

parentPort!.on('message', (request: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    response = request.type === 'compact' ? compaction(request) : build(request);
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    const fallback = request.type === 'compact' ? 'ERR_COMPACTION' : 'ERR_FLUSH';
    response = { id: request.id, wasmBytes: 0, error: { name: e.name ?? 'Error', code: e.code ?? fallback, message: e.message ?? String(err) } };
  }
  response.wasmBytes = raw.memory.buffer.byteLength;
  parentPort!.postMessage(response, transferList(response));
});
