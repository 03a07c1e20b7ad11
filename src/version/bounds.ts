// A table's key range is [smallest, largest] as internal keys, except that
// range deletions can make `largest` an EXCLUSIVE sentinel: the end user key
// of the tombstone that reaches furthest, with trailer (MAX_SEQUENCE,
// RangeDeletion). Such a file holds no key at or after that user key, so the
// next file of a level may start at it. With the empty user key the sentinel
// means "no upper bound" (a tombstone without end; no real range ends at the
// empty key). Every comparison against a file's upper bound goes through
// compareLargestToUserKey or compareLargestToSmallest.
import { Kind, MAX_SEQUENCE, TRAILER_SIZE, compareBytes, compareInternalKeys, makeInternalKey } from '../keys.js';
import { type RangeTombstone, compareEnds } from '../rangedel/tombstone.js';

const SENTINEL_TRAILER = makeInternalKey(new Uint8Array(0), MAX_SEQUENCE, Kind.RangeDeletion);

/** The exclusive upper bound of a file whose furthest tombstone ends at `end` (undefined: unbounded). */
export function exclusiveBound(end: Uint8Array | undefined): Uint8Array {
  return end === undefined ? SENTINEL_TRAILER.slice() : makeInternalKey(end, MAX_SEQUENCE, Kind.RangeDeletion);
}

/** Whether `largest` is an exclusive sentinel. */
export function isExclusiveBound(largest: Uint8Array): boolean {
  const t = largest.length - TRAILER_SIZE;
  // The kind byte first: almost every bound is a point key and fails here.
  if (t < 0 || largest[t] !== Kind.RangeDeletion) return false;
  for (let i = 1; i < TRAILER_SIZE; i++) if (largest[t + i] !== SENTINEL_TRAILER[i]) return false;
  return true;
}

/** Whether `largest` means "no upper bound". */
export function isUnbounded(largest: Uint8Array): boolean {
  return largest.length === TRAILER_SIZE && isExclusiveBound(largest);
}

function compareUserPart(ikey: Uint8Array, userKey: Uint8Array, userKeyLength: number): number {
  const aLen = ikey.length - TRAILER_SIZE;
  const n = Math.min(aLen, userKeyLength);
  for (let i = 0; i < n; i++) if (ikey[i] !== userKey[i]) return ikey[i]! - userKey[i]!;
  return aLen - userKeyLength;
}

/**
 * Compares a file's upper bound with a user key: >= 0 exactly when the
 * file's range reaches `userKey` (its largest user key is >= userKey, or
 * > userKey when the bound is exclusive).
 */
export function compareLargestToUserKey(largest: Uint8Array, userKey: Uint8Array): number {
  if (!isExclusiveBound(largest)) return compareUserPart(largest, userKey, userKey.length);
  if (largest.length === TRAILER_SIZE) return 1;
  const c = compareUserPart(largest, userKey, userKey.length);
  return c === 0 ? -1 : c;
}

/** Compares one file's upper bound with another's smallest key: < 0 exactly when the first ends before the second starts. */
export function compareLargestToSmallest(largest: Uint8Array, smallest: Uint8Array): number {
  return compareLargestToUserKey(largest, smallest.subarray(0, smallest.length - TRAILER_SIZE));
}

/** The user key of an upper bound, as an inclusive bound (conservative for a sentinel); undefined when unbounded. */
export function upperUserKey(largest: Uint8Array): Uint8Array | undefined {
  if (isUnbounded(largest)) return undefined;
  return largest.subarray(0, largest.length - TRAILER_SIZE);
}

/** Whether the internal keys satisfy smallest <= largest, a sentinel largest counted as exclusive. */
export function boundsOrdered(smallest: Uint8Array, largest: Uint8Array): boolean {
  if (isExclusiveBound(largest)) return compareLargestToSmallest(largest, smallest) >= 0;
  return compareInternalKeys(smallest, largest) <= 0;
}

/** The smallest internal key of a table: its first point key or a tombstone start#seq. */
export function smallestOf(pointsSmallest: Uint8Array | undefined, tombstones: readonly RangeTombstone[]): Uint8Array {
  let best = pointsSmallest;
  for (const t of tombstones) {
    const key = makeInternalKey(t.start, t.seq, Kind.RangeDeletion);
    if (best === undefined || compareInternalKeys(key, best) < 0) best = key;
  }
  return best!;
}

/** The largest key of a table: its last point key, or the sentinel of the tombstone end reaching past it. */
export function largestOf(pointsLargest: Uint8Array | undefined, tombstones: readonly RangeTombstone[]): Uint8Array {
  if (tombstones.length === 0) return pointsLargest!;
  let end = tombstones[0]!.end;
  for (const t of tombstones) if (compareEnds(t.end, end) > 0) end = t.end;
  if (pointsLargest !== undefined && end !== undefined) {
    // A point at the end key itself reaches further than the exclusive end.
    if (compareBytes(pointsLargest.subarray(0, pointsLargest.length - TRAILER_SIZE), end) >= 0) return pointsLargest;
  }
  return exclusiveBound(end);
}
