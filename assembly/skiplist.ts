// Skip-list memtable over internal keys (keys.ts), nodes bump-allocated in
// an arena. One writer per list (each thread has its own module instance).
// Heights: 1..MAX_HEIGHT, each further level with probability 1/4.
// Values live in a second arena, so a search walks nodes and keys packed
// together and never pulls value bytes into the cache.
//
// Node (4*height + 20 + keyLen bytes from the node arena, 4-aligned; the
// node pointer points past the forward pointers, at its header):
//   node - 4*(i+1)  u32 next[i]  forward pointer at level i (0 = end), i < height
//   node + 0        u32 prev     level-0 predecessor (0 = this is the first node)
//   node + 4        u32 keyLen   internal key length = user key length + 8
//   node + 8        u32 valueLen
//   node + 12       u32 height
//   node + 16       u32 value    address of the value bytes in the value arena (0 when valueLen is 0)
//   node + 20       internal key: user key, then the trailer (sequence << 8 | kind) u64 LE
//
// List struct (LIST_SIZE bytes, from alloc):
//   0   u32 arena    the arena holding the nodes (arena.ts)
//   4   u32 count    entries inserted since creation or reset
//   8   u32 height   levels in use (1..MAX_HEIGHT)
//   12  u32 rng      xorshift32 state for node heights
//   16  u32 tail     last node (0 = empty)
//   20  u32 values   the arena holding the values
//   24  u32 index    the user-key index's slots (0 = none)
//   28  u32 indexMask  its slot count - 1 (the count is a power of two)
//   32  u32 indexKeys  distinct user keys it holds
//   36  u32 runBytes   the length of the list's run (skiplistExport), kept
//                      as nodes are inserted so a flush need not walk for it
//   40  u32 pending    nodes inserted and not yet linked, in insertion
//                      order: pendingCap u32 slots, each a node address
//   44  u32 pendingCount
//   48  u32 pendingCap
//   52  head pseudo-node: next[MAX_HEIGHT-1 .. 0] at 52 .. 96, then a
//       node header at 100 (prev 0, keyLen 0, valueLen 0, height MAX_HEIGHT).
//       The head is never compared against; it only carries forward pointers.
//   116 u32 settle     the state of a settle in steps (0 = none; skiplistSettleStep)
//
// Deferred linking: an insert allocates its node and points the index at
// it, but links it into the list later, with the other pending nodes, in
// key order (settle). A random key linked on its own costs a search from
// the head whose every step may miss the cache. A settle sorts the pending
// nodes, then links them one of two ways. When they are many against the
// linked nodes (1/REBUILD_RATIO of them or more), it rebuilds every level
// in one merge of the sorted nodes with the list's level 0: a few stores a
// node, and a load of each linked node's successor. Otherwise each is
// found by finger search from the one before, a few steps that may each
// miss the cache. Until some node is linked, the pending slots grow rather
// than settle, so a list that is only written to (a bulk load, a memtable
// filling up) is sorted once, when it is first walked, and links by append
// alone; its export needs no sort (skiplistExportPending: insertion order,
// for the thread that builds its table to sort). A sorted export settles
// first, in steps the host can yield between (skiplistSettleStep). Once nodes are linked, at most
// pendingCapacity wait, which bounds a settle's pause. Reads of the newest
// versions go through the index and never wait for a settle. Every call
// that walks the list in order (seeks, first, last, gets at older
// snapshots or without an index, export) settles first. A cursor already
// positioned meets pending nodes only once they are linked; they are newer
// than any snapshot it reads at.
//
// The index: an open-addressing hash table (linear probing) from each user
// key in the list to its newest node, the one a get at the newest snapshot
// returns. Slot: u32 hash (the low half of the key's XXH64, seed 0),
// u32 node (0 = empty). It holds at most 3/4 of its slots; inserting past
// that doubles it. skiplistGet asks it first: a key the list does not hold
// (most point reads, when the data is mostly in tables) costs a probe of a
// few slots, and one it holds costs the probe and the node, instead of a
// search through the list whose every step may miss the cache. A get at an
// older snapshot than the newest node falls back to the search. Seeks and
// iteration never consult it. An insert of a key the index holds, newer
// than its newest node, belongs just before that node: one of height 1 is
// linked there without a search (an overwrite costs a probe, not a walk).
//
// Duplicate internal keys (same user key, sequence and kind) never come from
// the engine. If one is inserted anyway it is kept, placed before the equal
// entries already present, so lookups see the latest insertion first (the
// sort of a settle is stable, and each equal node links before the last).
import { alloc, free, realloc } from './memory';
import { MAX_VARINT32_SIZE, getVarint32, varint32Size } from './varint';
import { compareBytes, compareInternal, packTrailer, MAX_SEQUENCE, TRAILER_SIZE } from './keys';
import { arenaAlloc, arenaBytes, arenaChunkSize, arenaCreate, arenaDestroy, arenaReset, MAX_CHUNK_SIZE } from './arena';
import { xxh64 } from './hash';
import { PB_DONE, PB_H1, PB_NODE, PB_RECORD, PB_SEQ, PB_TARGET, PB_TARGET_LEN, touch } from './point-batch';

export const MAX_HEIGHT: u32 = 12;

const L_ARENA: usize = 0;
const L_COUNT: usize = 4;
const L_HEIGHT: usize = 8;
const L_RNG: usize = 12;
const L_TAIL: usize = 16;
const L_VALUES: usize = 20;
const L_INDEX: usize = 24;
const L_INDEX_MASK: usize = 28;
const L_INDEX_KEYS: usize = 32;
const L_RUN_BYTES: usize = 36;
const L_PENDING: usize = 40;
const L_PENDING_COUNT: usize = 44;
const L_PENDING_CAP: usize = 48;
const L_HEAD: usize = 52 + 4 * <usize>MAX_HEIGHT;
const L_SETTLE: usize = L_HEAD + 16;
const LIST_SIZE: u32 = <u32>L_SETTLE + 4;

const N_PREV: usize = 0;
const N_KEY_LEN: usize = 4;
const N_VALUE_LEN: usize = 8;
const N_HEIGHT: usize = 12;
const N_VALUE: usize = 16;
const N_KEY: usize = 20;

const RNG_SEED: u32 = 0x2545f491;
const MIN_PENDING: u32 = 32;
const MAX_PENDING: u32 = 16384;
/**
 * A settle rebuilds the levels when the pending nodes number at least
 * 1/REBUILD_RATIO of the linked ones: a rebuild costs each linked node about
 * one cache miss, a finger search each pending node several.
 */
const REBUILD_RATIO: u32 = 8;
/** Pending slots never grow past 2^28 (1 GiB of them); a list holds far fewer nodes. */
const MAX_PENDING_GROWN: u32 = 1 << 28;
// A sort entry (settle's scratch, 16 bytes): u64 window, u32 node.
const P_WINDOW: usize = 0;
const P_NODE: usize = 8;
const SLOT_BYTES: u32 = 8;
/** Largest slot count an index may have (256 MiB of slots). */
export const MAX_INDEX_SLOTS: u32 = 1 << 25;
const SEEK_KIND: u32 = 0xff;
const MAX_KIND: u32 = 3;
const KIND_DELETION: u32 = 0;
const KIND_RANGE_DELETION: u32 = 3;

// Negative results. The batch codes mean the batch bytes are malformed.
export const ERR_TRUNCATED: i32 = -1;
export const ERR_BAD_KIND: i32 = -2;
export const ERR_BAD_VARINT: i32 = -3;
export const ERR_TRAILING_BYTES: i32 = -4;
export const ERR_BAD_SEQUENCE: i32 = -5;
export const ERR_TOO_LARGE: i32 = -6;
export const ERR_BAD_KEY: i32 = -7;
export const ERR_OUT_OF_MEMORY: i32 = -8;
export const ERR_OUTPUT_TOO_SMALL: i32 = -9;

const BATCH_HEADER: u32 = 12;
/** Largest key + value an entry can hold (the arena's largest chunk, minus node overhead). */
const MAX_PART: u32 = MAX_CHUNK_SIZE - 256;

/** Predecessors at each level for the insert in progress (one writer per instance). */
const PREDS: usize = memory.data(4 * MAX_HEIGHT, 4);

@inline function next(node: usize, level: u32): usize {
  return <usize>load<u32>(node - 4 - (<usize>level << 2));
}

@inline function setNext(node: usize, level: u32, to: usize): void {
  store<u32>(node - 4 - (<usize>level << 2), <u32>to);
}

@inline function keyLen(node: usize): u32 {
  return load<u32>(node + N_KEY_LEN);
}

@inline function head(list: usize): usize {
  return list + L_HEAD;
}

/**
 * Nodes a list may hold unlinked once some are linked: one per 128 bytes
 * of its arena chunk (chunks are 1/16 of a memtable: 8192 at 16 MiB and
 * up, 2048 at 4 MiB). More pending nodes make each settle cheaper per node,
 * and its pause longer. Before any node is linked, the slots grow instead.
 */
function pendingCapacity(chunkSize: u32): u32 {
  const cap = chunkSize >>> 7;
  return cap < MIN_PENDING ? MIN_PENDING : cap > MAX_PENDING ? MAX_PENDING : cap;
}

/**
 * Creates an empty list whose arena takes chunks of `chunkSize` bytes, with
 * a user-key index of `indexSlots` slots to start with (a power of two up
 * to MAX_INDEX_SLOTS; 0: no index); 0 on failure.
 */
export function skiplistCreate(chunkSize: u32, indexSlots: u32): usize {
  const arena = arenaCreate(chunkSize);
  const values = arenaCreate(chunkSize);
  const list = alloc(LIST_SIZE);
  const index = newIndex(indexSlots);
  const pendingCap = pendingCapacity(chunkSize);
  const pending = alloc(pendingCap << 2);
  if (arena == 0 || values == 0 || list == 0 || pending == 0 || (indexSlots != 0 && index == 0)) {
    if (arena != 0) arenaDestroy(arena);
    if (values != 0) arenaDestroy(values);
    free(list);
    free(index);
    free(pending);
    return 0;
  }
  memory.fill(list, 0, LIST_SIZE);
  store<u32>(list + L_PENDING, <u32>pending);
  store<u32>(list + L_PENDING_CAP, pendingCap);
  store<u32>(list + L_INDEX, <u32>index);
  store<u32>(list + L_INDEX_MASK, indexSlots == 0 ? 0 : indexSlots - 1);
  store<u32>(list + L_ARENA, <u32>arena);
  store<u32>(list + L_VALUES, <u32>values);
  store<u32>(list + L_RNG, RNG_SEED);
  store<u32>(list + L_HEIGHT, 1);
  store<u32>(head(list) + N_HEIGHT, MAX_HEIGHT);
  return list;
}

/** A height in 1..MAX_HEIGHT: each pair of low zero bits of a random word adds a level (p = 1/4). */
function randomHeight(list: usize): u32 {
  let x = load<u32>(list + L_RNG);
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  store<u32>(list + L_RNG, x);
  const h = (ctz<u32>(x) >>> 1) + 1;
  return h < MAX_HEIGHT ? h : MAX_HEIGHT;
}

/** Last node at each level whose key is < the given key, written to PREDS. */
function findPredecessors(list: usize, key: usize, len: u32): void {
  let x = head(list);
  let level = load<u32>(list + L_HEIGHT);
  while (level > 0) {
    level--;
    let n = next(x, level);
    while (n != 0 && compareInternal(n + N_KEY, keyLen(n), key, len) < 0) {
      x = n;
      n = next(x, level);
    }
    store<u32>(PREDS + (<usize>level << 2), <u32>x);
  }
}

/**
 * Same result as findPredecessors, given that PREDS holds the predecessors
 * left by linking the previous key of this call and that `key` sorts after
 * it (a finger search: sorted batches cost O(1) per key). Levels from the
 * lowest one whose successor is already >= key upwards are still right.
 */
function advancePredecessors(list: usize, key: usize, len: u32): void {
  const height = load<u32>(list + L_HEIGHT);
  let level: u32 = 0;
  while (level < height) {
    const n = next(<usize>load<u32>(PREDS + (<usize>level << 2)), level);
    if (n == 0 || compareInternal(n + N_KEY, keyLen(n), key, len) >= 0) break;
    level++;
  }
  // Below that level, walk on from the old predecessor; once a walk has
  // moved, it is past every old predecessor (all <= the previous key).
  let x: usize = 0;
  let moved = false;
  while (level > 0) {
    level--;
    if (!moved) x = <usize>load<u32>(PREDS + (<usize>level << 2));
    let n = next(x, level);
    while (n != 0 && compareInternal(n + N_KEY, keyLen(n), key, len) < 0) {
      x = n;
      n = next(x, level);
      moved = true;
    }
    store<u32>(PREDS + (<usize>level << 2), <u32>x);
  }
}

// ---- The user-key index ----

/** Zeroed slots for an index of `slots` slots (0: none, returns 0); 0 on failure. */
function newIndex(slots: u32): usize {
  if (slots == 0) return 0;
  const index = alloc(slots * SLOT_BYTES);
  if (index != 0) memory.fill(index, 0, slots * SLOT_BYTES);
  return index;
}

/** The low half of the user key's XXH64, seed 0: the hash table blooms take, so a read hashes its key once. */
@inline function indexHash(userKey: usize, userKeyLen: u32): u32 {
  return <u32>xxh64(userKey, userKeyLen, 0);
}

/**
 * The slot holding the user key, or else the empty slot where it would go.
 * Precondition: the list has an index.
 */
function indexSlot(list: usize, userKey: usize, userKeyLen: u32, h: u32): usize {
  const index = <usize>load<u32>(list + L_INDEX);
  const mask = load<u32>(list + L_INDEX_MASK);
  let i = h & mask;
  let slot = index + <usize>i * SLOT_BYTES;
  while (load<u32>(slot, 4) != 0 && !slotHolds(slot, userKey, userKeyLen, h)) {
    i = (i + 1) & mask;
    slot = index + <usize>i * SLOT_BYTES;
  }
  return slot;
}

/** Whether the occupied slot is the user key's (hash first: most slots probed hold other keys). */
@inline function slotHolds(slot: usize, userKey: usize, userKeyLen: u32, h: u32): bool {
  if (load<u32>(slot) != h) return false;
  const node = <usize>load<u32>(slot, 4);
  return keyLen(node) == userKeyLen + TRAILER_SIZE && compareBytes(node + N_KEY, userKeyLen, userKey, userKeyLen) == 0;
}

/**
 * Points the index at `node` for its user key unless a newer node of the
 * key is there (a duplicate internal key counts as newer: it sorts first).
 * Doubles the index first when it would pass 3/4 full. False when that
 * growth cannot get memory (nothing changed).
 */
function indexAdd(list: usize, node: usize, userKeyLen: u32): bool {
  if (load<u32>(list + L_INDEX) == 0) return true;
  const h = indexHash(node + N_KEY, userKeyLen);
  let slot = indexSlot(list, node + N_KEY, userKeyLen, h);
  const current = <usize>load<u32>(slot, 4);
  if (current != 0) {
    if (load<u64>(node + N_KEY + userKeyLen) >= load<u64>(current + N_KEY + userKeyLen)) {
      store<u32>(slot, <u32>node, 4);
    }
    return true;
  }
  const keys = load<u32>(list + L_INDEX_KEYS) + 1;
  // At most 3/4 of the slots hold keys, so a probe always meets an empty one.
  if (keys * 4 > (load<u32>(list + L_INDEX_MASK) + 1) * 3) {
    if (!indexGrow(list)) return false;
    slot = indexSlot(list, node + N_KEY, userKeyLen, h);
  }
  store<u32>(slot, h);
  store<u32>(slot, <u32>node, 4);
  store<u32>(list + L_INDEX_KEYS, keys);
  return true;
}

/** Rehashes the index into twice the slots; false (unchanged) without memory or past MAX_INDEX_SLOTS. */
function indexGrow(list: usize): bool {
  const oldIndex = <usize>load<u32>(list + L_INDEX);
  const oldSlots = load<u32>(list + L_INDEX_MASK) + 1;
  if (oldSlots >= MAX_INDEX_SLOTS) return false;
  const slots = oldSlots << 1;
  const index = newIndex(slots);
  if (index == 0) return false;
  const mask = slots - 1;
  for (let j: u32 = 0; j < oldSlots; j++) {
    const old = oldIndex + <usize>j * SLOT_BYTES;
    if (load<u32>(old, 4) == 0) continue;
    // Keys are distinct: each goes to the first empty slot from its hash.
    let i = load<u32>(old) & mask;
    while (load<u32>(index + <usize>i * SLOT_BYTES, 4) != 0) i = (i + 1) & mask;
    store<u64>(index + <usize>i * SLOT_BYTES, load<u64>(old));
  }
  free(oldIndex);
  store<u32>(list + L_INDEX, <u32>index);
  store<u32>(list + L_INDEX_MASK, mask);
  return true;
}

/**
 * Allocates a node holding user key + trailer, and a copy of the value, not
 * yet linked, points the index at it and counts it. Returns 0 when memory
 * is exhausted.
 */
function newNode(list: usize, userKey: usize, userKeyLen: u32, trailer: u64, value: usize, valueLen: u32): usize {
  let valueCopy: usize = 0;
  if (valueLen != 0) {
    valueCopy = arenaAlloc(<usize>load<u32>(list + L_VALUES), valueLen, 1);
    if (valueCopy == 0) return 0;
    memory.copy(valueCopy, value, valueLen);
  }
  const height = randomHeight(list);
  const kLen = userKeyLen + TRAILER_SIZE;
  const block = arenaAlloc(<usize>load<u32>(list + L_ARENA), (height << 2) + <u32>N_KEY + kLen, 4);
  if (block == 0) return 0;
  const node = block + (<usize>height << 2);
  store<u32>(node + N_KEY_LEN, kLen);
  store<u32>(node + N_VALUE_LEN, valueLen);
  store<u32>(node + N_HEIGHT, height);
  store<u32>(node + N_VALUE, <u32>valueCopy);
  memory.copy(node + N_KEY, userKey, userKeyLen);
  store<u64>(node + N_KEY + userKeyLen, trailer);
  if (!indexAdd(list, node, userKeyLen)) return 0;
  store<u32>(list + L_COUNT, load<u32>(list + L_COUNT) + 1);
  store<u32>(list + L_RUN_BYTES, load<u32>(list + L_RUN_BYTES) + RUN_ENTRY_HEADER + kLen + valueLen);
  return node;
}

/**
 * Queues a new node (already counted) for linking. When the pending slots
 * are full they double while no node is linked yet, so a list only written
 * to is sorted once, when first walked; otherwise (or without memory) the
 * list is settled first.
 */
function addPending(list: usize, node: usize): void {
  if (load<u32>(list + L_SETTLE) != 0) settle(list);
  let count = load<u32>(list + L_PENDING_COUNT);
  const cap = load<u32>(list + L_PENDING_CAP);
  if (count == cap) {
    const grown = load<u32>(list + L_COUNT) - 1 == count && cap < MAX_PENDING_GROWN ? realloc(<usize>load<u32>(list + L_PENDING), cap << 3) : 0;
    if (grown != 0) {
      store<u32>(list + L_PENDING, <u32>grown);
      store<u32>(list + L_PENDING_CAP, cap << 1);
    } else {
      settle(list);
      count = 0;
    }
  }
  store<u32>(<usize>load<u32>(list + L_PENDING) + (<usize>count << 2), <u32>node);
  store<u32>(list + L_PENDING_COUNT, count + 1);
}

/** The length of the prefix shared by the first `shared` bytes of pending node 0's user key and those of nodes [lo, hi). */
function sharedPrefix(pending: usize, lo: u32, hi: u32, shared: u32): u32 {
  const first = <usize>load<u32>(pending);
  for (let i = lo; i < hi && shared > 0; i++) {
    const node = <usize>load<u32>(pending + (<usize>i << 2));
    const len = keyLen(node) - TRAILER_SIZE;
    if (len < shared) shared = len;
    let k: u32 = 0;
    while (k < shared && load<u8>(first + N_KEY + k) == load<u8>(node + N_KEY + k)) k++;
    shared = k;
  }
  return shared;
}

/**
 * The user key's 8 bytes from `from` as a big-endian u64, zeros past its
 * end. For keys sharing their first `from` bytes, a smaller word means a
 * smaller key (a key ending inside the window is a prefix of any key that
 * goes on with bytes there); equal words need the full comparison.
 */
function window(node: usize, from: u32): u64 {
  const len = keyLen(node) - TRAILER_SIZE;
  const key = node + N_KEY;
  if (from + 8 <= len) return bswap<u64>(load<u64>(key + from));
  let w: u64 = 0;
  for (let k: u32 = 0; k < 8; k++) w = (w << 8) | (from + k < len ? <u64>load<u8>(key + from + k) : 0);
  return w;
}

/** Whether the entry (window `wa`, node `na`) orders before sort entry `b`: by window, then by full internal key. */
@inline function orderedBefore(wa: u64, na: usize, b: usize): bool {
  const wb = load<u64>(b, P_WINDOW);
  if (wa != wb) return wa < wb;
  const nb = <usize>load<u32>(b, P_NODE);
  return compareInternal(na + N_KEY, keyLen(na), nb + N_KEY, keyLen(nb)) < 0;
}

@inline function entryLess(a: usize, b: usize): bool {
  return orderedBefore(load<u64>(a, P_WINDOW), <usize>load<u32>(a, P_NODE), b);
}

@inline function copyEntry(to: usize, from: usize): void {
  store<u64>(to, load<u64>(from, P_WINDOW), P_WINDOW);
  store<u32>(to, load<u32>(from, P_NODE), P_NODE);
}

/** Sorts each run of 8 of the 16-byte entries at `src` in [lo, hi) by insertion (lo a multiple of 8; hi one, or n). */
function sortRunsOf8(src: usize, lo: u32, hi: u32): void {
  for (let start = lo; start < hi; start += 8) {
    const end = start + 8 < hi ? start + 8 : hi;
    for (let i = start + 1; i < end; i++) {
      const w = load<u64>(src + (<usize>i << 4), P_WINDOW);
      const node = load<u32>(src + (<usize>i << 4), P_NODE);
      let j = i;
      while (j > start && orderedBefore(w, <usize>node, src + (<usize>(j - 1) << 4))) {
        copyEntry(src + (<usize>j << 4), src + (<usize>(j - 1) << 4));
        j--;
      }
      store<u64>(src + (<usize>j << 4), w, P_WINDOW);
      store<u32>(src + (<usize>j << 4), node, P_NODE);
    }
  }
}

/** One pass of the bottom-up merge sort: merges each pair of sorted runs of `width` entries at `from` into `to`. */
function mergePass(from: usize, to: usize, n: u32, width: u32): void {
  for (let lo: u32 = 0; lo < n; lo += width << 1) {
    const mid = lo + width < n ? lo + width : n;
    const hi = mid + width < n ? mid + width : n;
    let a = from + (<usize>lo << 4);
    let b = from + (<usize>mid << 4);
    const aEnd = b;
    const bEnd = from + (<usize>hi << 4);
    let out = to + (<usize>lo << 4);
    while (a < aEnd && b < bEnd) {
      // The right run goes first only when strictly less: equal keys keep their order.
      if (entryLess(b, a)) {
        copyEntry(out, b);
        b += 16;
      } else {
        copyEntry(out, a);
        a += 16;
      }
      out += 16;
    }
    if (a < aEnd) memory.copy(out, a, aEnd - a);
    else if (b < bEnd) memory.copy(out, b, bEnd - b);
  }
}

/**
 * Sorts the `n` 16-byte entries at `src` (u64 window, u32 node), stably
 * (equal keys keep insertion order), with `tmp` as scratch: a bottom-up
 * merge sort over runs of 8 sorted by insertion. Most comparisons read only
 * the entries' windows, not the nodes. Returns where the sorted entries are
 * (`src` or `tmp`).
 */
function sortEntries(src: usize, tmp: usize, n: u32): usize {
  sortRunsOf8(src, 0, n);
  let from = src;
  let to = tmp;
  for (let width: u32 = 8; width < n; width <<= 1) {
    mergePass(from, to, n, width);
    const t = from;
    from = to;
    to = t;
  }
  return from;
}

/** Fills sort entry i of `entries` for pending node i, i in [lo, hi): its window from byte `from`, and the node. */
function fillEntries(pending: usize, entries: usize, lo: u32, hi: u32, from: u32): void {
  for (let i = lo; i < hi; i++) {
    const node = <usize>load<u32>(pending + (<usize>i << 2));
    const entry = entries + (<usize>i << 4);
    store<u64>(entry, window(node, from), P_WINDOW);
    store<u32>(entry, <u32>node, P_NODE);
  }
}

/**
 * Links every pending node, in key order: sorted, then by a rebuild of the
 * levels or by finger search (see REBUILD_RATIO). Without memory for the
 * sort, each is searched from the head, unsorted. Finishes a settle begun
 * in steps (skiplistSettleStep).
 */
function settle(list: usize): void {
  if (load<u32>(list + L_SETTLE) != 0) {
    while (skiplistSettleStep(list, U32.MAX_VALUE) != 0) {}
    return;
  }
  const n = load<u32>(list + L_PENDING_COUNT);
  if (n == 0) return;
  const pending = <usize>load<u32>(list + L_PENDING);
  store<u32>(list + L_PENDING_COUNT, 0);
  const scratch = alloc(n << 5);
  if (scratch == 0) {
    for (let i: u32 = 0; i < n; i++) linkNode(list, <usize>load<u32>(pending + (<usize>i << 2)), 0);
    return;
  }
  const from = sharedPrefix(pending, 1, n, keyLen(<usize>load<u32>(pending)) - TRAILER_SIZE);
  fillEntries(pending, scratch, 0, n, from);
  const sorted = sortEntries(scratch, scratch + (<usize>n << 4), n);
  const linked = load<u32>(list + L_COUNT) - n;
  if (n * REBUILD_RATIO >= linked) {
    rebuild(list, sorted, n);
  } else {
    let previous: usize = 0;
    for (let i: u32 = 0; i < n; i++) {
      const node = <usize>load<u32>(sorted + (<usize>i << 4), P_NODE);
      linkNode(list, node, previous);
      previous = node;
    }
  }
  free(scratch);
}

/**
 * Relinks every level from scratch, merging the `n` sorted entries at
 * `sorted` with the linked nodes in level-0 order. Pending nodes go before
 * linked ones with equal keys.
 */
function rebuild(list: usize, sorted: usize, n: u32): void {
  const h = head(list);
  // PREDS holds the last node placed at each level.
  for (let level: u32 = 0; level < MAX_HEIGHT; level++) store<u32>(PREDS + (<usize>level << 2), <u32>h);
  let old = next(h, 0);
  let i: u32 = 0;
  while (i < n) {
    const node = <usize>load<u32>(sorted + (<usize>i << 4), P_NODE);
    if (old != 0 && compareInternal(node + N_KEY, keyLen(node), old + N_KEY, keyLen(old)) > 0) {
      const after = next(old, 0); // read before a later placement overwrites it
      place(h, PREDS, old);
      old = after;
    } else {
      i = placeEqualRun(h, PREDS, sorted, i, n);
    }
  }
  while (old != 0) {
    const after = next(old, 0);
    place(h, PREDS, old);
    old = after;
  }
  endLevels(list, PREDS);
}

/**
 * Places sort entry i and the entries after it with an equal key, the
 * latest inserted first (their sort kept insertion order), as linking one
 * at a time places them. Returns the index after them.
 */
function placeEqualRun(h: usize, last: usize, sorted: usize, i: u32, n: u32): u32 {
  const entry = sorted + (<usize>i << 4);
  let end = i + 1;
  while (end < n && entriesEqual(entry, sorted + (<usize>end << 4))) end++;
  for (let j = end; j > i; j--) place(h, last, <usize>load<u32>(sorted + (<usize>(j - 1) << 4), P_NODE));
  return end;
}

/** Appends `node` at each of its levels after the last node placed there (`last`: one u32 per level); `h` is the head. */
@inline function place(h: usize, last: usize, node: usize): void {
  const height = load<u32>(node + N_HEIGHT);
  const before = <usize>load<u32>(last);
  store<u32>(node + N_PREV, before == h ? 0 : <u32>before);
  for (let level: u32 = 0; level < height; level++) {
    setNext(<usize>load<u32>(last + (<usize>level << 2)), level, node);
    store<u32>(last + (<usize>level << 2), <u32>node);
  }
}

/** Ends each level after its last placed node, and sets the list's height and tail from them. */
function endLevels(list: usize, last: usize): void {
  const h = head(list);
  let height: u32 = 1;
  for (let level: u32 = 0; level < MAX_HEIGHT; level++) {
    const node = <usize>load<u32>(last + (<usize>level << 2));
    setNext(node, level, 0);
    if (node != h) height = level + 1;
  }
  store<u32>(list + L_HEIGHT, height);
  const tail = <usize>load<u32>(last);
  store<u32>(list + L_TAIL, tail == h ? 0 : <u32>tail);
}

/** Whether two sort entries hold equal internal keys. */
@inline function entriesEqual(a: usize, b: usize): bool {
  if (load<u64>(a, P_WINDOW) != load<u64>(b, P_WINDOW)) return false;
  const na = <usize>load<u32>(a, P_NODE);
  const nb = <usize>load<u32>(b, P_NODE);
  return compareInternal(na + N_KEY, keyLen(na), nb + N_KEY, keyLen(nb)) == 0;
}

// ---- Settling in steps ----
// A list whose pending nodes were never linked (it was only written to, so
// it may hold hundreds of thousands) is settled in bounded steps before its
// export, so the host can yield between them: the shared prefix, the sort
// entries, the runs of 8, each merge pass, then the links, a slice at a
// time. Nothing is linked until the last phase. Any other call that needs
// the list in order, or an insert, finishes the steps first (settle).
//
// State (allocated by the first step, its address at L_SETTLE):
//   0 u32 phase, 4 pos, 8 shared prefix length, 12 merge width, 16 u32
//   entries being merged from, 20 into, 24 last node placed at each level
//   (MAX_HEIGHT u32), then at 80 the n sort entries and n more as merge
//   scratch. The pending count stays n until the last step: inserts, which
//   change it, finish the steps first.

const S_PHASE: usize = 0;
const S_POS: usize = 4;
const S_SHARED: usize = 8;
const S_WIDTH: usize = 12;
const S_FROM: usize = 16;
const S_TO: usize = 20;
const S_LAST: usize = 24;
const S_ENTRIES: usize = 80;
const PHASE_PREFIX: u32 = 0;
const PHASE_ENTRIES: u32 = 1;
const PHASE_RUNS: u32 = 2;
const PHASE_MERGE: u32 = 3;
// Phase 4 links the sorted nodes.

/**
 * Does about `budget` nodes' worth of settling (a merge pass counts as
 * one step whatever its size); returns 1 while more remains, 0 once every
 * pending node is linked. Lists with linked nodes hold few pending ones
 * (pendingCapacity): those settle in one step, as does any list when the
 * state cannot be allocated.
 */
export function skiplistSettleStep(list: usize, budget: u32): u32 {
  let state = <usize>load<u32>(list + L_SETTLE);
  if (state == 0) {
    const n = load<u32>(list + L_PENDING_COUNT);
    if (n == 0) return 0;
    if (load<u32>(list + L_COUNT) != n || (state = alloc(<u32>S_ENTRIES + (n << 5))) == 0) {
      settle(list);
      return 0;
    }
    memory.fill(state, 0, S_ENTRIES);
    store<u32>(state, keyLen(<usize>load<u32>(<usize>load<u32>(list + L_PENDING))) - TRAILER_SIZE, S_SHARED);
    store<u32>(list + L_SETTLE, <u32>state);
  }
  const n = load<u32>(list + L_PENDING_COUNT);
  const pending = <usize>load<u32>(list + L_PENDING);
  const entries = state + S_ENTRIES;
  const pos = load<u32>(state, S_POS);
  const step: u32 = budget < 8 ? 8 : budget & ~7; // runs of 8 start at multiples of 8
  const hi = step >= n - pos ? n : pos + step;
  const phase = load<u32>(state, S_PHASE);
  if (phase == PHASE_PREFIX) {
    store<u32>(state, sharedPrefix(pending, pos, hi, load<u32>(state, S_SHARED)), S_SHARED);
  } else if (phase == PHASE_ENTRIES) {
    fillEntries(pending, entries, pos, hi, load<u32>(state, S_SHARED));
  } else if (phase == PHASE_RUNS) {
    sortRunsOf8(entries, pos, hi);
  } else if (phase == PHASE_MERGE) {
    const width = load<u32>(state, S_WIDTH);
    if (width < n) {
      const from = <usize>load<u32>(state, S_FROM);
      const to = <usize>load<u32>(state, S_TO);
      mergePass(from, to, n, width);
      store<u32>(state, <u32>to, S_FROM);
      store<u32>(state, <u32>from, S_TO);
      store<u32>(state, width << 1, S_WIDTH);
      return 1;
    }
    const h = head(list);
    for (let level: u32 = 0; level < MAX_HEIGHT; level++) store<u32>(state + S_LAST + (<usize>level << 2), <u32>h);
  } else {
    const sorted = <usize>load<u32>(state, S_FROM);
    const h = head(list);
    let i = pos;
    while (i < hi) i = placeEqualRun(h, state + S_LAST, sorted, i, n);
    if (i < n) {
      store<u32>(state, i, S_POS);
      return 1;
    }
    endLevels(list, state + S_LAST);
    store<u32>(list + L_PENDING_COUNT, 0);
    store<u32>(list + L_SETTLE, 0);
    free(state);
    return 0;
  }
  if (phase != PHASE_MERGE && hi < n) {
    store<u32>(state, hi, S_POS);
    return 1;
  }
  // The phase is done: on to the next, from the first node.
  store<u32>(state, 0, S_POS);
  store<u32>(state, phase + 1, S_PHASE);
  if (phase == PHASE_RUNS) {
    store<u32>(state, 8, S_WIDTH);
    store<u32>(state, <u32>entries, S_FROM);
    store<u32>(state, <u32>(entries + (<usize>n << 4)), S_TO);
  }
  return 1;
}

/**
 * Links `node` in order. `previous` is the node linked just before, whose
 * predecessors PREDS still holds (0 if none), so a key after it is found
 * by finger search; an equal key is searched from the head, and goes
 * before the equal nodes already linked.
 */
function linkNode(list: usize, node: usize, previous: usize): void {
  const key = node + N_KEY;
  const kLen = keyLen(node);
  if (previous != 0 && compareInternal(key, kLen, previous + N_KEY, keyLen(previous)) > 0) {
    advancePredecessors(list, key, kLen);
  } else {
    findPredecessors(list, key, kLen);
  }
  const height = load<u32>(node + N_HEIGHT);
  const listHeight = load<u32>(list + L_HEIGHT);
  if (height > listHeight) {
    for (let i = listHeight; i < height; i++) store<u32>(PREDS + (<usize>i << 2), <u32>head(list));
    store<u32>(list + L_HEIGHT, height);
  }
  const pred0 = <usize>load<u32>(PREDS);
  for (let i: u32 = 0; i < height; i++) {
    const pred = <usize>load<u32>(PREDS + (<usize>i << 2));
    setNext(node, i, next(pred, i));
    setNext(pred, i, node);
    store<u32>(PREDS + (<usize>i << 2), <u32>node);
  }
  store<u32>(node + N_PREV, pred0 == head(list) ? 0 : <u32>pred0);
  const succ = next(node, 0);
  if (succ != 0) store<u32>(succ + N_PREV, <u32>node);
  else store<u32>(list + L_TAIL, <u32>node);
}

/** True when `seq` is an integer in 0..MAX_SEQUENCE (NaN fails every comparison). */
function validSequence(seq: f64): bool {
  return seq >= 0 && seq <= <f64>MAX_SEQUENCE && seq == Math.floor(seq);
}

/**
 * Inserts one entry: sequence `seq` (an exact integer < 2^53), kind 0..3.
 * Returns the node, or a negative error code.
 */
export function skiplistInsert(
  list: usize, userKey: usize, userKeyLen: u32, seq: f64, kind: u32, value: usize, valueLen: u32,
): i32 {
  if (kind > MAX_KIND) return ERR_BAD_KIND;
  if (!validSequence(seq)) return ERR_BAD_SEQUENCE;
  if (userKeyLen > MAX_PART || valueLen > MAX_PART - userKeyLen) return ERR_TOO_LARGE;
  const node = newNode(list, userKey, userKeyLen, packTrailer(seq, kind), value, valueLen);
  if (node == 0) return ERR_OUT_OF_MEMORY;
  addPending(list, node);
  return <i32>node;
}

// ---- Write batches ----
// Batch (also the WAL record payload), all integers little-endian:
//   0   u64 first sequence
//   8   u32 count
//   12  count records: kind u8 (0..3), varint32 key length, key bytes, and
//       unless kind == 0 (deletion) varint32 value length, value bytes.
// Record i has sequence first + i. Varints are LEB128, at most 5 bytes, in
// their shortest form. The records fill the batch exactly.

// The record parseRecord decoded last (offsets relative to the batch).
let recKind: u32 = 0;
let recKey: u32 = 0;
let recKeyLen: u32 = 0;
let recValue: u32 = 0;
let recValueLen: u32 = 0;
let varintValue: u32 = 0;

/**
 * Decodes the varint32 at `pos` into varintValue; returns the offset after
 * it or an error. Write batches accept only the shortest encoding, so each
 * length has exactly one byte form.
 */
function readVarint(batch: usize, pos: u32, len: u32): i32 {
  const r = getVarint32(batch + pos, batch + len);
  // getVarint32 fails on a run past the end, or on a fifth byte over 0x0F,
  // which needs all five bytes present.
  if (r == 0) return len - pos < MAX_VARINT32_SIZE ? ERR_TRUNCATED : ERR_BAD_VARINT;
  const value = <u32>(r >>> 32);
  const size = <u32>r;
  if (size != varint32Size(value)) return ERR_BAD_VARINT;
  varintValue = value;
  return <i32>(pos + size);
}

/** Decodes a length-prefixed byte string at `pos`: sets varintValue, returns its start offset or an error. */
function readSlice(batch: usize, pos: u32, len: u32): i32 {
  const start = readVarint(batch, pos, len);
  if (start < 0) return start;
  if (varintValue > MAX_PART) return ERR_TOO_LARGE;
  if (varintValue > len - <u32>start) return ERR_TRUNCATED;
  return start;
}

/** Decodes the record at `pos` into rec*; returns the offset after it or an error. */
function parseRecord(batch: usize, pos: u32, len: u32): i32 {
  if (pos >= len) return ERR_TRUNCATED;
  recKind = <u32>load<u8>(batch + pos);
  if (recKind > MAX_KIND) return ERR_BAD_KIND;
  const key = readSlice(batch, pos + 1, len);
  if (key < 0) return key;
  recKey = <u32>key;
  recKeyLen = varintValue;
  const end = recKey + recKeyLen;
  if (recKind == KIND_DELETION) {
    recValue = end;
    recValueLen = 0;
    return <i32>end;
  }
  const value = readSlice(batch, end, len);
  if (value < 0) return value;
  recValue = <u32>value;
  recValueLen = varintValue;
  // Key and value share one node, so they must fit one together.
  if (recValueLen > MAX_PART - recKeyLen) return ERR_TOO_LARGE;
  return <i32>(recValue + recValueLen);
}

/** Checks a whole batch; returns its record count or an error. */
function validateBatch(batch: usize, len: u32): i32 {
  if (len < BATCH_HEADER) return ERR_TRUNCATED;
  const first = load<u64>(batch);
  const count = load<u32>(batch + 8);
  if (first > MAX_SEQUENCE || <u64>count > MAX_SEQUENCE - first + 1) return ERR_BAD_SEQUENCE;
  let pos = BATCH_HEADER;
  for (let i: u32 = 0; i < count; i++) {
    const after = parseRecord(batch, pos, len);
    if (after < 0) return after;
    pos = <u32>after;
  }
  if (pos != len) return ERR_TRAILING_BYTES;
  return <i32>count;
}

/** Range deletions the last skiplistInsertBatch left out of the list. */
let skippedRangeDeletions: u32 = 0;

/**
 * Inserts every record of the batch at `batch` (`len` bytes); with
 * `skipRangeDeletions` non-zero, records of kind 3 are left out (the engine
 * keeps those outside the list) and counted for skiplistSkippedRangeDeletions.
 * The batch is validated first: a malformed one inserts nothing. Returns the
 * number of records in the batch or a negative error code. Only exhausted
 * memory, which traps in the heap, can stop a valid batch part way.
 */
export function skiplistInsertBatch(list: usize, batch: usize, len: u32, skipRangeDeletions: u32): i32 {
  skippedRangeDeletions = 0;
  const count = validateBatch(batch, len);
  if (count <= 0) return count;
  const first = load<u64>(batch);
  let pos = BATCH_HEADER;
  for (let i: u32 = 0; i < <u32>count; i++) {
    pos = <u32>parseRecord(batch, pos, len);
    if (skipRangeDeletions != 0 && recKind == KIND_RANGE_DELETION) {
      skippedRangeDeletions++;
      continue;
    }
    const trailer = ((first + <u64>i) << 8) | <u64>recKind;
    const node = newNode(list, batch + recKey, recKeyLen, trailer, batch + recValue, recValueLen);
    if (node == 0) return ERR_OUT_OF_MEMORY;
    addPending(list, node);
  }
  return count;
}

/** How many range deletions the last skiplistInsertBatch left out. */
export function skiplistSkippedRangeDeletions(): u32 {
  return skippedRangeDeletions;
}

// ---- Lookups ----

/** First node whose internal key is >= key, or 0. */
function findGreaterOrEqual(list: usize, key: usize, len: u32): usize {
  let x = head(list);
  let level = load<u32>(list + L_HEIGHT);
  while (level > 0) {
    level--;
    let n = next(x, level);
    while (n != 0 && compareInternal(n + N_KEY, keyLen(n), key, len) < 0) {
      x = n;
      n = next(x, level);
    }
  }
  return next(x, 0);
}

/** First node >= the internal key at key (len >= 8 bytes); 0 at the end, or ERR_BAD_KEY. */
export function skiplistSeek(list: usize, key: usize, len: u32): i32 {
  if (len < TRAILER_SIZE) return ERR_BAD_KEY;
  settle(list);
  return <i32>findGreaterOrEqual(list, key, len);
}

/** Writes the seek trailer for (snapshotSeq, 0xFF) right after the user key at buf. */
function writeSeekTrailer(buf: usize, userKeyLen: u32, snapshotSeq: f64): void {
  // Above the largest sequence sees everything; negative and NaN convert to 0.
  const seq = snapshotSeq >= <f64>MAX_SEQUENCE ? <f64>MAX_SEQUENCE : snapshotSeq;
  store<u64>(buf + userKeyLen, packTrailer(seq, SEEK_KIND));
}

/**
 * First node at or after the newest entry of the user key at `buf` visible
 * at `snapshotSeq`. `buf` must have 8 spare bytes after the user key: the
 * seek trailer is written there.
 */
export function skiplistSeekUser(list: usize, buf: usize, userKeyLen: u32, snapshotSeq: f64): usize {
  writeSeekTrailer(buf, userKeyLen, snapshotSeq);
  settle(list);
  return findGreaterOrEqual(list, buf, userKeyLen + TRAILER_SIZE);
}

/**
 * The newest node for the user key at `buf` with sequence <= snapshotSeq, of
 * any kind (a deletion included), or 0. Same buffer contract as skiplistSeekUser.
 */
export function skiplistGet(list: usize, buf: usize, userKeyLen: u32, snapshotSeq: f64): usize {
  return skiplistGetHashed(list, buf, userKeyLen, snapshotSeq, load<u32>(list + L_INDEX) != 0 ? indexHash(buf, userKeyLen) : 0);
}

/** skiplistGet with the user key's hash already taken (`hash`: the low half of its XXH64, seed 0). */
export function skiplistGetHashed(list: usize, buf: usize, userKeyLen: u32, snapshotSeq: f64, hash: u32): usize {
  if (load<u32>(list + L_INDEX) != 0) {
    const newest = <usize>load<u32>(indexSlot(list, buf, userKeyLen, hash), 4);
    if (newest == 0) return 0;
    if (<f64>(load<u64>(newest + N_KEY + userKeyLen) >>> 8) <= snapshotSeq) return newest;
  }
  const node = skiplistSeekUser(list, buf, userKeyLen, snapshotSeq);
  if (node == 0 || keyLen(node) != userKeyLen + TRAILER_SIZE) return 0;
  return compareBytes(node + N_KEY, userKeyLen, buf, userKeyLen) == 0 ? node : 0;
}

/**
 * skiplistGetHashed for each record of a point batch (point-batch.ts) not
 * yet done, writing the node (or 0) into the record. With an index, every
 * key's slot is loaded first, then every key's newest node, then each
 * found node's value, so the misses of different keys overlap.
 */
export function skiplistGetBatch(list: usize, records: usize, count: u32): void {
  const end = records + <usize>count * PB_RECORD;
  if (load<u32>(list + L_INDEX) != 0) {
    const index = <usize>load<u32>(list + L_INDEX);
    const mask = load<u32>(list + L_INDEX_MASK);
    for (let r = records; r < end; r += PB_RECORD) {
      if (load<u32>(r, PB_DONE) == 0) touch(index + <usize>(load<u32>(r, PB_H1) & mask) * SLOT_BYTES);
    }
    for (let r = records; r < end; r += PB_RECORD) {
      if (load<u32>(r, PB_DONE) != 0) continue;
      const newest = <usize>load<u32>(indexSlot(list, <usize>load<u32>(r, PB_TARGET), load<u32>(r, PB_TARGET_LEN) - TRAILER_SIZE, load<u32>(r, PB_H1)), 4);
      if (newest != 0) touch(newest + N_KEY);
    }
  }
  for (let r = records; r < end; r += PB_RECORD) {
    if (load<u32>(r, PB_DONE) != 0) continue;
    const node = skiplistGetHashed(list, <usize>load<u32>(r, PB_TARGET), load<u32>(r, PB_TARGET_LEN) - TRAILER_SIZE, load<f64>(r, PB_SEQ), load<u32>(r, PB_H1));
    store<u32>(r, <u32>node, PB_NODE);
    // The value lives apart from the node (the values arena): start its miss before the host copies it out.
    if (node != 0 && load<u32>(node + N_VALUE_LEN) != 0) touch(<usize>load<u32>(node + N_VALUE));
  }
}

export function skiplistFirst(list: usize): usize {
  settle(list);
  return next(head(list), 0);
}

export function skiplistLast(list: usize): usize {
  settle(list);
  return <usize>load<u32>(list + L_TAIL);
}

export function skiplistNext(node: usize): usize {
  return next(node, 0);
}

export function skiplistPrev(node: usize): usize {
  return <usize>load<u32>(node + N_PREV);
}

export function skiplistCount(list: usize): u32 {
  return load<u32>(list + L_COUNT);
}

/** Heap bytes held: both arenas' chunks and structs, the list struct, its pending slots and its index. */
export function skiplistBytes(list: usize): u32 {
  const pendingBytes = load<u32>(list + L_PENDING_CAP) << 2;
  return arenaBytes(<usize>load<u32>(list + L_ARENA)) + arenaBytes(<usize>load<u32>(list + L_VALUES)) + LIST_SIZE + pendingBytes + skiplistIndexBytes(list);
}

/** Heap bytes of the index's slots (0 without an index). */
export function skiplistIndexBytes(list: usize): u32 {
  return load<u32>(list + L_INDEX) == 0 ? 0 : (load<u32>(list + L_INDEX_MASK) + 1) * SLOT_BYTES;
}

// ---- Export ----
// A run is every entry in order: repeated [u32 keyLen][u32 valueLen][internal key][value],
// little-endian, no padding (docs/FORMAT.md, "Memtable runs").

const RUN_ENTRY_HEADER: u32 = 8;

/** Bytes the run of this list takes (below 2^31: memory is capped at 2 GiB). */
export function skiplistExportSize(list: usize): u32 {
  return load<u32>(list + L_RUN_BYTES);
}

@inline function runEntrySize(n: usize): u32 {
  return RUN_ENTRY_HEADER + keyLen(n) + load<u32>(n + N_VALUE_LEN);
}

/** Writes node `n`'s run entry at `at` (runEntrySize(n) bytes). */
@inline function writeRunEntry(n: usize, at: usize): void {
  const kLen = keyLen(n);
  const vLen = load<u32>(n + N_VALUE_LEN);
  store<u32>(at, kLen);
  store<u32>(at + 4, vLen);
  memory.copy(at + RUN_ENTRY_HEADER, n + N_KEY, kLen);
  memory.copy(at + RUN_ENTRY_HEADER + kLen, <usize>load<u32>(n + N_VALUE), vLen);
}

/** Where the last export stopped: skiplistExport's first node not written (0 after the last), or skiplistExportPending's first pending slot. */
let exportNext: usize = 0;

/**
 * Writes the run of this list from node `from` (0: the first) at `out`
 * (`cap` bytes), as many whole entries as fit. Returns the bytes written;
 * skiplistExportNext() then gives the node to continue from (0 when the run
 * is complete). Returns ERR_OUTPUT_TOO_SMALL, writing nothing, when not even
 * the first entry fits. Callers export a frozen list in slices so a large
 * memtable never holds the event loop for long.
 */
export function skiplistExport(list: usize, from: usize, out: usize, cap: u32): i32 {
  settle(list);
  let pos: u32 = 0;
  let n = from != 0 ? from : next(head(list), 0);
  while (n != 0) {
    const size = runEntrySize(n);
    if (size > cap - pos) break;
    writeRunEntry(n, out + pos);
    pos += size;
    n = next(n, 0);
  }
  exportNext = n;
  if (pos == 0 && n != 0) return ERR_OUTPUT_TOO_SMALL;
  return <i32>pos;
}

export function skiplistExportNext(): usize {
  return exportNext;
}

/** skiplistExportPending's answer when some node is linked or a settle is under way. */
export const ERR_NOT_ALL_PENDING: i32 = -10;

/**
 * Writes the entries of pending nodes [from, ...) at `out` (`cap` bytes),
 * in insertion order: an unsorted run, for a thread that sorts it itself
 * (skiplistInsertRun), so a flush costs this thread a copy, not a sort.
 * Returns the bytes written; skiplistExportNext() then gives the pending
 * slot to continue from (the pending count when complete). Precondition
 * checked: every node is pending (ERR_NOT_ALL_PENDING otherwise; an
 * export started before a settle must start over sorted).
 */
export function skiplistExportPending(list: usize, from: u32, out: usize, cap: u32): i32 {
  const count = load<u32>(list + L_PENDING_COUNT);
  if (load<u32>(list + L_SETTLE) != 0 || count != load<u32>(list + L_COUNT)) return ERR_NOT_ALL_PENDING;
  const pending = <usize>load<u32>(list + L_PENDING);
  let pos: u32 = 0;
  let i = from;
  while (i < count) {
    const n = <usize>load<u32>(pending + (<usize>i << 2));
    const size = runEntrySize(n);
    if (size > cap - pos) break;
    writeRunEntry(n, out + pos);
    pos += size;
    i++;
  }
  exportNext = i;
  if (pos == 0 && i < count) return ERR_OUTPUT_TOO_SMALL;
  return <i32>pos;
}

/**
 * Inserts every entry of a run (any order; see skiplistExport) at `run`
 * (`len` bytes) as pending nodes. Returns the entry count, or an error
 * (ERR_TRUNCATED, ERR_BAD_KEY for a key under 8 bytes, ERR_TOO_LARGE,
 * ERR_OUT_OF_MEMORY), having inserted the entries before the bad one.
 */
export function skiplistInsertRun(list: usize, run: usize, len: u32): i32 {
  let pos: u32 = 0;
  let count: i32 = 0;
  while (pos < len) {
    if (len - pos < RUN_ENTRY_HEADER) return ERR_TRUNCATED;
    const kLen = load<u32>(run + pos);
    const vLen = load<u32>(run + pos + 4);
    if (kLen < TRAILER_SIZE) return ERR_BAD_KEY;
    const userKeyLen = kLen - TRAILER_SIZE;
    if (userKeyLen > MAX_PART || vLen > MAX_PART - userKeyLen) return ERR_TOO_LARGE;
    if (kLen + vLen > len - pos - RUN_ENTRY_HEADER) return ERR_TRUNCATED;
    const key = run + pos + RUN_ENTRY_HEADER;
    const node = newNode(list, key, userKeyLen, load<u64>(key + userKeyLen), key + kLen, vLen);
    if (node == 0) return ERR_OUT_OF_MEMORY;
    addPending(list, node);
    pos += RUN_ENTRY_HEADER + kLen + vLen;
    count++;
  }
  return count;
}

/** Drops every entry, frees the arenas' chunks and any grown pending slots in one call; the list stays usable. */
export function skiplistReset(list: usize): void {
  free(<usize>load<u32>(list + L_SETTLE));
  store<u32>(list + L_SETTLE, 0);
  arenaReset(<usize>load<u32>(list + L_ARENA));
  arenaReset(<usize>load<u32>(list + L_VALUES));
  memory.fill(head(list) - 4 * <usize>MAX_HEIGHT, 0, 4 * MAX_HEIGHT);
  const index = <usize>load<u32>(list + L_INDEX);
  if (index != 0) memory.fill(index, 0, (load<u32>(list + L_INDEX_MASK) + 1) * SLOT_BYTES);
  store<u32>(list + L_INDEX_KEYS, 0);
  store<u32>(list + L_RUN_BYTES, 0);
  store<u32>(list + L_COUNT, 0);
  store<u32>(list + L_PENDING_COUNT, 0);
  // Slots grown while nothing was linked go back to the usual number.
  const cap = pendingCapacity(arenaChunkSize(<usize>load<u32>(list + L_ARENA)));
  if (load<u32>(list + L_PENDING_CAP) > cap) {
    const pending = realloc(<usize>load<u32>(list + L_PENDING), cap << 2);
    if (pending != 0) {
      store<u32>(list + L_PENDING, <u32>pending);
      store<u32>(list + L_PENDING_CAP, cap);
    }
  }
  store<u32>(list + L_HEIGHT, 1);
  store<u32>(list + L_TAIL, 0);
}

export function skiplistDestroy(list: usize): void {
  free(<usize>load<u32>(list + L_SETTLE));
  arenaDestroy(<usize>load<u32>(list + L_ARENA));
  arenaDestroy(<usize>load<u32>(list + L_VALUES));
  free(<usize>load<u32>(list + L_INDEX));
  free(<usize>load<u32>(list + L_PENDING));
  free(list);
}
