// Messages between the engine and its table-building worker.

export interface BuildRequest {
  id: number;
  /** The memtable's sorted run (docs/FORMAT.md, "Sorted runs"), transferred. */
  run: ArrayBuffer;
  options: { blockSize: number; blockRestartInterval: number; bloomBitsPerKey: number; compression: 'lz4' | 'none' };
}

export interface BuildResponse {
  id: number;
  /** The complete table file, transferred. */
  bytes?: Uint8Array;
  properties?: unknown;
  error?: { name: string; code: string; message: string };
}
