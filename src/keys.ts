// Internal keys on the JavaScript side: the user key followed by an 8-byte
// little-endian trailer holding (sequence << 8 | kind), the layout and order
// of assembly/keys.ts. Sequences are numbers, exact up to 2^53 - 1.
import { CorruptionError, InvalidArgumentError } from './errors.js';

export const TRAILER_SIZE = 8;

/** Largest sequence number a JavaScript number holds exactly. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/** Entry kinds, the low byte of an internal key's trailer. */
export const Kind = {
  Deletion: 0,
  Value: 1,
  ValueWithExpiry: 2,
  RangeDeletion: 3,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Whether `kind` is one of the entry kinds above. */
export function isKind(kind: number): kind is Kind {
  return kind === Kind.Deletion || kind === Kind.Value || kind === Kind.ValueWithExpiry || kind === Kind.RangeDeletion;
}

/** Kind byte of a seek key: sorts before every entry of its user key at or below its sequence. */
export const SEEK_KIND = 0xff;

const TWO_24 = 0x1000000;

/** Writes the trailer for (seq, kind) at `offset` of `out`. */
export function writeTrailer(out: Uint8Array, offset: number, seq: number, kind: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQUENCE) {
    throw new InvalidArgumentError(`sequence ${seq} is not an integer in [0, 2^53)`);
  }
  if (!Number.isInteger(kind) || kind < 0 || kind > 0xff) throw new InvalidArgumentError(`kind ${kind} is not a byte`);
  // low word: low 24 bits of seq above the kind byte; high word: the rest of seq.
  const lo = ((seq % TWO_24) * 256 + kind) >>> 0;
  writeU32PairLE(out, offset, lo, Math.floor(seq / TWO_24));
}

/** Writes u32s `lo` then `hi`, little-endian: a u64 field without BigInt. */
export function writeU32PairLE(out: Uint8Array, offset: number, lo: number, hi: number): void {
  out[offset] = lo & 0xff;
  out[offset + 1] = (lo >>> 8) & 0xff;
  out[offset + 2] = (lo >>> 16) & 0xff;
  out[offset + 3] = lo >>> 24;
  out[offset + 4] = hi & 0xff;
  out[offset + 5] = (hi >>> 8) & 0xff;
  out[offset + 6] = (hi >>> 16) & 0xff;
  out[offset + 7] = hi >>> 24;
}

/** userKey + trailer(seq, kind), as a new array. */
export function makeInternalKey(userKey: Uint8Array, seq: number, kind: number): Uint8Array {
  const key = new Uint8Array(userKey.length + TRAILER_SIZE);
  key.set(userKey, 0);
  writeTrailer(key, userKey.length, seq, kind);
  return key;
}

/** The key that seeks to the newest entry of `userKey` visible at `snapshotSeq`. */
export function makeSeekKey(userKey: Uint8Array, snapshotSeq: number): Uint8Array {
  return makeInternalKey(userKey, snapshotSeq, SEEK_KIND);
}

function checkLength(key: Uint8Array): void {
  if (key.length < TRAILER_SIZE) throw new InvalidArgumentError(`internal key of ${key.length} bytes is shorter than its trailer`);
}

/** The user key part, as a view into `key`. */
export function userKeyOf(key: Uint8Array): Uint8Array {
  checkLength(key);
  return key.subarray(0, key.length - TRAILER_SIZE);
}

/**
 * Whether the internal key of `keyLen` bytes at `ptr` in `mem` has the user
 * key userKey[0, n), compared where it lies. From the end: neighbouring keys
 * in sorted order mostly differ in their last bytes.
 */
export function isUserKeyAt(mem: Uint8Array, ptr: number, keyLen: number, userKey: Uint8Array, n = userKey.length): boolean {
  if (keyLen - TRAILER_SIZE !== n) return false;
  for (let i = n - 1; i >= 0; i--) {
    if (mem[ptr + i] !== userKey[i]) return false;
  }
  return true;
}

/** Sequence and kind of an internal key. A sequence beyond 2^53 - 1 is reported as corruption. */
export function parseTrailer(key: Uint8Array): { seq: number; kind: number } {
  checkLength(key);
  const t = key.length - TRAILER_SIZE;
  const lo = (key[t]! | (key[t + 1]! << 8) | (key[t + 2]! << 16) | (key[t + 3]! << 24)) >>> 0;
  const hi = (key[t + 4]! | (key[t + 5]! << 8) | (key[t + 6]! << 16) | (key[t + 7]! << 24)) >>> 0;
  const seq = hi * TWO_24 + (lo >>> 8);
  if (seq > MAX_SEQUENCE) throw new CorruptionError(`sequence of internal key exceeds 2^53 - 1`);
  return { seq, kind: lo & 0xff };
}

/** Bytewise order of two byte strings; a proper prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Internal-key order: user key bytewise ascending, then trailer (sequence, kind) descending. */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  checkLength(a);
  checkLength(b);
  const aUser = a.length - TRAILER_SIZE;
  const bUser = b.length - TRAILER_SIZE;
  const n = Math.min(aUser, bUser);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  if (aUser !== bUser) return aUser - bUser;
  // Trailers are little-endian: the most significant byte is last.
  for (let j = TRAILER_SIZE - 1; j >= 0; j--) {
    const x = a[aUser + j]!;
    const y = b[bUser + j]!;
    if (x !== y) return y - x;
  }
  return 0;
}

/** The smallest key after every key starting with `prefix`; undefined when there is none (all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = prefix.slice(0, n);
  end[n - 1]!++;
  return end;
}
