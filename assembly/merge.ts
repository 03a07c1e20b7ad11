// The inner loop of a compaction: a forward merge of the inputs' block
// cursors that decides the common entries itself and copies the kept ones
// into a run (the memtable export format the table builder takes in
// batches: u32 LE key length, u32 LE value length, key, value). It hands
// control back to the host for everything that needs the host's state:
//
//   MERGE_CHILD     the top input's cursor left its block (or failed): the
//                   host moves that input on and calls mergeReload
//   MERGE_USER_KEY  the top entry starts a user key at which the host must
//                   look (see mergeRun's stop rules); mergeAcceptUserKey then
//   MERGE_HOST      the top entry is not a plain value or a deletion the merge can
//                   decide, or is too large for the run: the host decides it and
//                   calls mergeSkipTop
//   MERGE_RUN_FULL  the run cannot take the top entry: the host takes the run
//   MERGE_DONE      every input is exhausted
//
// A plain value (kind 1) or a deletion (kind 0) is dropped when a newer
// entry of its user key is at or below the smallest snapshot, or when it is
// older than the range deletion covering its key (the host's coveringSeq);
// a deletion at or below the smallest snapshot is dropped too when no
// deeper level holds a file, and otherwise goes to the host, which knows
// the deeper levels' key ranges; as do values with an expiry and kind 3.
// These are exactly the host's rules for those cases.
//
// State at the handle (MERGE_SIZE bytes; the host reads fields through a view):
//   0 count         u32 inputs
//   4 size          u32 inputs in the heap (positioned cursors)
//   8 heap          u32 pointer to u32 input indices, a min-heap by current key
//  12 cursors       u32 pointer to u32 cursor handles, one per input
//  16 userKey       u32 pointer to a copy of the current user key
//  20 userKeyCap    u32
//  24 userKeyLen    u32
//  28 hasUserKey    u32 0 until the first user key is accepted
//  32 run           u32 pointer to the run
//  36 runCap        u32
//  40 runLen        u32 bytes in the run (the host clears it after taking it)
//  44 top           u32 input at the top of the heap when a run call stopped
//  48 newerSeq      f64 sequence of the last entry seen of the current user key; +Infinity for none
//  56 coveringSeq   f64 newest range deletion covering the user key, at or below the smallest snapshot; -1 none
//  64 snapshot      f64 smallest snapshot
//  72 charged       f64 bound on what the run has added to an output since the host last took the run
//  80 entriesIn     f64 entries decided here
//  88 entriesOut    f64 of them, kept
//  96 shadowed      f64 of them, dropped as shadowed
// 104 noDeeper      u32 1 when no level below the output holds a file
// 112 tombstones    f64 of them, deletions dropped (only with noDeeper)
import { MAX_SEQUENCE, TRAILER_SIZE, compareBytes, compareInternal } from './keys';
import { RUN_HEADER } from './table-run';
import { blockCursorNext, copyBytes, cursorKey, cursorKeyLength, cursorPositioned, cursorValue, cursorValueLength } from './block';
import { allocOrAbort, free } from './memory';

const MERGE_DONE: i32 = 0;
const MERGE_CHILD: i32 = 1;
const MERGE_USER_KEY: i32 = 2;
const MERGE_HOST: i32 = 3;
const MERGE_RUN_FULL: i32 = 4;
/** An input key's sequence is above 2^53 - 1. */
const E_BAD_SEQUENCE: i32 = -30;

const KIND_DELETION: u64 = 0;
const KIND_VALUE: u64 = 1;
/**
 * With four times its key and its value, a bound on what one kept entry
 * adds to a table builder's estimatedFileSize: its data-block entry (the
 * key, the value, 19 bytes of varints and restart), the smallest and the
 * largest key, and when it ends a block, the block's trailer and the empty
 * block after it (13) and the block's index entry (a separator no longer
 * than the key, 35 bytes of varints, handle and restart), plus a 64-byte
 * filter block. The host's room counts the index entry that a block
 * finished before the run still owes.
 */
const ENTRY_CHARGE: f64 = 160;

const M_COUNT: usize = 0;
const M_SIZE: usize = 4;
const M_HEAP: usize = 8;
const M_CURSORS: usize = 12;
const M_USER_KEY: usize = 16;
const M_USER_KEY_CAP: usize = 20;
const M_USER_KEY_LEN: usize = 24;
const M_HAS_USER_KEY: usize = 28;
const M_RUN: usize = 32;
const M_RUN_CAP: usize = 36;
const M_RUN_LEN: usize = 40;
const M_TOP: usize = 44;
const M_NEWER_SEQ: usize = 48;
const M_COVERING_SEQ: usize = 56;
const M_SNAPSHOT: usize = 64;
const M_CHARGED: usize = 72;
const M_ENTRIES_IN: usize = 80;
const M_ENTRIES_OUT: usize = 88;
const M_SHADOWED: usize = 96;
const M_NO_DEEPER: usize = 104;
const M_TOMBSTONES: usize = 112;
const MERGE_SIZE: u32 = 120;

/**
 * A merge of `count` inputs with a run of `runCap` bytes, reading at the
 * smallest snapshot `snapshot`; `noDeeper` 1 when no level below the
 * output holds a file. The host then sets each input's cursor
 * (mergeSetCursor), positions them, and calls mergeStart.
 */
export function mergeCreate(count: u32, runCap: u32, snapshot: f64, noDeeper: u32): usize {
  const m = allocOrAbort(MERGE_SIZE);
  memory.fill(m, 0, MERGE_SIZE);
  store<u32>(m + M_COUNT, count);
  store<u32>(m + M_HEAP, <u32>allocOrAbort(count << 2));
  store<u32>(m + M_CURSORS, <u32>allocOrAbort(count << 2));
  store<u32>(m + M_USER_KEY, <u32>allocOrAbort(64));
  store<u32>(m + M_USER_KEY_CAP, 64);
  store<u32>(m + M_RUN, <u32>allocOrAbort(runCap));
  store<u32>(m + M_RUN_CAP, runCap);
  store<f64>(m + M_NEWER_SEQ, Infinity);
  store<f64>(m + M_COVERING_SEQ, -1);
  store<f64>(m + M_SNAPSHOT, snapshot);
  store<u32>(m + M_NO_DEEPER, noDeeper);
  return m;
}

export function mergeSetCursor(m: usize, i: u32, cursor: usize): void {
  store<u32>(heapAt(m, M_CURSORS, i), <u32>cursor);
}

/** Puts every positioned input in the heap. */
export function mergeStart(m: usize): void {
  const count = load<u32>(m + M_COUNT);
  let size: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (cursorPositioned(cursorOf(m, i))) {
      store<u32>(heapAt(m, M_HEAP, size), i);
      size++;
    }
  }
  store<u32>(m + M_SIZE, size);
  for (let i = <i32>(size >> 1) - 1; i >= 0; i--) siftDown(m, <u32>i);
}

/**
 * Merges until a stop (see the codes above). A user key that starts stops
 * the run when no user key was accepted yet, when the run has charged
 * `budget` bytes or more, or when `boundaryLen` >= 0 and the user key is
 * >= the `boundaryLen` bytes at `boundary`; otherwise it is accepted here
 * with the covering sequence of the last one (the host puts a boundary
 * wherever that may change).
 */
export function mergeRun(m: usize, budget: f64, boundary: usize, boundaryLen: i32): i32 {
  const snapshot = load<f64>(m + M_SNAPSHOT);
  while (true) {
    if (load<u32>(m + M_SIZE) == 0) return MERGE_DONE;
    const top = load<u32>(load<u32>(m + M_HEAP));
    store<u32>(m + M_TOP, top);
    const c = cursorOf(m, top);
    const key = cursorKey(c);
    const keyLen = cursorKeyLength(c);
    const userLen = keyLen - TRAILER_SIZE;
    const trailer = load<u64>(key + <usize>userLen);
    const seq = trailer >> 8;
    if (seq > MAX_SEQUENCE) return E_BAD_SEQUENCE;
    if (!isCurrentUserKey(m, key, userLen)) {
      if (
        load<u32>(m + M_HAS_USER_KEY) == 0 ||
        load<f64>(m + M_CHARGED) >= budget ||
        (boundaryLen >= 0 && compareBytes(key, userLen, boundary, <u32>boundaryLen) >= 0)
      ) {
        return MERGE_USER_KEY;
      }
      acceptUserKey(m, load<f64>(m + M_COVERING_SEQ));
    }
    const kind = trailer & 0xff;
    const fseq = <f64>seq;
    const shadowed = load<f64>(m + M_NEWER_SEQ) <= snapshot || fseq < load<f64>(m + M_COVERING_SEQ);
    // A deletion every reader sees goes only if no deeper level may hold its key: known here only when none has files.
    const spentDeletion = kind == KIND_DELETION && !shadowed && fseq <= snapshot;
    const valueLen = cursorValueLength(c);
    const size = RUN_HEADER + keyLen + valueLen;
    const runCap = load<u32>(m + M_RUN_CAP);
    if ((kind != KIND_VALUE && kind != KIND_DELETION) || (spentDeletion && load<u32>(m + M_NO_DEEPER) == 0) || size > runCap) return MERGE_HOST;
    const runLen = load<u32>(m + M_RUN_LEN);
    if (size > runCap - runLen) return MERGE_RUN_FULL;
    store<f64>(m + M_NEWER_SEQ, fseq);
    store<f64>(m + M_ENTRIES_IN, load<f64>(m + M_ENTRIES_IN) + 1);
    if (shadowed) {
      store<f64>(m + M_SHADOWED, load<f64>(m + M_SHADOWED) + 1);
    } else if (spentDeletion) {
      store<f64>(m + M_TOMBSTONES, load<f64>(m + M_TOMBSTONES) + 1);
    } else {
      const out = <usize>load<u32>(m + M_RUN) + <usize>runLen;
      store<u32>(out, keyLen);
      store<u32>(out, valueLen, 4);
      copyBytes(out + RUN_HEADER, key, keyLen);
      copyBytes(out + RUN_HEADER + <usize>keyLen, cursorValue(c), valueLen);
      store<u32>(m + M_RUN_LEN, runLen + size);
      store<f64>(m + M_CHARGED, load<f64>(m + M_CHARGED) + <f64>(4 * keyLen + valueLen) + ENTRY_CHARGE);
      store<f64>(m + M_ENTRIES_OUT, load<f64>(m + M_ENTRIES_OUT) + 1);
    }
    if (blockCursorNext(c) != 1) return MERGE_CHILD;
    siftDown(m, 0);
  }
}

/** Empties the run once the host has taken it: its bytes and its charge. */
export function mergeClearRun(m: usize): void {
  store<u32>(m + M_RUN_LEN, 0);
  store<f64>(m + M_CHARGED, 0);
}

/** Makes the top entry's user key the current one, with no newer entry yet and the given covering sequence. */
export function mergeAcceptUserKey(m: usize, coveringSeq: f64): void {
  acceptUserKey(m, coveringSeq);
}

/** Steps the top input past the entry the host decided: 1, or 0 when its cursor left the block (as MERGE_CHILD). */
export function mergeSkipTop(m: usize): i32 {
  if (blockCursorNext(cursorOf(m, load<u32>(load<u32>(m + M_HEAP)))) != 1) return 0;
  siftDown(m, 0);
  return 1;
}

/** After the host moved the top input on (MERGE_CHILD): back into the heap if positioned, else out of it. */
export function mergeReload(m: usize): void {
  const heap = <usize>load<u32>(m + M_HEAP);
  if (!cursorPositioned(cursorOf(m, load<u32>(heap)))) {
    const size = load<u32>(m + M_SIZE) - 1;
    store<u32>(m + M_SIZE, size);
    store<u32>(heap, load<u32>(heap + (<usize>size << 2)));
  }
  siftDown(m, 0);
}

/** Frees the merge; the cursors belong to the host. */
export function mergeDestroy(m: usize): void {
  if (m == 0) return;
  free(<usize>load<u32>(m + M_HEAP));
  free(<usize>load<u32>(m + M_CURSORS));
  free(<usize>load<u32>(m + M_USER_KEY));
  free(<usize>load<u32>(m + M_RUN));
  free(m);
}

// ---------------------------------------------------------------------------

@inline
function heapAt(m: usize, field: usize, i: u32): usize {
  return <usize>load<u32>(m + field) + (<usize>i << 2);
}

@inline
function cursorOf(m: usize, i: u32): usize {
  return <usize>load<u32>(heapAt(m, M_CURSORS, i));
}

function isCurrentUserKey(m: usize, key: usize, userLen: u32): bool {
  if (load<u32>(m + M_HAS_USER_KEY) == 0 || load<u32>(m + M_USER_KEY_LEN) != userLen) return false;
  return compareBytes(key, userLen, <usize>load<u32>(m + M_USER_KEY), userLen) == 0;
}

function acceptUserKey(m: usize, coveringSeq: f64): void {
  const c = cursorOf(m, load<u32>(load<u32>(m + M_HEAP)));
  const userLen = cursorKeyLength(c) - TRAILER_SIZE;
  if (userLen > load<u32>(m + M_USER_KEY_CAP)) {
    free(<usize>load<u32>(m + M_USER_KEY));
    store<u32>(m + M_USER_KEY, <u32>allocOrAbort(userLen));
    store<u32>(m + M_USER_KEY_CAP, userLen);
  }
  copyBytes(<usize>load<u32>(m + M_USER_KEY), cursorKey(c), userLen);
  store<u32>(m + M_USER_KEY_LEN, userLen);
  store<u32>(m + M_HAS_USER_KEY, 1);
  store<f64>(m + M_NEWER_SEQ, Infinity);
  store<f64>(m + M_COVERING_SEQ, coveringSeq);
}

function keyLess(m: usize, a: u32, b: u32): bool {
  const x = cursorOf(m, a);
  const y = cursorOf(m, b);
  return compareInternal(cursorKey(x), cursorKeyLength(x), cursorKey(y), cursorKeyLength(y)) < 0;
}

function siftDown(m: usize, i: u32): void {
  const heap = <usize>load<u32>(m + M_HEAP);
  const size = load<u32>(m + M_SIZE);
  while (true) {
    const left: u32 = 2 * i + 1;
    if (left >= size) return;
    const right: u32 = left + 1;
    const l = load<u32>(heap + (<usize>left << 2));
    let child: u32 = left;
    let cv = l;
    if (right < size) {
      const r = load<u32>(heap + (<usize>right << 2));
      if (keyLess(m, r, l)) {
        child = right;
        cv = r;
      }
    }
    const iv = load<u32>(heap + (<usize>i << 2));
    if (!keyLess(m, cv, iv)) return;
    store<u32>(heap + (<usize>i << 2), cv);
    store<u32>(heap + (<usize>child << 2), iv);
    i = child;
  }
}
