// Sorting a run a memtable exported unsorted (in insertion order), in the
// thread that builds its table, so the thread that took the writes never
// pays for the sort. The entries go into a skip list of this thread's
// WebAssembly instance as pending nodes, with no index; its export settles
// them in one sort and writes them back out in order.
import { alloc, free, u8 } from '../wasm/heap.js';
import { SkipList, chunkSizeFor } from '../wasm/skiplist.js';

/**
 * Calls `use` with the entries of `run` in sorted order, as a run in linear
 * memory (`len` bytes at `ptr`, freed when `use` returns). Throws
 * CorruptionError for malformed run bytes.
 */
export function withSortedRun<T>(run: Uint8Array, use: (ptr: number, len: number) => T): T {
  const list = new SkipList(chunkSizeFor(run.length), 0);
  let ptr = 0;
  try {
    // One allocation for the input, then the output: the list holds its own copies in between.
    ptr = alloc(Math.max(1, run.length));
    u8().set(run, ptr);
    list.insertRunAt(ptr, run.length);
    free(ptr);
    ptr = 0;
    const len = list.exportSize;
    ptr = alloc(Math.max(1, len));
    list.exportSlice(0, ptr, len);
    return use(ptr, len);
  } finally {
    if (ptr !== 0) free(ptr);
    list.destroy();
  }
}
