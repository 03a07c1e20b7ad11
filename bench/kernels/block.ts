import { wasm, makeInternalKey, makeSeekKey } from 'varve';
import type { Case } from '../harness.js';
import { halfCompressibleBytes, numberedKeys, randomBytes } from '../data.js';

const BLOCK_SIZE = 4096;
const VALUE_SIZE = 100;
/** Targets per timed call; a multi-get seeks about this many keys in one block. */
const BATCH = 16;
const TARGET_COUNT = 1024;

/** The rival's comparator: user key bytes ascending, then the LE trailer descending. */
function compareInternalJs(a: Uint8Array, b: Uint8Array): number {
  const aUser = a.length - 8;
  const bUser = b.length - 8;
  const n = aUser < bUser ? aUser : bUser;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  if (aUser !== bUser) return aUser - bUser;
  for (let j = 7; j >= 0; j--) {
    const d = b[bUser + j]! - a[aUser + j]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** The rival: binary search over the block's full keys, decoded once into JS arrays. */
function seekJs(keys: Uint8Array[], target: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareInternalJs(keys[mid]!, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** compareInternalJs for a key stored at a[aOff, aOff + aLen). */
function compareInternalAt(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array): number {
  const aUser = aLen - 8;
  const bUser = b.length - 8;
  const n = aUser < bUser ? aUser : bUser;
  for (let i = 0; i < n; i++) {
    const d = a[aOff + i]! - b[i]!;
    if (d !== 0) return d;
  }
  if (aUser !== bUser) return aUser - bUser;
  for (let j = 7; j >= 0; j--) {
    const d = b[bUser + j]! - a[aOff + aUser + j]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The cursor's rival: the same seek over the encoded block, in JS (binary
 * search over restart keys, then a linear scan rebuilding keys in a reused
 * buffer). Trusts the block, as a JS engine behind a checksum might.
 */
class JsBlockSeeker {
  readonly #block: Uint8Array;
  readonly #dataEnd: number;
  readonly #restarts: Uint32Array;
  #key = new Uint8Array(256);
  #pos = 0;

  constructor(block: Uint8Array) {
    const view = new DataView(block.buffer, block.byteOffset, block.length);
    const count = view.getUint32(block.length - 4, true);
    this.#dataEnd = block.length - 4 - 4 * count;
    this.#restarts = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.#restarts[i] = view.getUint32(this.#dataEnd + 4 * i, true);
    this.#block = block;
  }

  #varint(): number {
    const b = this.#block;
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const x = b[this.#pos++]!;
      v |= (x & 0x7f) << shift;
      if (x < 0x80) return v >>> 0;
    }
  }

  /** Offset of the first entry's value >= target, or -1. */
  seek(target: Uint8Array): number {
    const b = this.#block;
    let lo = 0;
    let hi = this.#restarts.length - 1;
    while (lo < hi) {
      const mid = hi - ((hi - lo) >>> 1);
      this.#pos = this.#restarts[mid]!;
      this.#varint();
      const unshared = this.#varint();
      this.#varint();
      if (compareInternalAt(b, this.#pos, unshared, target) < 0) lo = mid;
      else hi = mid - 1;
    }
    this.#pos = this.#restarts[lo]!;
    let key = this.#key;
    while (this.#pos < this.#dataEnd) {
      const shared = this.#varint();
      const unshared = this.#varint();
      const valueLength = this.#varint();
      if (shared + unshared > key.length) {
        const grown = new Uint8Array(2 * (shared + unshared));
        grown.set(key);
        key = this.#key = grown;
      }
      // A byte loop: subarray() + set() allocates, which costs more for short suffixes.
      for (let i = 0; i < unshared; i++) key[shared + i] = b[this.#pos + i]!;
      const value = this.#pos + unshared;
      if (compareInternalAt(key, 0, shared + unshared, target) >= 0) return value;
      this.#pos = value + valueLength;
    }
    return -1;
  }
}

/** The decode rival: every entry's full key copied out, values as views of the block. */
function decodeJs(block: Uint8Array): { keys: Uint8Array[]; values: Uint8Array[] } {
  const count = new DataView(block.buffer, block.byteOffset, block.length).getUint32(block.length - 4, true);
  const dataEnd = block.length - 4 - 4 * count;
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const x = block[pos++]!;
      v |= (x & 0x7f) << shift;
      if (x < 0x80) return v >>> 0;
    }
  };
  while (pos < dataEnd) {
    const shared = varint();
    const unshared = varint();
    const valueLength = varint();
    const key = new Uint8Array(shared + unshared);
    for (let i = 0; i < shared; i++) key[i] = prev[i]!;
    for (let i = 0; i < unshared; i++) key[shared + i] = block[pos + i]!;
    pos += unshared;
    keys.push(key);
    values.push(block.subarray(pos, pos + valueLength));
    pos += valueLength;
    prev = key;
  }
  return { keys, values };
}

/** A ~4 KiB block of 16-byte user keys and 100-byte values, copied to its own buffer as a cache would hold it. */
function makeBlock(): { ptr: number; len: number; bytes: Uint8Array; userKeys: Uint8Array[] } {
  const userKeys = numberedKeys(200, 7).sort(Buffer.compare);
  const values = halfCompressibleBytes(VALUE_SIZE * userKeys.length, 9);
  const builder = new wasm.BlockBuilder(wasm.DEFAULT_RESTART_INTERVAL);
  const used: Uint8Array[] = [];
  for (const [i, user] of userKeys.entries()) {
    if (builder.estimatedSize + user.length + 8 + VALUE_SIZE + 3 + 4 > BLOCK_SIZE) break;
    builder.add(makeInternalKey(user, 1000 + i, 1), values.subarray(i * VALUE_SIZE, (i + 1) * VALUE_SIZE));
    used.push(user);
  }
  const block = builder.finishCopy();
  builder.destroy();
  const region = new wasm.Region(block.length);
  return { ptr: region.load(block), len: block.length, bytes: block, userKeys: used };
}

/** Seek keys: half for user keys in the block at random snapshots, half for random user keys. */
function makeTargets(userKeys: Uint8Array[]): Uint8Array[] {
  const rnd = randomBytes(TARGET_COUNT * 4, 11);
  const others = numberedKeys(TARGET_COUNT, 13);
  return Array.from({ length: TARGET_COUNT }, (_, i) => {
    const r = rnd[4 * i]! | (rnd[4 * i + 1]! << 8) | (rnd[4 * i + 2]! << 16);
    const user = i % 2 === 0 ? userKeys[r % userKeys.length]! : others[i]!;
    return makeSeekKey(user, 900 + (r % 300));
  });
}

/** Targets in linear memory with a descriptor table of [ptr, length] rows, as the engine holds them. */
function placeTargets(targets: Uint8Array[]): { rows: number; ptrs: number[]; out: number } {
  const bytes = targets.reduce((n, t) => n + t.length, 0);
  const region = new wasm.Region(bytes + targets.length * 12);
  const rows = region.ptr;
  const out = rows + targets.length * 8;
  let at = out + targets.length * 4;
  const ptrs: number[] = [];
  targets.forEach((t, i) => {
    wasm.heap.write(at, t);
    const view = wasm.heap.view();
    view.setUint32(rows + 8 * i, at, true);
    view.setUint32(rows + 8 * i + 4, t.length, true);
    ptrs.push(at);
    at += t.length;
  });
  return { rows, ptrs, out };
}

export function cases(): Case[] {
  const { ptr, len, bytes, userKeys } = makeBlock();
  const decoded = wasm.DecodedBlock.decode(ptr, len);
  const keys = Array.from({ length: decoded.count }, (_, i) => decoded.key(i));
  const targets = makeTargets(userKeys);
  const { rows, ptrs, out } = placeTargets(targets);
  const cursor = new wasm.BlockCursor();
  cursor.init(ptr, len);
  const jsSeeker = new JsBlockSeeker(bytes);

  // Verify once that every varve path agrees with the rival.
  decoded.seekBatch(rows, TARGET_COUNT, out);
  targets.forEach((t, i) => {
    const want = seekJs(keys, t);
    const batch = wasm.heap.view().getUint32(out + 4 * i, true);
    const single = decoded.seekAt(ptrs[i]!, t.length);
    const found = cursor.seekAt(ptrs[i]!, t.length);
    const cursorAgrees = found ? want < keys.length && Buffer.compare(cursor.key(), keys[want]!) === 0 : want === keys.length;
    const jsValue = jsSeeker.seek(t);
    const jsAgrees = found ? jsValue === cursor.valuePtr - ptr : jsValue === -1;
    if (batch !== want || single !== want || !cursorAgrees || !jsAgrees) throw new Error(`block seek disagrees with the JS rival on target ${i}`);
  });
  const jsDecoded = decodeJs(bytes);
  const decodedAgrees = jsDecoded.keys.every(
    (k, i) => Buffer.compare(k, decoded.key(i)) === 0 && Buffer.compare(jsDecoded.values[i]!, decoded.value(i)) === 0,
  );
  if (jsDecoded.keys.length !== decoded.count || !decodedAgrees) throw new Error('block decode disagrees with the JS rival');

  const blockInfo = `${decoded.count} entries, ${len} B`;
  let next = 0;
  const rivalBatch = (): number => {
    const base = next;
    next = (next + BATCH) % TARGET_COUNT;
    let sum = 0;
    for (let i = 0; i < BATCH; i++) sum += seekJs(keys, targets[base + i]!);
    return sum;
  };
  const rival = { name: 'JS binary search, decoded keys', fn: rivalBatch };
  let vnext = 0;
  return [
    {
      kernel: 'block',
      op: `multi-get: seek ${BATCH} targets in one call, decoded block (${blockInfo}), DecodedBlock.seekBatch`,
      unit: 'M/s',
      perCall: BATCH,
      varve: () => {
        const base = vnext;
        vnext = (vnext + BATCH) % TARGET_COUNT;
        decoded.seekBatch(rows + 8 * base, BATCH, out);
        return base;
      },
      rival,
      bar: 2,
    },
    {
      kernel: 'block',
      op: `single seeks (${BATCH} calls), decoded block, DecodedBlock.seekAt`,
      unit: 'M/s',
      perCall: BATCH,
      varve: () => {
        const base = vnext;
        vnext = (vnext + BATCH) % TARGET_COUNT;
        let sum = 0;
        for (let i = 0; i < BATCH; i++) sum += decoded.seekAt(ptrs[base + i]!, 24);
        return sum;
      },
      rival,
      bar: 2,
    },
    {
      kernel: 'block',
      op: `single seeks (${BATCH} calls), encoded block, BlockCursor.seekAt`,
      unit: 'M/s',
      perCall: BATCH,
      varve: () => {
        const base = vnext;
        vnext = (vnext + BATCH) % TARGET_COUNT;
        let n = 0;
        for (let i = 0; i < BATCH; i++) if (cursor.seekAt(ptrs[base + i]!, 24)) n++;
        return n;
      },
      rival: {
        name: 'JS seek over the encoded block',
        fn: () => {
          const base = next;
          next = (next + BATCH) % TARGET_COUNT;
          let sum = 0;
          for (let i = 0; i < BATCH; i++) sum += jsSeeker.seek(targets[base + i]!);
          return sum;
        },
      },
    },
    {
      kernel: 'block',
      op: `decode the block for the cache (allocate, size, decodeAll, free), DecodedBlock.decode`,
      unit: 'MB/s',
      perCall: len,
      varve: () => {
        const d = wasm.DecodedBlock.decode(ptr, len);
        d.release();
        return d.count;
      },
      rival: { name: 'JS decode to key arrays', fn: () => decodeJs(bytes).keys.length },
    },
  ];
}
