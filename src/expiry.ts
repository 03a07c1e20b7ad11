// Values with expiry (Kind.ValueWithExpiry): the stored value is an 8-byte
// little-endian expiry in milliseconds since the epoch, as two u32 halves
// (low first, no BigInt), then the user's value (docs/FORMAT.md, "Values
// with expiry"). A value is expired when its expiry <= the clock's now.
import { CorruptionError, InvalidArgumentError } from './errors.js';
import type { Clock } from './clock.js';
import { writeU32PairLE } from './keys.js';

export const EXPIRY_SIZE = 8;

/** Largest expiry accepted: expiries are exact JavaScript integers. */
export const MAX_EXPIRY = Number.MAX_SAFE_INTEGER;

const TWO_32 = 0x100000000;

/** Writes `expiresAt` (an integer in [0, MAX_EXPIRY]) at `offset` of `out`. */
export function writeExpiry(out: Uint8Array, offset: number, expiresAt: number): void {
  writeU32PairLE(out, offset, expiresAt % TWO_32, Math.floor(expiresAt / TWO_32));
}

/** The expiry at the front of a stored value of kind ValueWithExpiry; a value too short to hold one is corrupt. */
export function readExpiry(stored: Uint8Array): number {
  if (stored.length < EXPIRY_SIZE) {
    throw new CorruptionError(`value with expiry of ${stored.length} bytes is shorter than its ${EXPIRY_SIZE}-byte expiry`);
  }
  const lo = (stored[0]! | (stored[1]! << 8) | (stored[2]! << 16) | (stored[3]! << 24)) >>> 0;
  const hi = (stored[4]! | (stored[5]! << 8) | (stored[6]! << 16) | (stored[7]! << 24)) >>> 0;
  // Above 2^53 - 1 the sum is inexact, but such an expiry is never reached either way.
  return hi * TWO_32 + lo;
}

export function isExpired(expiresAt: number, now: number): boolean {
  return expiresAt <= now;
}

/** The clock's reading, checked: a clock that returns garbage would silently expire (or keep) everything. */
export function readClock(clock: Clock): number {
  const now = clock.now();
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) throw new InvalidArgumentError(`clock.now() must return a non-negative finite number, got ${String(now)}`);
  return now;
}

/**
 * The expiry a write asks for: `ttl` milliseconds from now (a positive
 * integer) or an absolute `expiresAt` (an integer, ms since the epoch; one in
 * the past writes a value that is already expired). Neither: undefined.
 */
export function expiryOf(ttl: unknown, expiresAt: unknown, clock: Clock): number | undefined {
  if (ttl !== undefined && expiresAt !== undefined) throw new InvalidArgumentError('give ttl or expiresAt, not both');
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1) throw new InvalidArgumentError(`ttl must be a positive integer of milliseconds, got ${String(ttl)}`);
    return checkExpiry(Math.floor(readClock(clock)) + ttl);
  }
  if (expiresAt !== undefined) {
    if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
      throw new InvalidArgumentError(`expiresAt must be a non-negative integer of milliseconds since the epoch, got ${String(expiresAt)}`);
    }
    return expiresAt;
  }
  return undefined;
}

function checkExpiry(expiresAt: number): number {
  if (expiresAt > MAX_EXPIRY) throw new InvalidArgumentError(`expiry ${expiresAt} is beyond 2^53 - 1 ms`);
  return expiresAt;
}
