// Data blocks a table builder keeps, decoded, for the engine's block cache.
// A flush or compaction rewrites data the block cache may hold in blocks of
// the tables it replaces (a flush: the memtable; a compaction: its inputs),
// and reads of that data would otherwise each read and decompress a block
// of the new table again. The builder (in the table worker) copies each
// data block it writes here before compressing it, up to a byte budget; the
// engine inserts them into its block cache under the new files' keys once
// the tables are installed.
//
// Invariants: `bytes` holds the kept blocks back to back; `entries` holds
// one [output, offset, start, length] row per kept block, in the order they
// were kept, where output is the ordinal of the finished table (the n-th
// table finished since the collector was made) and offset the block's
// position in that table's file. Blocks of an abandoned table are dropped.
// Once a block does not fit the budget, no later block is kept, so what is
// kept is a prefix of the outputs in key order.
import { u8 } from '../wasm/heap.js';

/** What the worker hands the engine: the kept blocks (bytes past the last one are unused) and their rows, both transferable. */
export interface WarmBlocksMessage {
  bytes: ArrayBuffer;
  /** Four numbers per block: output ordinal, offset in its file, start in `bytes`, length. */
  entries: Float64Array;
}

export class WarmBlocks {
  readonly #budget: number;
  #bytes: Uint8Array;
  #used = 0;
  readonly #entries: number[] = [];
  /** Rows of the table being built start here (dropped if it is abandoned). */
  #tableStart = 0;
  #tables = 0;
  #full = false;

  /** Keeps at most `budget` bytes of blocks. */
  constructor(budget: number) {
    this.#budget = budget;
    this.#bytes = new Uint8Array(Math.min(budget, 64 * 1024));
  }

  /** Copies the decoded block at `ptr` (`len` bytes of this thread's linear memory), at `offset` of the table being built, if it fits. */
  keep(offset: number, ptr: number, len: number): void {
    if (this.#full || this.#used + len > this.#budget) {
      this.#full = true;
      return;
    }
    this.#reserve(len);
    this.#bytes.set(u8().subarray(ptr, ptr + len), this.#used);
    this.#entries.push(this.#tables, offset, this.#used, len);
    this.#used += len;
  }

  /** The table being built is finished: it is output number `tables` (0-based). */
  tableFinished(): void {
    this.#tables++;
    this.#tableStart = this.#entries.length;
  }

  /** The table being built is abandoned: its blocks are dropped. */
  tableAbandoned(): void {
    const start = this.#tableStart;
    if (start < this.#entries.length) this.#used = this.#entries[start + 2]!;
    this.#entries.length = start;
  }

  /** The blocks kept for finished tables, for transfer (after which this collector is spent). */
  message(): WarmBlocksMessage {
    this.tableAbandoned();
    return { bytes: this.#bytes.buffer as ArrayBuffer, entries: Float64Array.from(this.#entries) };
  }

  #reserve(len: number): void {
    if (this.#used + len <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.min(this.#budget, Math.max(this.#used + len, this.#bytes.length * 2)));
    grown.set(this.#bytes.subarray(0, this.#used));
    this.#bytes = grown;
  }
}
