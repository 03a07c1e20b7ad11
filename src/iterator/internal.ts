// The iterator every source of internal keys implements: memtables, tables,
// the merging iterator over them. Keys are internal keys (user key + 8-byte
// trailer, docs/FORMAT.md), ordered by compareInternalKeys (src/keys.ts).
//
// key() and value() return views that stay valid only until the iterator
// moves, and only while linear memory does not grow (any write may grow
// it): callers compare or copy at once and never hold them.
// Corrupt data surfaces as a CorruptionError thrown from the move that met it.

export interface InternalIterator {
  /** Whether the iterator is positioned on an entry. */
  valid(): boolean;
  seekToFirst(): void;
  seekToLast(): void;
  /** Positions at the first entry whose internal key is >= target. */
  seek(target: Uint8Array): void;
  /** Positions at the last entry whose internal key is <= target. */
  seekForPrev(target: Uint8Array): void;
  /** Precondition: valid(). */
  next(): void;
  /** Precondition: valid(). */
  prev(): void;
  /** The current internal key. Precondition: valid(). */
  key(): Uint8Array;
  /**
   * Where the current internal key lies in this thread's linear memory, and
   * its length: stable while the iterator stays on its entry, whatever
   * memory grows (the merging iterator compares keys there, in WebAssembly).
   * Precondition: valid().
   */
  readonly keyPtr: number;
  readonly keyLen: number;
  /** The current value. Precondition: valid(). */
  value(): Uint8Array;
  /** Where the current value lies in linear memory, and its length; stable as keyPtr. Precondition: valid(). */
  readonly valuePtr: number;
  readonly valueLen: number;
  /** Releases what the iterator pins (cached blocks, memtables, versions). Idempotent; no other call after it. */
  close(): void;
}
