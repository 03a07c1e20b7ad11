// Range tombstones: [start, end)#seq deletes every entry of a user key in
// [start, end) whose sequence is below seq. Stored as an entry of kind
// RangeDeletion: internal key start#seq, value = end. An EMPTY end means "no
// upper bound": no real range ends at the empty key ([start, "") holds
// nothing), so the empty value is free to mean +infinity (docs/FORMAT.md).
import { InvalidArgumentError } from '../errors.js';
import { compareBytes } from '../keys.js';

export interface RangeTombstone {
  readonly start: Uint8Array;
  /** Exclusive end; undefined: no upper bound. */
  readonly end: Uint8Array | undefined;
  readonly seq: number;
}

const EMPTY = new Uint8Array(0);

/** The stored value of a tombstone ending at `end` (undefined: unbounded). */
export function encodeEnd(end: Uint8Array | undefined): Uint8Array {
  if (end !== undefined && end.length === 0) throw new InvalidArgumentError('a range deletion cannot end at the empty key');
  return end ?? EMPTY;
}

/** The end a stored value names. */
export function decodeEnd(value: Uint8Array): Uint8Array | undefined {
  return value.length === 0 ? undefined : value;
}

/** Order of two exclusive ends, undefined (unbounded) last. */
export function compareEnds(a: Uint8Array | undefined, b: Uint8Array | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return compareBytes(a, b);
}

/** Whether `userKey` < end. */
export function beforeEnd(userKey: Uint8Array, end: Uint8Array | undefined): boolean {
  return end === undefined || compareBytes(userKey, end) < 0;
}

/** Whether [start, end) holds no key. */
export function isEmptyRange(start: Uint8Array, end: Uint8Array | undefined): boolean {
  return end !== undefined && compareBytes(start, end) >= 0;
}

/** The smallest key above `key`: key + 0x00. */
export function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}
