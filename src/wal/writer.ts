// LogWriter: frames records in the log format (./format.ts) into a pending
// buffer in linear memory, then hands the whole buffer to the OS in one
// write. Callers group commits by adding several records before one
// flushSync, and several flushes before one sync.
//
// Invariant: a failed write or sync poisons the writer. Every later call
// throws that same error, because the file's state is unknown (a partial
// write may have landed; after a failed fsync the kernel may have dropped
// dirty pages, so a retried fsync that succeeds proves nothing).
import { performance } from 'node:perf_hooks'; // not the global, which Node defines as a getter: a call per use
import { ClosedError, InvalidArgumentError, IOError, VarveError } from '../errors.js';
import type { FileHandle } from '../fs/filesystem.js';
import { crc32cAt, maskCrc } from '../wasm/crc32c.js';
import { Region, u8, view } from '../wasm/heap.js';
import { BLOCK_SIZE, CRC_OFFSET, HEADER_SIZE, LENGTH_OFFSET, TYPE_OFFSET, fragmentType, framedLength } from './format.js';

const INITIAL_PENDING = 64 * 1024;
/** A pending buffer grown past this (by a huge record) is given back after its flush. */
const RETAINED_PENDING = 1024 * 1024;
/** Linear memory is capped at 2 GiB; keep the buffer well inside what one allocation can be. */
const MAX_PENDING = 0x7fff0000;
/**
 * sync() fdatasyncs on the calling thread while recent syncs took at most
 * this long, else off it. Handing a sync to the thread pool and back costs
 * ~20-40 us, a third of a fast disk's whole sync (measured here: 16.6k
 * inline vs 12.6k/s through the pool), while blocking the event loop for
 * 0.25 ms at most is cheaper than that hop is for the one waiting writer.
 * A slow disk (or one slow sync) moves syncs off the thread at once.
 */
const INLINE_SYNC_MAX_MS = 0.25;

function asVarveError(err: unknown, path: string): VarveError {
  if (err instanceof VarveError) return err;
  return new IOError(`log write to ${path} failed`, { cause: err });
}

export class LogWriter {
  readonly #file: FileHandle;
  readonly #now: () => number;
  #region: Region;
  /** Bytes framed but not yet handed to the OS, at the start of #region. */
  #pending = 0;
  /** Bytes of the file the OS already holds from us (startOffset included). */
  #written: number;
  #poison: VarveError | undefined;
  #closed = false;
  /** Recent sync durations in ms, exponentially averaged; undefined before the first sync (which goes off the thread). */
  #syncMs: number | undefined;

  /**
   * `file` must be positioned at its end (opened to append, or new), and
   * `startOffset` must be its size, so that fragments line up with blocks.
   */
  /**
   * `now`: the monotonic clock (ms) that times syncs (INLINE_SYNC_MAX_MS);
   * tests give a fake one, so how a sync is placed does not depend on how
   * busy the machine is.
   */
  constructor(file: FileHandle, startOffset = 0, now: () => number = () => performance.now()) {
    if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new InvalidArgumentError(`log start offset must be a non-negative integer, got ${startOffset}`);
    }
    this.#file = file;
    this.#now = now;
    this.#written = startOffset;
    this.#region = new Region(INITIAL_PENDING);
  }

  /** File size once every pending byte is written. */
  get offset(): number {
    return this.#written + this.#pending;
  }

  /** Bytes framed and waiting for flushSync. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /**
   * Frames the `len` bytes at `ptr` in linear memory as one record. The
   * bytes are copied into the pending buffer once; CRCs are computed there.
   */
  addRecord(ptr: number, len: number): void {
    this.#checkUsable();
    if (!Number.isInteger(ptr) || !Number.isInteger(len) || ptr < 0 || len < 0 || ptr + len > u8().length) {
      throw new InvalidArgumentError(`record [${ptr}, ${ptr}+${len}) is not inside linear memory`);
    }
    const size = framedLength(this.offset % BLOCK_SIZE, len);
    this.#reserve(size);
    // No allocation happens below, so these views stay valid.
    const bytes = u8();
    const dv = view();
    let out = this.#region.ptr + this.#pending;
    let blockOffset = this.offset % BLOCK_SIZE;
    let done = 0;
    let isFirst = true;
    do {
      const room = BLOCK_SIZE - blockOffset;
      if (room < HEADER_SIZE) {
        bytes.fill(0, out, out + room);
        out += room;
        blockOffset = 0;
      }
      const n = Math.min(BLOCK_SIZE - blockOffset - HEADER_SIZE, len - done);
      bytes.copyWithin(out + HEADER_SIZE, ptr + done, ptr + done + n);
      // A record whose header fits in a block's last 7 bytes starts with an empty FIRST.
      bytes[out + TYPE_OFFSET] = fragmentType(isFirst, done + n === len);
      dv.setUint16(out + LENGTH_OFFSET, n, true);
      dv.setUint32(out + CRC_OFFSET, maskCrc(crc32cAt(out + TYPE_OFFSET, n + 1)), true);
      out += HEADER_SIZE + n;
      blockOffset += HEADER_SIZE + n;
      done += n;
      isFirst = false;
    } while (done < len);
    this.#pending += size;
  }

  /** Frames host bytes as one record (for callers whose payload is not in linear memory). */
  addRecordBytes(payload: Uint8Array): void {
    this.#checkUsable();
    const staging = new Region(payload.length);
    try {
      const ptr = staging.load(payload);
      this.addRecord(ptr, payload.length);
    } finally {
      staging.release();
    }
  }

  /** Hands every pending byte to the OS in one write. */
  flushSync(): void {
    this.#checkUsable();
    if (this.#pending === 0) return;
    try {
      this.#file.writeSync(u8(), this.#region.ptr, this.#pending, null);
    } catch (err) {
      throw this.#fail(err);
    }
    this.#written += this.#pending;
    this.#pending = 0;
    if (this.#region.capacity > RETAINED_PENDING) {
      this.#region.release();
      this.#region = new Region(INITIAL_PENDING);
    }
  }

  /**
   * Flushes, then fdatasyncs (on this thread while syncs are fast, see
   * INLINE_SYNC_MAX_MS, else off it): every record added so far is durable
   * on return.
   */
  async sync(): Promise<void> {
    this.flushSync();
    const start = this.#now();
    try {
      if (this.syncsInline) this.#file.datasyncSync();
      else await this.#file.datasync();
    } catch (err) {
      throw this.#fail(err);
    }
    const ms = this.#now() - start;
    // A slow sync weighs at once; fast ones bring the average down over a few syncs.
    this.#syncMs = this.#syncMs === undefined || ms > INLINE_SYNC_MAX_MS ? ms : this.#syncMs + (ms - this.#syncMs) / 4;
    // A failure elsewhere while this sync ran leaves the file's state unknown too.
    if (this.#poison) throw this.#poison;
  }

  /** Whether the next sync() runs on the calling thread. */
  get syncsInline(): boolean {
    return this.#syncMs !== undefined && this.#syncMs <= INLINE_SYNC_MAX_MS;
  }

  /** As sync, blocking the calling thread. */
  syncSync(): void {
    this.flushSync();
    try {
      this.#file.datasyncSync();
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /**
   * Flushes pending records (not synced) and closes the file. A poisoned
   * writer only releases its resources: its error was already reported.
   */
  close(): void {
    if (this.#closed) return;
    try {
      if (!this.#poison) this.flushSync();
    } finally {
      this.#closed = true;
      this.#region.release();
      this.#file.closeSync();
    }
  }

  #checkUsable(): void {
    if (this.#poison) throw this.#poison;
    if (this.#closed) throw new ClosedError(`log writer for ${this.#file.path} is closed`);
  }

  /** Records the first failure; every later call throws it. */
  #fail(err: unknown): VarveError {
    this.#poison ??= asVarveError(err, this.#file.path);
    return this.#poison;
  }

  /** Grows the pending buffer, keeping its bytes, so `extra` more fit. */
  #reserve(extra: number): void {
    const needed = this.#pending + extra;
    if (needed <= this.#region.capacity) return;
    if (needed > MAX_PENDING) {
      throw new InvalidArgumentError(`log records pending flush would exceed ${MAX_PENDING} bytes`);
    }
    const grown = new Region(needed);
    u8().copyWithin(grown.ptr, this.#region.ptr, this.#region.ptr + this.#pending);
    this.#region.release();
    this.#region = grown;
  }
}
