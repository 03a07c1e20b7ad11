// The table-building worker: pure CPU, its own WebAssembly instance. It
// receives a memtable's sorted run, builds the table's bytes (blocks, LZ4,
// checksums, index, bloom filter, properties, footer) and sends them back;
// the main thread does all file I/O through the engine's FileSystem.
import { parentPort } from 'node:worker_threads';
import { TableBuilder } from '../table/builder.js';
import type { BuildRequest, BuildResponse } from './protocol.js';

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
    const { bytes, properties } = builder.finish();
    return { id: request.id, bytes, properties };
  } finally {
    builder.abandon();
  }
}

parentPort!.on('message', (request: BuildRequest) => {
  let response: BuildResponse;
  try {
    response = build(request);
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    response = { id: request.id, error: { name: e.name ?? 'Error', code: e.code ?? 'ERR_FLUSH', message: e.message ?? String(err) } };
  }
  const transfer = response.bytes ? [response.bytes.buffer as ArrayBuffer] : [];
  parentPort!.postMessage(response, transfer);
});
