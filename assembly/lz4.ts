// LZ4 block format (no frame), interoperable with other LZ4 implementations.
// A block is a run of sequences: a token byte (high nibble literal length,
// low nibble match length - 4; 15 means "more length bytes follow", each
// added, ending at the first byte != 255), the literals, a 2-byte
// little-endian match offset (1..65535) and the match length bytes. The last
// sequence stops after its literals.
// Preconditions for every export: the source and destination regions do not
// overlap. Bytes of the destination beyond the returned length, and all of it
// after an error, are unspecified (wild copies may write there).

/** Largest input the block format (and compressBound) accepts. */
export const LZ4_MAX_INPUT: u32 = 0x7e000000;

// Error codes (negative; the first problem met is reported). Compression
// returns only LZ4_ERR_BAD_ARGUMENT.
/** The input is empty or ends inside a length, a literal run or an offset. */
export const LZ4_ERR_TRUNCATED: i32 = -1;
/** The input ends right after a match; a block must end with literals. */
export const LZ4_ERR_NO_LAST_LITERALS: i32 = -2;
/** Decoding would write more than dstCap bytes. */
export const LZ4_ERR_OUTPUT_OVERFLOW: i32 = -3;
/** A match offset is 0. */
export const LZ4_ERR_OFFSET_ZERO: i32 = -4;
/** A match offset reaches before the start of the output. */
export const LZ4_ERR_OFFSET_OUT_OF_RANGE: i32 = -5;
/** A region lies outside linear memory (compress: or srcLen > LZ4_MAX_INPUT). */
export const LZ4_ERR_BAD_ARGUMENT: i32 = -6;

const MIN_MATCH: u32 = 4;
// Format end-of-block rules: the last 5 bytes are literals and the last match
// starts at least 12 bytes before the end, so inputs < 13 bytes are literals.
const LAST_LITERALS: usize = 5;
const MF_LIMIT: usize = 12;
const MAX_OFFSET: usize = 65535;
const RUN_MASK: u32 = 15;

// Greedy matcher: one candidate per 4-byte hash; after 2^SKIP_TRIGGER misses
// in a row the scan step grows by one, so incompressible input is skipped fast.
const HASH_LOG: u32 = 12;
const HASH_SLOTS: u32 = 1 << HASH_LOG;
const SKIP_TRIGGER: u32 = 6;

// Hash table: HASH_SLOTS u32 entries, each `base + position` of the last
// input position seen with that hash. Each call gets a fresh `base` above
// every value stored by earlier calls, so stale entries read as "empty"
// without clearing the table, and the output depends only on the input.
const HASH_TABLE: usize = memory.data(HASH_SLOTS << 2, 16);
let nextBase: u32 = 1;

/** `usize` sentinel for "the output does not fit" (no pointer reaches it). */
const NO_ROOM: usize = <usize>-1;

@inline
function inMemory(ptr: usize, len: u32): bool {
  return <u64>ptr + <u64>len <= (<u64>memory.size() << 16);
}

/** Worst-case compressed size of `n` bytes; 0 when n > LZ4_MAX_INPUT. */
export function lz4CompressBound(n: u32): u32 {
  return n > LZ4_MAX_INPUT ? 0 : n + n / 255 + 16;
}

@inline
function hashOf(seq: u32): u32 {
  return (seq * 2654435761) >>> (32 - HASH_LOG);
}

/** Reserves table values [base, base + srcLen) for this call and returns base. */
function beginTable(srcLen: u32): u32 {
  if (<u64>nextBase + <u64>srcLen + 1 > <u64>u32.MAX_VALUE) {
    memory.fill(HASH_TABLE, 0, HASH_SLOTS << 2);
    nextBase = 1;
  }
  const base = nextBase;
  nextBase = base + srcLen + 1;
  return base;
}

/** Extra bytes a length of `n` needs after its 4-bit token field. */
@inline
function extraLengthBytes(n: u32): u32 {
  return n >= RUN_MASK ? (n - RUN_MASK) / 255 + 1 : 0;
}

/** Writes the length bytes of `n` (>= 15) after the token; returns the new op. */
@inline
function writeExtraLength(op: usize, n: u32): usize {
  const rest = n - RUN_MASK;
  const full = rest / 255;
  if (full != 0) memory.fill(op, 255, full);
  store<u8>(op + full, <u8>(rest - full * 255));
  return op + full + 1;
}

/**
 * Copies `n` literal bytes. 16-byte wild copies run only where both the
 * source end and the output end leave room for the overshoot.
 */
@inline
function copyLiterals(op: usize, ip: usize, n: usize, iend: usize, oend: usize): void {
  if (n + 16 <= iend - ip && n + 16 <= oend - op) {
    let k: usize = 0;
    do {
      v128.store(op + k, v128.load(ip + k));
      k += 16;
    } while (k < n);
  } else {
    memory.copy(op, ip, n);
  }
}

/**
 * Emits one sequence: `litLen` literals at `anchor`, then a match of
 * `matchLen` bytes at `offset`. Returns the new op, or NO_ROOM if it does
 * not fit before oend (nothing past oend is written).
 */
function emitSequence(
  op: usize, oend: usize, anchor: usize, litLen: u32, offset: u32, matchLen: u32, iend: usize,
): usize {
  const ml = matchLen - MIN_MATCH;
  const size = 1 + extraLengthBytes(litLen) + litLen + 2 + extraLengthBytes(ml);
  if (<usize>size > oend - op) return NO_ROOM;
  const token = op++;
  let t: u32 = ml < RUN_MASK ? ml : RUN_MASK;
  if (litLen >= RUN_MASK) {
    t |= RUN_MASK << 4;
    op = writeExtraLength(op, litLen);
  } else {
    t |= litLen << 4;
  }
  store<u8>(token, <u8>t);
  copyLiterals(op, anchor, litLen, iend, oend);
  op += litLen;
  store<u16>(op, <u16>offset);
  op += 2;
  if (ml >= RUN_MASK) op = writeExtraLength(op, ml);
  return op;
}

/** Emits the final literals-only sequence; returns the new op or NO_ROOM. */
function emitLastLiterals(op: usize, oend: usize, anchor: usize, litLen: u32, iend: usize): usize {
  const size = 1 + extraLengthBytes(litLen) + litLen;
  if (<usize>size > oend - op) return NO_ROOM;
  if (litLen >= RUN_MASK) {
    store<u8>(op, <u8>(RUN_MASK << 4));
    op = writeExtraLength(op + 1, litLen);
  } else {
    store<u8>(op, <u8>(litLen << 4));
    op++;
  }
  copyLiterals(op, anchor, litLen, iend, oend);
  return op + litLen;
}

/** First position in [ip, limit) where ip and ref differ, or limit. ref < ip. */
@inline
function matchEnd(ip: usize, ref: usize, limit: usize): usize {
  while (ip + 8 <= limit) {
    const diff = load<u64>(ip) ^ load<u64>(ref);
    if (diff != 0) return ip + <usize>(ctz(diff) >> 3);
    ip += 8;
    ref += 8;
  }
  while (ip < limit && load<u8>(ip) == load<u8>(ref)) {
    ip++;
    ref++;
  }
  return ip;
}

/**
 * Compresses `srcLen` bytes at `src` into one LZ4 block at `dst`. Returns the
 * block's length (> 0), 0 when it would not fit in `dstCap` bytes (never the
 * case when dstCap >= lz4CompressBound(srcLen)), or LZ4_ERR_BAD_ARGUMENT.
 * Deterministic: the same input always gives the same block.
 */
export function lz4Compress(src: usize, srcLen: u32, dst: usize, dstCap: u32): i32 {
  if (srcLen > LZ4_MAX_INPUT || !inMemory(src, srcLen) || !inMemory(dst, dstCap)) return LZ4_ERR_BAD_ARGUMENT;
  const base = beginTable(srcLen);
  const iend = src + srcLen;
  const oend = dst + dstCap;
  let anchor = src;
  let op = dst;
  if (<usize>srcLen > MF_LIMIT) {
    const mfLimit = iend - MF_LIMIT; // a match starts at or before this
    const matchLimit = iend - LAST_LITERALS; // and ends at or before this
    store<u32>(HASH_TABLE + (<usize>hashOf(load<u32>(src)) << 2), base);
    let ip = src + 1;
    let searches: u32 = 1 << SKIP_TRIGGER;
    while (ip <= mfLimit) {
      const seq = load<u32>(ip);
      const slot = HASH_TABLE + (<usize>hashOf(seq) << 2);
      const entry = load<u32>(slot);
      const pos = <u32>(ip - src);
      store<u32>(slot, base + pos);
      // entry < base: empty or left by an earlier call.
      if (entry < base || <usize>(pos - (entry - base)) > MAX_OFFSET) {
        ip += <usize>(searches++ >> SKIP_TRIGGER);
        continue;
      }
      let ref = src + <usize>(entry - base);
      if (load<u32>(ref) != seq) {
        ip += <usize>(searches++ >> SKIP_TRIGGER);
        continue;
      }
      // Extend backwards over literals that also match.
      while (ip > anchor && ref > src && load<u8>(ip - 1) == load<u8>(ref - 1)) {
        ip--;
        ref--;
      }
      const end = matchEnd(ip + MIN_MATCH, ref + MIN_MATCH, matchLimit);
      op = emitSequence(op, oend, anchor, <u32>(ip - anchor), <u32>(ip - ref), <u32>(end - ip), iend);
      if (op == NO_ROOM) return 0;
      anchor = end;
      ip = end;
      searches = 1 << SKIP_TRIGGER;
      if (ip > mfLimit) break;
      // Index a position inside the match; the loop then probes ip itself.
      const back = ip - 2;
      store<u32>(HASH_TABLE + (<usize>hashOf(load<u32>(back)) << 2), base + <u32>(back - src));
    }
  }
  op = emitLastLiterals(op, oend, anchor, <u32>(iend - anchor), iend);
  if (op == NO_ROOM) return 0;
  return <i32>(op - dst);
}

/**
 * Copies a match of `len` bytes from `offset` back, for an output position
 * `op` with len <= oend - op and 1 <= offset <= op - start. Overlapping
 * matches (offset < len) repeat the last `offset` bytes, as the format says.
 */
@inline
function copyMatch(op: usize, offset: usize, len: usize, oend: usize): void {
  const ref = op - offset;
  const room = oend - op;
  if (offset >= 16 && len + 16 <= room) {
    // Each 16-byte read ends at or before the write it feeds.
    let k: usize = 0;
    do {
      v128.store(op + k, v128.load(ref + k));
      k += 16;
    } while (k < len);
  } else if (offset == 1) {
    memory.fill(op, load<u8>(ref), len);
  } else if (offset >= 8 && len + 8 <= room) {
    let k: usize = 0;
    do {
      store<u64>(op + k, load<u64>(ref + k));
      k += 8;
    } while (k < len);
  } else if (len + 16 <= room) {
    // offset 2..7: lay down one period-aligned stretch of at least 8 bytes,
    // then copy 8 bytes at a time from that stretch's distance back.
    let period = offset;
    while (period < 8) period += offset;
    for (let k: usize = 0; k < period; k++) store<u8>(op + k, load<u8>(ref + k));
    for (let k = period; k < len; k += 8) store<u64>(op + k, load<u64>(op + k - period));
  } else if (offset >= len) {
    memory.copy(op, ref, len);
  } else {
    for (let k: usize = 0; k < len; k++) store<u8>(op + k, load<u8>(ref + k));
  }
}

/**
 * Decodes one LZ4 block of `srcLen` bytes at `src` into at most `dstCap`
 * bytes at `dst`. Returns the decoded length (>= 0) or an LZ4_ERR_* code.
 * Reads stay inside [src, src + srcLen) and writes inside [dst, dst + dstCap)
 * whatever the input. Accepts blocks that ignore the end-of-block rules, as
 * other decoders do, but requires the block to end with a literal run.
 */
export function lz4Decompress(src: usize, srcLen: u32, dst: usize, dstCap: u32): i32 {
  if (!inMemory(src, srcLen) || !inMemory(dst, dstCap)) return LZ4_ERR_BAD_ARGUMENT;
  if (srcLen == 0) return LZ4_ERR_TRUNCATED;
  const iend = src + srcLen;
  const oend = dst + dstCap;
  let ip = src;
  let op = dst;
  // Invariant at the top of the loop: ip < iend.
  while (true) {
    const token = <u32>load<u8>(ip++);
    let litLen = <usize>(token >> 4);
    if (litLen == RUN_MASK) {
      let b: u32;
      do {
        if (ip >= iend) return LZ4_ERR_TRUNCATED;
        b = load<u8>(ip++);
        litLen += b;
        // Bounds the sum: no valid length exceeds dstCap.
        if (litLen > <usize>dstCap) return LZ4_ERR_OUTPUT_OVERFLOW;
      } while (b == 255);
    }
    const inLeft = iend - ip;
    const outLeft = oend - op;
    if (litLen > inLeft) return LZ4_ERR_TRUNCATED;
    if (litLen > outLeft) return LZ4_ERR_OUTPUT_OVERFLOW;
    if (litLen <= 16 && inLeft >= 16 && outLeft >= 16) {
      v128.store(op, v128.load(ip));
    } else if (litLen <= 32 && inLeft >= 32 && outLeft >= 32) {
      v128.store(op, v128.load(ip));
      v128.store(op, v128.load(ip, 16), 16);
    } else {
      memory.copy(op, ip, litLen);
    }
    op += litLen;
    ip += litLen;
    if (ip == iend) return <i32>(op - dst);

    if (iend - ip < 2) return LZ4_ERR_TRUNCATED;
    const offset = <usize>load<u16>(ip);
    ip += 2;
    if (offset == 0) return LZ4_ERR_OFFSET_ZERO;
    if (offset > op - dst) return LZ4_ERR_OFFSET_OUT_OF_RANGE;
    let matchLen = <usize>(token & RUN_MASK);
    if (matchLen == RUN_MASK) {
      let b: u32;
      do {
        if (ip >= iend) return LZ4_ERR_TRUNCATED;
        b = load<u8>(ip++);
        matchLen += b;
        if (matchLen > <usize>dstCap) return LZ4_ERR_OUTPUT_OVERFLOW;
      } while (b == 255);
    }
    matchLen += MIN_MATCH;
    if (matchLen > oend - op) return LZ4_ERR_OUTPUT_OVERFLOW;
    copyMatch(op, offset, matchLen, oend);
    op += matchLen;
    if (ip == iend) return LZ4_ERR_NO_LAST_LITERALS;
  }
}
