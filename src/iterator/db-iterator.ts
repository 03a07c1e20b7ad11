// The user-facing iterator: turns a stream of internal entries (usually a
// merging iterator) into the user's view at one snapshot: only entries with
// sequence <= snapshot, only the newest such version of each user key, keys
// whose newest visible version is a deletion or an expired value left out
// (values with expiry come back without their 8-byte expiry), within the bounds,
// forward or reverse, up to a limit. Keys and values come back as copies.
//
// Position invariant between calls: forward, the source is at the first
// entry of the next user key not yet considered; reverse, at the last entry
// of the previous one. Range deletions come as fragments gathered when the
// iterator is created (none in the common case: one null check per key); a
// key whose newest visible version is older than the fragment covering it
// is left out. Kind-3 entries in the stream itself are skipped.
import { ClosedError, CorruptionError, InvalidArgumentError } from '../errors.js';
import { Kind, MAX_SEQUENCE, TRAILER_SIZE, compareBytes, isUserKeyAt, makeInternalKey, makeSeekKey } from '../keys.js';
import { copyOut } from '../copy-out.js';
import { EXPIRY_SIZE, isExpired, readExpiry } from '../expiry.js';
import type { InternalIterator } from './internal.js';
import { u8 } from '../wasm/heap.js';
import type { TombstoneFragments } from '../rangedel/fragments.js';

export interface DbIteratorOptions {
  /** Entries with a larger sequence are invisible. */
  snapshot: number;
  /** Wall-clock ms at which values with expiry are judged. Default: Date.now() at construction. */
  now?: number | undefined;
  gt?: Uint8Array | undefined;
  gte?: Uint8Array | undefined;
  lt?: Uint8Array | undefined;
  lte?: Uint8Array | undefined;
  reverse?: boolean | undefined;
  /** Most entries to return in all; -1 or undefined for no limit. */
  limit?: number | undefined;
  /** Range deletions visible at the snapshot, fragmented; undefined when there are none. */
  tombstones?: TombstoneFragments | undefined;
}

export type IteratorEntry = [key: Uint8Array, value: Uint8Array];

interface Bound {
  key: Uint8Array;
  inclusive: boolean;
}

const TWO_24 = 0x1000000;

/** Bytewise order of the user key at mem[ptr, ptr + userLength) against `key`. */
function compareUserKeyAt(mem: Uint8Array, ptr: number, userLength: number, key: Uint8Array): number {
  const n = Math.min(userLength, key.length);
  for (let i = 0; i < n; i++) {
    if (mem[ptr + i] !== key[i]) return mem[ptr + i]! - key[i]!;
  }
  return userLength - key.length;
}

/** Sequence from the trailer at mem[t, t + 8), without allocating. */
function sequenceAt(mem: Uint8Array, t: number): number {
  const lo = (mem[t]! | (mem[t + 1]! << 8) | (mem[t + 2]! << 16) | (mem[t + 3]! << 24)) >>> 0;
  const hi = (mem[t + 4]! | (mem[t + 5]! << 8) | (mem[t + 6]! << 16) | (mem[t + 7]! << 24)) >>> 0;
  return hi * TWO_24 + (lo >>> 8);
}

function checkKey(name: string, key: unknown): Uint8Array | undefined {
  if (key === undefined) return undefined;
  if (!(key instanceof Uint8Array)) throw new InvalidArgumentError(`${name} must be a Uint8Array`);
  return key.slice();
}

/** The tighter of an exclusive and an inclusive bound on one side; `sign` 1 for lower bounds, -1 for upper. */
function tighter(exclusive: Uint8Array | undefined, inclusive: Uint8Array | undefined, sign: number): Bound | undefined {
  if (exclusive === undefined) return inclusive === undefined ? undefined : { key: inclusive, inclusive: true };
  if (inclusive === undefined || compareBytes(exclusive, inclusive) * sign >= 0) return { key: exclusive, inclusive: false };
  return { key: inclusive, inclusive: true };
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined || limit === -1 || limit === Infinity) return Infinity;
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidArgumentError(`limit must be a non-negative integer, -1 or Infinity, got ${limit}`);
  return limit;
}

export class DbIterator {
  readonly #source: InternalIterator;
  readonly #snapshot: number;
  readonly #now: number;
  readonly #lower: Bound | undefined;
  readonly #upper: Bound | undefined;
  readonly #reverse: boolean;
  readonly #limit: number;
  readonly #tombstones: TombstoneFragments | undefined;
  #returned = 0;
  /** Not yet positioned: the first next() starts from the bound. */
  #fresh = true;
  /** The source has passed the end of the range; nothing more until a seek. */
  #exhausted = false;
  #closed = false;
  /** Copy of a deleted user key while its older versions are skipped. */
  #scratch = new Uint8Array(64);

  /** Takes ownership of `source`: closing this iterator closes it. */
  constructor(source: InternalIterator, options: DbIteratorOptions) {
    const { snapshot } = options;
    if (!Number.isSafeInteger(snapshot) || snapshot < 0) {
      throw new InvalidArgumentError(`snapshot must be an integer in 0..2^53-1, got ${snapshot}`);
    }
    this.#source = source;
    this.#snapshot = snapshot;
    const now = options.now ?? Date.now();
    if (typeof now !== 'number' || Number.isNaN(now)) throw new InvalidArgumentError(`now must be a number, got ${String(now)}`);
    this.#now = now;
    this.#lower = tighter(checkKey('gt', options.gt), checkKey('gte', options.gte), 1);
    this.#upper = tighter(checkKey('lt', options.lt), checkKey('lte', options.lte), -1);
    this.#reverse = options.reverse === true;
    this.#limit = checkLimit(options.limit);
    this.#tombstones = options.tombstones;
  }

  /** Whether a range deletion visible at the snapshot removes version `seq` of `userKey`. */
  #rangeDeleted(userKey: Uint8Array, seq: number): boolean {
    return this.#tombstones !== undefined && this.#tombstones.coveringSeq(userKey, this.#snapshot) > seq;
  }

  /** The next entry in iteration order, or undefined at the end of the range or the limit. */
  next(): IteratorEntry | undefined {
    this.#checkOpen();
    if (this.#returned >= this.#limit || this.#exhausted) return undefined;
    if (this.#fresh) this.#positionAtStart();
    const entry = this.#reverse ? this.#stepBackward() : this.#stepForward();
    if (entry === undefined) this.#exhausted = true;
    else this.#returned++;
    return entry;
  }

  /** Up to `n` next entries; fewer only at the end of the range or the limit. */
  nextv(n: number): IteratorEntry[] {
    this.#checkOpen();
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`nextv wants a non-negative integer count, got ${n}`);
    const out: IteratorEntry[] = [];
    while (out.length < n) {
      const entry = this.next();
      if (entry === undefined) break;
      out.push(entry);
    }
    return out;
  }

  /**
   * Repositions at the first key >= target (reverse: the last key <=
   * target), never outside the bounds. The limit keeps counting.
   */
  seek(target: Uint8Array): void {
    this.#checkOpen();
    if (!(target instanceof Uint8Array)) throw new InvalidArgumentError('seek target must be a Uint8Array');
    const bound = this.#reverse ? this.#upper : this.#lower;
    const c = bound === undefined ? 0 : compareBytes(target, bound.key) * (this.#reverse ? -1 : 1);
    const from = bound !== undefined && (c < 0 || (c === 0 && !bound.inclusive)) ? bound : { key: target, inclusive: true };
    this.#positionAt(from);
  }

  /** Closes the source. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('iterator used after close');
  }

  #positionAtStart(): void {
    const bound = this.#reverse ? this.#upper : this.#lower;
    if (bound !== undefined) this.#positionAt(bound);
    else {
      if (this.#reverse) this.#source.seekToLast();
      else this.#source.seekToFirst();
      this.#fresh = false;
      this.#exhausted = false;
    }
  }

  /** Forward: at the first entry of the first user key at or after `from`; reverse: at the last entry of the last at or before it. */
  #positionAt(from: Bound): void {
    const source = this.#source;
    // (key, snapshot, 0xFF) sorts just before the key's visible versions, (key, 0, deletion)
    // after all of them but a deletion at sequence 0, which shows nothing anyway.
    if (!this.#reverse) {
      if (from.inclusive) source.seek(makeSeekKey(from.key, this.#snapshot));
      else source.seek(makeInternalKey(from.key, 0, Kind.Deletion));
    } else if (from.inclusive) source.seekForPrev(makeInternalKey(from.key, 0, Kind.Deletion));
    else source.seekForPrev(makeSeekKey(from.key, MAX_SEQUENCE));
    this.#fresh = false;
    this.#exhausted = false;
  }

  #beyondUpper(mem: Uint8Array, ptr: number, userLength: number): boolean {
    const upper = this.#upper!;
    const c = compareUserKeyAt(mem, ptr, userLength, upper.key);
    return upper.inclusive ? c > 0 : c >= 0;
  }

  #belowLower(mem: Uint8Array, ptr: number, userLength: number): boolean {
    const lower = this.#lower!;
    const c = compareUserKeyAt(mem, ptr, userLength, lower.key);
    return lower.inclusive ? c < 0 : c <= 0;
  }

  // The steps below read keys and values where the source holds them in
  // linear memory (keyPtr, valuePtr), copying out only what they return.
  // `mem` is taken after the pointers and not kept across a move: a move
  // may grow memory, which detaches older views.

  #stepForward(): IteratorEntry | undefined {
    const source = this.#source;
    const hasUpper = this.#upper !== undefined;
    while (source.valid()) {
      const ptr = source.keyPtr;
      const u = source.keyLen - TRAILER_SIZE;
      let mem = u8();
      if (hasUpper && this.#beyondUpper(mem, ptr, u)) return undefined;
      const kind = mem[ptr + u]!;
      const seq = sequenceAt(mem, ptr + u);
      if (seq > this.#snapshot || kind === Kind.RangeDeletion) {
        source.next();
        continue;
      }
      const value = kind === Kind.Value || kind === Kind.ValueWithExpiry ? this.#liveValue(kind) : undefined;
      mem = u8();
      if (value !== undefined) {
        const key = copyOut(mem, ptr, ptr + u);
        this.#skipVersions(key, u);
        if (!this.#rangeDeleted(key, seq)) return [key, value];
      } else if (kind === Kind.Deletion || kind === Kind.ValueWithExpiry) {
        // A deletion, or an expired value, which hides older versions as a deletion does.
        this.#skipVersions(this.#copyToScratch(mem, ptr, u), u);
      } else {
        throw new CorruptionError(`entry of unknown kind ${kind}`);
      }
    }
    return undefined;
  }

  /** Moves the source past every remaining entry of the user key `key[0, length)`; the source is on one of them. */
  #skipVersions(key: Uint8Array, length: number): void {
    const source = this.#source;
    do source.next();
    while (source.valid() && isUserKeyAt(u8(), source.keyPtr, source.keyLen, key, length));
  }

  /**
   * A copy of the source's current value, of kind Value or ValueWithExpiry;
   * undefined when its expiry has passed at this iterator's `now`. The copy
   * leaves out the 8-byte expiry.
   */
  #liveValue(kind: number): Uint8Array | undefined {
    const source = this.#source;
    const ptr = source.valuePtr;
    const end = ptr + source.valueLen;
    const mem = u8();
    if (kind === Kind.Value) return copyOut(mem, ptr, end);
    if (isExpired(readExpiry(mem.subarray(ptr, end)), this.#now)) return undefined;
    return copyOut(mem, ptr + EXPIRY_SIZE, end);
  }

  #copyToScratch(mem: Uint8Array, ptr: number, length: number): Uint8Array {
    if (this.#scratch.length < length) this.#scratch = new Uint8Array(Math.max(length, 2 * this.#scratch.length));
    this.#scratch.set(mem.subarray(ptr, ptr + length));
    return this.#scratch;
  }

  /**
   * Walks back over the versions of one user key at a time, oldest first,
   * so the newest visible version is the last visible one met before the
   * key changes.
   */
  #stepBackward(): IteratorEntry | undefined {
    const source = this.#source;
    const hasLower = this.#lower !== undefined;
    while (source.valid()) {
      let ptr = source.keyPtr;
      const u = source.keyLen - TRAILER_SIZE;
      let mem = u8();
      if (hasLower && this.#belowLower(mem, ptr, u)) return undefined;
      const key = copyOut(mem, ptr, ptr + u);
      let value: Uint8Array | undefined;
      let valueSeq = 0;
      for (;;) {
        const kind = mem[ptr + u]!;
        const seq = sequenceAt(mem, ptr + u);
        if (seq <= this.#snapshot) {
          if (kind === Kind.Value || kind === Kind.ValueWithExpiry) {
            value = this.#liveValue(kind);
            valueSeq = seq;
          } else if (kind === Kind.Deletion) value = undefined;
          else if (kind !== Kind.RangeDeletion) throw new CorruptionError(`entry of unknown kind ${kind}`);
        }
        source.prev();
        if (!source.valid()) break;
        ptr = source.keyPtr;
        mem = u8();
        if (!isUserKeyAt(mem, ptr, source.keyLen, key)) break;
      }
      if (value !== undefined && !this.#rangeDeleted(key, valueSeq)) return [key, value];
    }
    return undefined;
  }
}
