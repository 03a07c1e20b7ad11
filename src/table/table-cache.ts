// Open tables and their cached blocks. Table readers live in an LRU cache
// bounded by maxOpenFiles (each holds one open file); decoded blocks in an
// LRU cache bounded by bytes, shared by all tables. Both pin what a read or
// an iterator uses, so eviction never frees memory in use.
import { join } from 'node:path';
import { LruCache, type CacheHandle } from '../cache/lru.js';
import type { FileSystem } from '../fs/filesystem.js';
import type { InternalIterator } from '../iterator/internal.js';
import type { FileMetadata } from '../version/edit.js';
import type { Version } from '../version/version.js';
import { tableFileName } from '../version/filenames.js';
import { freeCachedBlock, type CachedBlock } from './block-source.js';
import { TableReader, type TableEntry } from './reader.js';

export class TableCache {
  readonly #fs: FileSystem;
  readonly #dir: string;
  readonly #readers: LruCache<TableReader>;
  readonly #blocks: LruCache<CachedBlock>;

  constructor(fs: FileSystem, dir: string, maxOpenFiles: number, blockCacheBytes: number) {
    this.#fs = fs;
    this.#dir = dir;
    this.#blocks = new LruCache<CachedBlock>(blockCacheBytes, freeCachedBlock);
    this.#readers = new LruCache<TableReader>(maxOpenFiles, (reader) => reader.close());
  }

  /** Bytes of decoded blocks the block cache holds, pinned ones included. */
  get blockCacheBytes(): number {
    return this.#blocks.usage;
  }

  /** A pinned reader for the table; release it with `#readers.release`. */
  #pin(meta: FileMetadata): CacheHandle<TableReader> {
    const hit = this.#readers.lookup(meta.number);
    if (hit) return hit;
    const file = this.#fs.open(join(this.#dir, tableFileName(meta.number)), 'read');
    let reader: TableReader;
    try {
      reader = TableReader.open(file, meta.number, meta.size, this.#blocks);
    } catch (err) {
      file.closeSync();
      throw err;
    }
    return this.#readers.insert(meta.number, reader, 1);
  }

  /** The newest entry for `userKey` visible at `seq` in the version's tables (deletions included), searching in LSM order. */
  get(version: Version, userKey: Uint8Array, seq: number): TableEntry | undefined {
    for (const meta of version.filesForKey(userKey)) {
      const handle = this.#pin(meta);
      try {
        const entry = handle.value.get(userKey, seq);
        if (entry !== undefined) return entry;
      } finally {
        this.#readers.release(handle);
      }
    }
    return undefined;
  }

  /** An iterator per table of the version; each keeps its table open until closed. */
  iterators(version: Version): InternalIterator[] {
    const out: InternalIterator[] = [];
    for (const level of version.levels) {
      for (const meta of level) {
        const handle = this.#pin(meta);
        out.push(new PinnedIterator(handle.value.iterator(), () => this.#readers.release(handle)));
      }
    }
    return out;
  }

  /** Forgets a deleted table: closes its reader once unpinned and drops its blocks. */
  evict(number: number): void {
    this.#readers.erase(number);
  }

  close(): void {
    this.#readers.eraseIf(() => true);
    this.#blocks.eraseIf(() => true);
  }
}

/** An iterator that releases a pin when closed. */
class PinnedIterator implements InternalIterator {
  readonly #inner: InternalIterator;
  #release: (() => void) | undefined;

  constructor(inner: InternalIterator, release: () => void) {
    this.#inner = inner;
    this.#release = release;
  }
  valid(): boolean {
    return this.#inner.valid();
  }
  seekToFirst(): void {
    this.#inner.seekToFirst();
  }
  seekToLast(): void {
    this.#inner.seekToLast();
  }
  seek(target: Uint8Array): void {
    this.#inner.seek(target);
  }
  seekForPrev(target: Uint8Array): void {
    this.#inner.seekForPrev(target);
  }
  next(): void {
    this.#inner.next();
  }
  prev(): void {
    this.#inner.prev();
  }
  key(): Uint8Array {
    return this.#inner.key();
  }
  value(): Uint8Array {
    return this.#inner.value();
  }
  close(): void {
    this.#inner.close();
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
