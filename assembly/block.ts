// Data blocks: sorted internal keys with their values, prefix-compressed
// LevelDB-style, plus a restart array for binary search (docs/FORMAT.md,
// "Data block"):
//
//   entry*    varint32 shared | varint32 unshared | varint32 valueLength |
//             unshared key bytes | value bytes
//   restart*  u32 LE offset of each restart entry (first 0, strictly increasing)
//   count     u32 LE number of restarts (>= 1)
//
// Every restartInterval-th entry is a restart point and stores its whole key
// (shared = 0). An empty block is one restart (offset 0) and count 1: 8 bytes.
// Keys are internal keys (assembly/keys.ts): >= 8 bytes, strictly increasing.
//
// Three parts: a builder, a cursor over an encoded block, and decodeAll,
// which expands a block into an offset table that can be binary-searched
// without decoding again. Readers treat the block as untrusted: every
// decode step is bounds-checked and failures come back as negative codes.

import { TRAILER_SIZE, compareBytes, compareInternal } from './keys';
import { allocOrAbort as alloc, free, reallocOrAbort as realloc } from './memory';
import { MAX_VARINT32_SIZE, getVarint32, putVarint32 } from './varint';

// Result codes; mirrored in src/wasm/block.ts.
const E_OUT_OF_ORDER: i32 = -1; // builder: key not above the previous key
const E_KEY_TOO_SHORT: i32 = -2; // a key or seek target shorter than the trailer
const E_FINISHED: i32 = -3; // builder: add after finish without reset
const E_TOO_LARGE: i32 = -4; // block or decoded keys would pass MAX_BLOCK
const E_BAD_RESTARTS: i32 = -10; // restart array or count malformed
const E_BAD_ENTRY: i32 = -11; // entry header or lengths run past the entries
const E_BAD_KEY: i32 = -12; // shared > previous key, key < 8 bytes, restart with shared != 0
const E_BAD_ORDER: i32 = -13; // decodeAll: keys not strictly increasing
const E_TOO_SMALL: i32 = -20; // decodeAll: output table or key buffer too small

/** Largest block (and decoded key area) handled; keeps offsets positive i32s. */
const MAX_BLOCK: u64 = 0x7fff0000;

// ---------------------------------------------------------------------------
// Entry headers

// The three lengths of the header decoded last by decodeHeader.
let hShared: u32 = 0;
let hUnshared: u32 = 0;
let hValueLength: u32 = 0;

/**
 * Decodes the header at `p` (entries end at `end`) into hShared, hUnshared and
 * hValueLength; returns the position of the unshared key bytes, or 0 when the
 * header runs past `end` or a varint overflows.
 */
function decodeHeader(p: usize, end: usize): usize {
  if (p + 3 <= end) {
    const a = <u32>load<u8>(p);
    const b = <u32>load<u8>(p, 1);
    const c = <u32>load<u8>(p, 2);
    if ((a | b | c) < 0x80) {
      hShared = a;
      hUnshared = b;
      hValueLength = c;
      return p + 3;
    }
  }
  let r = getVarint32(p, end);
  if (r == 0) return 0;
  hShared = <u32>(r >>> 32);
  p += <usize>(r & 0xff);
  r = getVarint32(p, end);
  if (r == 0) return 0;
  hUnshared = <u32>(r >>> 32);
  p += <usize>(r & 0xff);
  r = getVarint32(p, end);
  if (r == 0) return 0;
  hValueLength = <u32>(r >>> 32);
  return p + <usize>(r & 0xff);
}

/**
 * Checks the header just decoded for an entry whose key bytes start at `q`,
 * after a previous key of `prevLength` bytes: 0 or an error code.
 */
function checkEntry(q: usize, end: usize, prevLength: u32): i32 {
  if (hShared > prevLength) return E_BAD_KEY;
  const avail = <u32>(end - q);
  if (hUnshared > avail || hValueLength > avail - hUnshared) return E_BAD_ENTRY;
  if (hShared + hUnshared < TRAILER_SIZE) return E_BAD_KEY;
  return 0;
}

/**
 * Validates the restart array of the `len`-byte block at `block`: count >= 1,
 * the array fits, offsets start at 0, increase strictly and stay inside the
 * entries. Returns the restart count or E_BAD_RESTARTS.
 */
function checkRestarts(block: usize, len: u32): i32 {
  if (len < 8) return E_BAD_RESTARTS;
  const count = load<u32>(block + <usize>len - 4);
  if (count == 0 || count > (len - 4) >>> 2) return E_BAD_RESTARTS;
  const dataEnd = len - 4 - (count << 2);
  const restarts = block + <usize>dataEnd;
  if (load<u32>(restarts) != 0) return E_BAD_RESTARTS;
  let prev: u32 = 0;
  for (let i: u32 = 1; i < count; i++) {
    const off = load<u32>(restarts + (<usize>i << 2));
    if (off <= prev || off >= dataEnd) return E_BAD_RESTARTS;
    prev = off;
  }
  return <i32>count;
}

/**
 * Copies n bytes between non-overlapping ranges. Keys' unshared parts are
 * short, and V8's memory.copy costs a call into the runtime.
 */
@inline
export function copyBytes(dst: usize, src: usize, n: u32): void {
  if (n > 64) {
    memory.copy(dst, src, n);
    return;
  }
  let i: u32 = 0;
  while (i + 8 <= n) {
    store<u64>(dst + i, load<u64>(src + i));
    i += 8;
  }
  while (i < n) {
    store<u8>(dst + i, load<u8>(src + i));
    i++;
  }
}

@inline
function restartAt(block: usize, dataEnd: u32, i: u32): u32 {
  return load<u32>(block + <usize>dataEnd + (<usize>i << 2));
}

// ---------------------------------------------------------------------------
// Builder
//
// State at the handle (64 bytes, u32 fields):
//   0 buffer        pointer to the block bytes
//   4 bufferCap     bytes allocated at buffer
//   8 length        bytes of entries so far; the whole block once finished
//  12 restarts      pointer to the u32 restart offsets collected so far
//  16 restartsCap   capacity of restarts, in offsets
//  20 restartCount  offsets in restarts (>= 1: offset 0 is recorded at reset)
//  24 counter       entries since the last restart point
//  28 interval      restart interval (>= 1)
//  32 lastKey       pointer to a copy of the last key added
//  36 lastKeyCap    bytes allocated at lastKey
//  40 lastKeyLength length of the last key (0 before the first add)
//  44 entryCount    entries added since reset
//  48 finished      1 after finish until reset

const B_BUFFER: usize = 0;
const B_BUFFER_CAP: usize = 4;
const B_LENGTH: usize = 8;
const B_RESTARTS: usize = 12;
const B_RESTARTS_CAP: usize = 16;
const B_RESTART_COUNT: usize = 20;
const B_COUNTER: usize = 24;
const B_INTERVAL: usize = 28;
const B_LAST_KEY: usize = 32;
const B_LAST_KEY_CAP: usize = 36;
const B_LAST_KEY_LENGTH: usize = 40;
const B_ENTRY_COUNT: usize = 44;
const B_FINISHED: usize = 48;
const BUILDER_SIZE: u32 = 64;

/** Grows the allocation whose pointer and capacity live at h+ptrField, h+capField, to >= need bytes. */
function ensureCapacity(h: usize, ptrField: usize, capField: usize, need: u32): void {
  let cap = load<u32>(h + capField);
  if (need <= cap) return;
  while (cap < need) cap = cap < 0x40000000 ? cap << 1 : need;
  store<u32>(h + ptrField, <u32>realloc(<usize>load<u32>(h + ptrField), cap));
  store<u32>(h + capField, cap);
}

/** Length of the common prefix of two byte strings. */
function commonPrefix(a: usize, aLen: u32, b: usize, bLen: u32): u32 {
  const n = aLen < bLen ? aLen : bLen;
  let i: u32 = 0;
  while (i + 8 <= n) {
    const x = load<u64>(a + i) ^ load<u64>(b + i);
    if (x != 0) return i + (<u32>ctz(x) >>> 3);
    i += 8;
  }
  while (i < n && load<u8>(a + i) == load<u8>(b + i)) i++;
  return i;
}

/** A new builder cutting a restart point every `interval` entries; 0 if interval is 0. */
export function blockBuilderCreate(interval: u32): usize {
  if (interval == 0) return 0;
  const h = alloc(BUILDER_SIZE);
  memory.fill(h, 0, BUILDER_SIZE);
  store<u32>(h + B_BUFFER, <u32>alloc(256));
  store<u32>(h + B_BUFFER_CAP, 256);
  store<u32>(h + B_RESTARTS, <u32>alloc(64));
  store<u32>(h + B_RESTARTS_CAP, 16);
  store<u32>(h + B_LAST_KEY, <u32>alloc(64));
  store<u32>(h + B_LAST_KEY_CAP, 64);
  store<u32>(h + B_INTERVAL, interval);
  blockBuilderReset(h);
  return h;
}

/** Empties the builder, keeping its buffers. */
export function blockBuilderReset(h: usize): void {
  store<u32>(h + B_LENGTH, 0);
  store<u32>(<usize>load<u32>(h + B_RESTARTS), 0);
  store<u32>(h + B_RESTART_COUNT, 1);
  store<u32>(h + B_COUNTER, 0);
  store<u32>(h + B_LAST_KEY_LENGTH, 0);
  store<u32>(h + B_ENTRY_COUNT, 0);
  store<u32>(h + B_FINISHED, 0);
}

export function blockBuilderDestroy(h: usize): void {
  if (h == 0) return;
  free(<usize>load<u32>(h + B_BUFFER));
  free(<usize>load<u32>(h + B_RESTARTS));
  free(<usize>load<u32>(h + B_LAST_KEY));
  free(h);
}

/**
 * Appends one entry; the key must sort strictly after the previous one. On
 * an error code the builder is unchanged. Key and value must not point into
 * the builder's own buffers.
 */
export function blockBuilderAdd(h: usize, key: usize, keyLength: u32, value: usize, valueLength: u32): i32 {
  if (load<u32>(h + B_FINISHED) != 0) return E_FINISHED;
  if (keyLength < TRAILER_SIZE) return E_KEY_TOO_SHORT;
  const lastKeyLength = load<u32>(h + B_LAST_KEY_LENGTH);
  if (lastKeyLength != 0 && compareInternal(<usize>load<u32>(h + B_LAST_KEY), lastKeyLength, key, keyLength) >= 0) {
    return E_OUT_OF_ORDER;
  }
  const length = load<u32>(h + B_LENGTH);
  const restartCount = load<u32>(h + B_RESTART_COUNT);
  const restart = load<u32>(h + B_COUNTER) >= load<u32>(h + B_INTERVAL);
  const shared = restart ? 0 : commonPrefix(<usize>load<u32>(h + B_LAST_KEY), lastKeyLength, key, keyLength);
  const unshared = keyLength - shared;
  const maxEntry = <u64>(3 * MAX_VARINT32_SIZE) + <u64>unshared + <u64>valueLength;
  // The finished block must fit too: restarts (one more if cut here) and count.
  if (<u64>length + maxEntry + ((<u64>restartCount + 2) << 2) > MAX_BLOCK) return E_TOO_LARGE;

  ensureCapacity(h, B_BUFFER, B_BUFFER_CAP, length + <u32>maxEntry);
  ensureCapacity(h, B_LAST_KEY, B_LAST_KEY_CAP, keyLength);
  if (restart) {
    if (restartCount >= load<u32>(h + B_RESTARTS_CAP)) growRestarts(h, restartCount + 1);
    store<u32>(<usize>load<u32>(h + B_RESTARTS) + (<usize>restartCount << 2), length);
    store<u32>(h + B_RESTART_COUNT, restartCount + 1);
    store<u32>(h + B_COUNTER, 0);
  }

  const buffer = <usize>load<u32>(h + B_BUFFER);
  let p = buffer + <usize>length;
  p = putVarint32(p, shared);
  p = putVarint32(p, unshared);
  p = putVarint32(p, valueLength);
  memory.copy(p, key + <usize>shared, unshared);
  p += <usize>unshared;
  memory.copy(p, value, valueLength);
  p += <usize>valueLength;
  store<u32>(h + B_LENGTH, <u32>(p - buffer));

  memory.copy(<usize>load<u32>(h + B_LAST_KEY) + <usize>shared, key + <usize>shared, unshared);
  store<u32>(h + B_LAST_KEY_LENGTH, keyLength);
  store<u32>(h + B_COUNTER, load<u32>(h + B_COUNTER) + 1);
  store<u32>(h + B_ENTRY_COUNT, load<u32>(h + B_ENTRY_COUNT) + 1);
  return 0;
}

/** Grows the restart offsets array to hold at least `need` offsets. */
function growRestarts(h: usize, need: u32): void {
  let cap = load<u32>(h + B_RESTARTS_CAP);
  while (cap < need) cap <<= 1;
  store<u32>(h + B_RESTARTS, <u32>realloc(<usize>load<u32>(h + B_RESTARTS), cap << 2));
  store<u32>(h + B_RESTARTS_CAP, cap);
}

/**
 * Adds `count` entries described at `table` by 16-byte rows of u32s
 * [keyPtr, keyLength, valuePtr, valueLength]. Returns 0, or the first error
 * code; the entries before the failing one stay added (see entryCount).
 */
export function blockBuilderAddBatch(h: usize, table: usize, count: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    const row = table + (<usize>i << 4);
    const rc = blockBuilderAdd(
      h,
      <usize>load<u32>(row),
      load<u32>(row, 4),
      <usize>load<u32>(row, 8),
      load<u32>(row, 12),
    );
    if (rc != 0) return rc;
  }
  return 0;
}

/** Size the block would have if finished now. */
export function blockBuilderEstimatedSize(h: usize): u32 {
  if (load<u32>(h + B_FINISHED) != 0) return load<u32>(h + B_LENGTH);
  return load<u32>(h + B_LENGTH) + (load<u32>(h + B_RESTART_COUNT) << 2) + 4;
}

/**
 * Appends the restart array and count; returns the block's length. The
 * bytes are at the buffer field (offset 0) until the next reset or destroy.
 * Finishing twice returns the same block.
 */
export function blockBuilderFinish(h: usize): i32 {
  if (load<u32>(h + B_FINISHED) != 0) return <i32>load<u32>(h + B_LENGTH);
  const length = load<u32>(h + B_LENGTH);
  const restartCount = load<u32>(h + B_RESTART_COUNT);
  const total = length + (restartCount << 2) + 4;
  ensureCapacity(h, B_BUFFER, B_BUFFER_CAP, total);
  const buffer = <usize>load<u32>(h + B_BUFFER);
  memory.copy(buffer + <usize>length, <usize>load<u32>(h + B_RESTARTS), <usize>restartCount << 2);
  store<u32>(buffer + <usize>total - 4, restartCount);
  store<u32>(h + B_LENGTH, total);
  store<u32>(h + B_FINISHED, 1);
  return <i32>total;
}

// ---------------------------------------------------------------------------
// Cursor
//
// State at the handle (64 bytes; the host reads the first 20 through a view):
//   0 key           u32 pointer to the cursor's copy of the current key
//   4 keyLength     u32
//   8 value         u32 pointer to the current value, inside the block
//  12 valueLength   u32
//  16 status        i32: 1 positioned, 0 not positioned, < 0 error code (sticky until init)
//  20 block         u32 pointer to the block
//  24 dataEnd       u32 offset of the restart array (bytes of entries)
//  28 restartCount  u32
//  32 restartIndex  u32 last restart point at or before the current entry
//  36 current       u32 offset of the current entry
//  40 next          u32 offset just past the current entry
//  44 keyCap        u32 bytes allocated at key
// Seek, next and prev allocate only when a key is longer than any the
// cursor has held (a key never exceeds the block's entry bytes).

const C_KEY: usize = 0;
const C_KEY_LENGTH: usize = 4;
const C_VALUE: usize = 8;
const C_VALUE_LENGTH: usize = 12;
const C_STATUS: usize = 16;
const C_BLOCK: usize = 20;
const C_DATA_END: usize = 24;
const C_RESTART_COUNT: usize = 28;
const C_RESTART_INDEX: usize = 32;
const C_CURRENT: usize = 36;
const C_NEXT: usize = 40;
const C_KEY_CAP: usize = 44;
const CURSOR_SIZE: u32 = 64;

/** A new cursor, not positioned and over no block. */
export function blockCursorCreate(): usize {
  const c = alloc(CURSOR_SIZE);
  memory.fill(c, 0, CURSOR_SIZE);
  store<u32>(c + C_KEY, <u32>alloc(64));
  store<u32>(c + C_KEY_CAP, 64);
  return c;
}

/** The positioned cursor's key: its address (in the cursor's own buffer) and length. */
@inline
export function cursorKey(c: usize): usize {
  return <usize>load<u32>(c + C_KEY);
}

@inline
export function cursorKeyLength(c: usize): u32 {
  return load<u32>(c + C_KEY_LENGTH);
}

/** The positioned cursor's value: its address (inside the block) and length. */
@inline
export function cursorValue(c: usize): usize {
  return <usize>load<u32>(c + C_VALUE);
}

@inline
export function cursorValueLength(c: usize): u32 {
  return load<u32>(c + C_VALUE_LENGTH);
}

/** Whether the cursor is on an entry (not past the end, not failed). */
@inline
export function cursorPositioned(c: usize): bool {
  return load<i32>(c + C_STATUS) == 1;
}

export function blockCursorDestroy(c: usize): void {
  if (c == 0) return;
  free(<usize>load<u32>(c + C_KEY));
  free(c);
}

@inline
function setStatus(c: usize, status: i32): i32 {
  store<i32>(c + C_STATUS, status);
  return status;
}

/** Points the cursor at a block (not positioned). Returns 0 or E_BAD_RESTARTS. */
export function blockCursorInit(c: usize, block: usize, len: u32): i32 {
  const count = checkRestarts(block, len);
  if (count > 0) {
    attach(c, block, len, <u32>count);
    return setStatus(c, 0);
  }
  attach(c, 0, 0, 0);
  return setStatus(c, count);
}

/**
 * The restart count of the block if its restart array is well formed (see
 * checkRestarts), else E_BAD_RESTARTS. A block that passed, unchanged since,
 * may be given to blockCursorAttach.
 */
export function blockCheckRestarts(block: usize, len: u32): i32 {
  return checkRestarts(block, len);
}

/**
 * blockCursorInit without the restart check, for a block a cache holds
 * after blockCheckRestarts accepted it: cursors over cached blocks are set
 * up on every point read. Precondition: that check passed on these bytes.
 */
export function blockCursorAttach(c: usize, block: usize, len: u32): void {
  attach(c, block, len, load<u32>(block + <usize>len - 4));
  setStatus(c, 0);
}

/** Points the cursor at a block with `count` restarts (or at none, all zero), not positioned. */
@inline
function attach(c: usize, block: usize, len: u32, count: u32): void {
  store<u32>(c + C_BLOCK, <u32>block);
  store<u32>(c + C_DATA_END, count > 0 ? len - 4 - (count << 2) : 0);
  store<u32>(c + C_RESTART_COUNT, count);
  store<u32>(c + C_RESTART_INDEX, 0);
  store<u32>(c + C_CURRENT, 0);
  store<u32>(c + C_NEXT, 0);
  store<u32>(c + C_KEY_LENGTH, 0);
  store<u32>(c + C_VALUE, 0);
  store<u32>(c + C_VALUE_LENGTH, 0);
}

/** Prepares to decode from restart point `i`: the next entry has no previous key. */
@inline
function toRestart(c: usize, i: u32): void {
  store<u32>(c + C_RESTART_INDEX, i);
  store<u32>(c + C_NEXT, restartAt(<usize>load<u32>(c + C_BLOCK), load<u32>(c + C_DATA_END), i));
  store<u32>(c + C_KEY_LENGTH, 0);
}

/** Decodes the entry at `next` into the cursor: 1, 0 past the last entry, or an error. */
function step(c: usize): i32 {
  const block = <usize>load<u32>(c + C_BLOCK);
  const dataEnd = load<u32>(c + C_DATA_END);
  const p = load<u32>(c + C_NEXT);
  if (p >= dataEnd) {
    store<u32>(c + C_CURRENT, dataEnd);
    return setStatus(c, 0);
  }
  const end = block + <usize>dataEnd;
  const q = decodeHeader(block + <usize>p, end);
  if (q == 0) return setStatus(c, E_BAD_ENTRY);
  const rc = checkEntry(q, end, load<u32>(c + C_KEY_LENGTH));
  if (rc != 0) return setStatus(c, rc);
  const shared = hShared;
  const unshared = hUnshared;
  const keyLength = shared + unshared;
  const key = keyLength > load<u32>(c + C_KEY_CAP) ? growKey(c, keyLength) : <usize>load<u32>(c + C_KEY);
  copyBytes(key + <usize>shared, q, unshared);
  const value = q + <usize>unshared;
  store<u32>(c + C_KEY_LENGTH, keyLength);
  store<u32>(c + C_VALUE, <u32>value);
  store<u32>(c + C_VALUE_LENGTH, hValueLength);
  store<u32>(c + C_CURRENT, p);
  store<u32>(c + C_NEXT, <u32>(value + <usize>hValueLength - block));
  let ri = load<u32>(c + C_RESTART_INDEX);
  const count = load<u32>(c + C_RESTART_COUNT);
  while (ri + 1 < count && restartAt(block, dataEnd, ri + 1) <= p) ri++;
  store<u32>(c + C_RESTART_INDEX, ri);
  return setStatus(c, 1);
}

/**
 * Positions at the first entry >= target: 1, 0 if every entry is smaller,
 * E_KEY_TOO_SHORT for a target under 8 bytes (cursor unchanged), or a
 * corruption code.
 */
export function blockCursorSeek(c: usize, target: usize, targetLength: u32): i32 {
  const status = load<i32>(c + C_STATUS);
  if (status < 0) return status;
  if (targetLength < TRAILER_SIZE) return E_KEY_TOO_SHORT;
  const dataEnd = load<u32>(c + C_DATA_END);
  if (dataEnd == 0) return setStatus(c, 0);
  const block = <usize>load<u32>(c + C_BLOCK);
  const end = block + <usize>dataEnd;
  // Last restart point whose key is < target (or restart 0).
  let lo: u32 = 0;
  let hi: u32 = load<u32>(c + C_RESTART_COUNT) - 1;
  while (lo < hi) {
    const mid = hi - ((hi - lo) >>> 1);
    const q = decodeHeader(block + <usize>restartAt(block, dataEnd, mid), end);
    if (q == 0) return setStatus(c, E_BAD_ENTRY);
    const rc = checkEntry(q, end, 0);
    if (rc != 0) return setStatus(c, rc);
    if (compareInternal(q, hUnshared, target, targetLength) < 0) lo = mid;
    else hi = mid - 1;
  }
  pullScanAhead(block, dataEnd, lo, load<u32>(c + C_RESTART_COUNT));
  return scanTo(c, lo, target, targetLength);
}

/** Bytes past a seek's restart point that pullScanAhead reads ahead of the scan. */
const SCAN_AHEAD_BYTES: u32 = 512;

/** Sum of the bytes pullScanAhead read; kept so the reads stay in the code. */
let scanAheadSum: u32 = 0;

/**
 * Reads one byte of each cache line in the first SCAN_AHEAD_BYTES of the
 * restart interval `ri` before scanTo walks it. The scan is a chain: each
 * entry's place comes from the one before, so its cache misses come one
 * after another; these loads depend on nothing and are in flight together.
 * WebAssembly has no prefetch instruction, so plain loads stand in for one.
 * Point reads over a million keys, in process: 7-10% faster (512 bytes;
 * 256 to 1024 gave about the same, the whole interval, 2 KiB at 16 entries
 * of 128 bytes, cost about as much as it saved).
 */
@inline
function pullScanAhead(block: usize, dataEnd: u32, ri: u32, count: u32): void {
  const start = restartAt(block, dataEnd, ri);
  const intervalEnd = ri + 1 < count ? restartAt(block, dataEnd, ri + 1) : dataEnd;
  const end = intervalEnd < start + SCAN_AHEAD_BYTES ? intervalEnd : start + SCAN_AHEAD_BYTES;
  let sum: u32 = 0;
  // One load per 64 bytes: every line of the range but perhaps the last.
  for (let p = start; p < end; p += 64) sum += <u32>load<u8>(block + <usize>p);
  scanAheadSum += sum;
}

/**
 * Decodes forward from restart point `ri` to the first entry >= target. The
 * seek's hot loop: like repeated step() calls, but the cursor's fields stay
 * in locals until it stops.
 */
function scanTo(c: usize, ri: u32, target: usize, targetLength: u32): i32 {
  const block = <usize>load<u32>(c + C_BLOCK);
  const dataEnd = load<u32>(c + C_DATA_END);
  const end = block + <usize>dataEnd;
  let key = <usize>load<u32>(c + C_KEY);
  let keyLength: u32 = 0;
  let p = restartAt(block, dataEnd, ri);
  while (p < dataEnd) {
    const q = decodeHeader(block + <usize>p, end);
    if (q == 0) return setStatus(c, E_BAD_ENTRY);
    const rc = checkEntry(q, end, keyLength);
    if (rc != 0) return setStatus(c, rc);
    keyLength = hShared + hUnshared;
    if (keyLength > load<u32>(c + C_KEY_CAP)) key = growKey(c, keyLength);
    copyBytes(key + <usize>hShared, q, hUnshared);
    const value = q + <usize>hUnshared;
    const next = <u32>(value - block) + hValueLength;
    if (compareInternal(key, keyLength, target, targetLength) >= 0) {
      store<u32>(c + C_KEY_LENGTH, keyLength);
      store<u32>(c + C_VALUE, <u32>value);
      store<u32>(c + C_VALUE_LENGTH, hValueLength);
      store<u32>(c + C_CURRENT, p);
      store<u32>(c + C_NEXT, next);
      const count = load<u32>(c + C_RESTART_COUNT);
      while (ri + 1 < count && restartAt(block, dataEnd, ri + 1) <= p) ri++;
      store<u32>(c + C_RESTART_INDEX, ri);
      return setStatus(c, 1);
    }
    p = next;
  }
  store<u32>(c + C_CURRENT, dataEnd);
  store<u32>(c + C_NEXT, dataEnd);
  return setStatus(c, 0);
}

/** Grows the cursor's key buffer to `size` bytes, keeping its contents; returns the new pointer. */
function growKey(c: usize, size: u32): usize {
  const key = realloc(<usize>load<u32>(c + C_KEY), size);
  store<u32>(c + C_KEY, <u32>key);
  store<u32>(c + C_KEY_CAP, size);
  return key;
}

export function blockCursorSeekFirst(c: usize): i32 {
  const status = load<i32>(c + C_STATUS);
  if (status < 0) return status;
  if (load<u32>(c + C_DATA_END) == 0) return setStatus(c, 0);
  toRestart(c, 0);
  return step(c);
}

export function blockCursorSeekLast(c: usize): i32 {
  const status = load<i32>(c + C_STATUS);
  if (status < 0) return status;
  const dataEnd = load<u32>(c + C_DATA_END);
  if (dataEnd == 0) return setStatus(c, 0);
  toRestart(c, load<u32>(c + C_RESTART_COUNT) - 1);
  while (true) {
    const rc = step(c);
    if (rc != 1) return rc;
    if (load<u32>(c + C_NEXT) >= dataEnd) return 1;
  }
}

/** Moves to the next entry: 1, 0 past the last, or an error. A cursor not positioned stays so. */
export function blockCursorNext(c: usize): i32 {
  const status = load<i32>(c + C_STATUS);
  if (status != 1) return status;
  return step(c);
}

/**
 * Moves to the previous entry by decoding forward from the last restart
 * point before the current entry: 1, 0 before the first, or an error.
 */
export function blockCursorPrev(c: usize): i32 {
  const status = load<i32>(c + C_STATUS);
  if (status != 1) return status;
  const original = load<u32>(c + C_CURRENT);
  if (original == 0) return setStatus(c, 0);
  const block = <usize>load<u32>(c + C_BLOCK);
  const dataEnd = load<u32>(c + C_DATA_END);
  let ri = load<u32>(c + C_RESTART_INDEX);
  // Terminates: restart 0 is offset 0 < original.
  while (restartAt(block, dataEnd, ri) >= original) ri--;
  toRestart(c, ri);
  while (true) {
    const rc = step(c);
    if (rc != 1) return rc;
    const next = load<u32>(c + C_NEXT);
    if (next == original) return 1;
    // Entries decoded from the restart point skip over the one we came from.
    if (next > original) return setStatus(c, E_BAD_ENTRY);
  }
}

// ---------------------------------------------------------------------------
// Whole-block decoding
//
// decodeAll writes one 16-byte row of u32s per entry to the table:
//   [keyOffset, keyLength, valueOffset, valueLength]
// keyOffset is relative to the key buffer (full keys, back to back, in entry
// order); valueOffset is relative to the block. It checks more than the
// cursor: restart points must fall on entries with shared = 0, and keys
// must increase strictly, so binary search over the table is sound.

const ROW_SIZE: u32 = 16;

// Total key bytes counted by the last successful decode.
let decodedKeyBytes: u64 = 0;

/** Decodes into table/keys, or only counts when table is 0. Returns the entry count or an error. */
function decode(block: usize, len: u32, table: usize, tableCap: u32, keys: usize, keysCap: u32): i32 {
  const restartCount = checkRestarts(block, len);
  if (restartCount < 0) return restartCount;
  const count = <u32>restartCount;
  const dataEnd = len - 4 - (count << 2);
  const end = block + <usize>dataEnd;
  const counting = table == 0;
  let p: u32 = 0;
  let n: u32 = 0;
  let used: u64 = 0;
  let nextRestart: u32 = 0;
  let prevKey: usize = 0;
  let prevLength: u32 = 0;
  while (p < dataEnd) {
    const q = decodeHeader(block + <usize>p, end);
    if (q == 0) return E_BAD_ENTRY;
    const rc = checkEntry(q, end, prevLength);
    if (rc != 0) return rc;
    if (nextRestart < count) {
      const r = restartAt(block, dataEnd, nextRestart);
      if (p == r) {
        if (hShared != 0) return E_BAD_KEY;
        nextRestart++;
      } else if (p > r) {
        return E_BAD_RESTARTS;
      }
    }
    const keyLength = hShared + hUnshared;
    if (used + <u64>keyLength > MAX_BLOCK) return E_TOO_LARGE;
    if (!counting) {
      if (n >= tableCap || used + <u64>keyLength > <u64>keysCap) return E_TOO_SMALL;
      const key = keys + <usize>used;
      copyBytes(key, prevKey, hShared);
      copyBytes(key + <usize>hShared, q, hUnshared);
      if (n > 0 && compareInternal(prevKey, prevLength, key, keyLength) >= 0) return E_BAD_ORDER;
      const row = table + <usize>(n * ROW_SIZE);
      store<u32>(row, <u32>used);
      store<u32>(row, keyLength, 4);
      store<u32>(row, <u32>(q - block) + hUnshared, 8);
      store<u32>(row, hValueLength, 12);
      prevKey = key;
    }
    prevLength = keyLength;
    used += <u64>keyLength;
    n++;
    p = <u32>(q - block) + hUnshared + hValueLength;
  }
  if (dataEnd > 0 && nextRestart != count) return E_BAD_RESTARTS;
  decodedKeyBytes = used;
  return <i32>n;
}

/**
 * Measures a block for decodeAll: writes [entryCount, keyBytes] as u32s at
 * `out` and returns the entry count, or an error code. Checks bounds and
 * restarts but not key order (decodeAll does).
 */
export function blockDecodedSize(block: usize, len: u32, out: usize): i32 {
  const n = decode(block, len, 0, 0, 0, 0);
  if (n < 0) return n;
  store<u32>(out, <u32>n);
  store<u32>(out, <u32>decodedKeyBytes, 4);
  return n;
}

/**
 * Decodes a whole block: rows into `table` (room for tableCap rows), full
 * keys into `keys` (keysCap bytes). Returns the entry count, E_TOO_SMALL if
 * either output is too small (see blockDecodedSize), or a corruption code.
 */
export function blockDecodeAll(block: usize, len: u32, table: usize, tableCap: u32, keys: usize, keysCap: u32): i32 {
  if (table == 0) return E_TOO_SMALL;
  return decode(block, len, table, tableCap, keys, keysCap);
}

// Prefixes: a search of a decoded block compares 8-byte integers before
// it compares keys. Every user key (the key without its trailer) of a
// block starts with the `shared` bytes its first and last user keys start
// with (the keys are sorted); a row's prefix is the 8 bytes of its user key
// after those, zero-padded past its end, read big-endian. A row whose
// prefix is below the target's has a smaller user key, so a smaller
// internal key; one above, a larger; only rows of equal prefix need their
// keys compared. The prefixes are 8 bytes a row, packed, where a row's key
// lies elsewhere: a search touches one cache line a step, not two.

/** The 8 bytes of the user key `key[0, userLen)` after its first `shared` bytes, zero-padded, big-endian (userLen >= shared). */
@inline
function prefixAfter(key: usize, userLen: u32, shared: u32): u64 {
  const rest = userLen - shared;
  if (rest >= 8) return bswap<u64>(load<u64>(key + <usize>shared));
  let p: u64 = 0;
  for (let i: u32 = 0; i < 8; i++) p = (p << 8) | (i < rest ? <u64>load<u8>(key + <usize>(shared + i)) : 0);
  return p;
}

/**
 * Fills `prefixes` (count u64s) for the decoded rows and returns `shared`,
 * the length of the prefix every user key of the block starts with.
 */
export function blockDecodedPrefixes(table: usize, keys: usize, count: u32, prefixes: usize): u32 {
  if (count == 0) return 0;
  const last = table + <usize>((count - 1) * ROW_SIZE);
  const shared = commonPrefix(keys + <usize>load<u32>(table), load<u32>(table, 4) - TRAILER_SIZE, keys + <usize>load<u32>(last), load<u32>(last, 4) - TRAILER_SIZE);
  for (let i: u32 = 0; i < count; i++) {
    const row = table + <usize>(i * ROW_SIZE);
    store<u64>(prefixes + (<usize>i << 3), prefixAfter(keys + <usize>load<u32>(row), load<u32>(row, 4) - TRAILER_SIZE, shared));
  }
  return shared;
}

/** Index of the first row whose key is >= target (count if none); `prefixes` and `shared` from blockDecodedPrefixes. */
@inline
export function lowerBound(table: usize, keys: usize, prefixes: usize, shared: u32, count: u32, target: usize, targetLength: u32): u32 {
  if (count == 0) return 0;
  const targetUserLen = targetLength - TRAILER_SIZE;
  // A target that leaves the shared bytes sorts before or after every key.
  const n = targetUserLen < shared ? targetUserLen : shared;
  const c = compareBytes(target, n, keys + <usize>load<u32>(table), n);
  if (c != 0) return c < 0 ? 0 : count;
  // A proper prefix of the shared bytes is shorter than every user key.
  if (targetUserLen < shared) return 0;
  const tp = prefixAfter(target, targetUserLen, shared);
  let lo: u32 = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<u64>(prefixes + (<usize>mid << 3)) < tp) lo = mid + 1;
    else hi = mid;
  }
  // Rows [lo, end) of prefix tp are decided by their keys. Most targets tie
  // with no row; the others with a few rows after lo. So the end is found by
  // galloping from lo, which reads rows near it, rather than by a search
  // over all the rows past it, which would read as many scattered ones as
  // the search above.
  if (lo == count || load<u64>(prefixes + (<usize>lo << 3)) != tp) return lo;
  let end = lo + 1;
  let step: u32 = 1;
  for (;;) {
    const probe = end + step - 1;
    if (probe >= count) {
      hi = count;
      break;
    }
    if (load<u64>(prefixes + (<usize>probe << 3)) > tp) {
      hi = probe;
      break;
    }
    end = probe + 1;
    step <<= 1;
  }
  while (end < hi) {
    const mid = (end + hi) >>> 1;
    if (load<u64>(prefixes + (<usize>mid << 3)) <= tp) end = mid + 1;
    else hi = mid;
  }
  while (lo < end) {
    const mid = (lo + end) >>> 1;
    const row = table + <usize>(mid * ROW_SIZE);
    if (compareInternal(keys + <usize>load<u32>(row), load<u32>(row, 4), target, targetLength) < 0) lo = mid + 1;
    else end = mid;
  }
  return lo;
}

/**
 * Seeks a decoded block (table and keys from decodeAll, count rows; its
 * prefixes and shared length from blockDecodedPrefixes): the index of the
 * first entry >= target, count if none, or E_KEY_TOO_SHORT.
 */
export function blockDecodedSeek(table: usize, keys: usize, prefixes: usize, shared: u32, count: u32, target: usize, targetLength: u32): i32 {
  if (targetLength < TRAILER_SIZE) return E_KEY_TOO_SHORT;
  return <i32>lowerBound(table, keys, prefixes, shared, count, target, targetLength);
}

/**
 * Seeks n targets, described at `targets` by 8-byte rows [ptr, length] of
 * u32s, writing one u32 index per target to `out`. Returns n, or
 * E_KEY_TOO_SHORT at the first target under 8 bytes (earlier ones written).
 */
export function blockDecodedSeekBatch(table: usize, keys: usize, prefixes: usize, shared: u32, count: u32, targets: usize, n: u32, out: usize): i32 {
  for (let i: u32 = 0; i < n; i++) {
    const row = targets + (<usize>i << 3);
    const targetLength = load<u32>(row, 4);
    if (targetLength < TRAILER_SIZE) return E_KEY_TOO_SHORT;
    store<u32>(out + (<usize>i << 2), lowerBound(table, keys, prefixes, shared, count, <usize>load<u32>(row), targetLength));
  }
  return <i32>n;
}
