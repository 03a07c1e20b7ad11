// Copies of keys and values handed to users. V8 keeps typed arrays of up to
// 64 bytes in its heap, but gives each larger one its own off-heap backing
// store, which costs about a microsecond to allocate and collect. Copies of
// medium size therefore share slabs, as Node's Buffer pool does: a copy is a
// view into a slab, and a slab lives while any copy from it does.

const IN_HEAP_MAX = 64;
const POOLED_MAX = 4096;
const SLAB_SIZE = 64 * 1024;

let slab = new Uint8Array(0);
let used = 0;

/** A new array holding src[start, end), owned by the caller and never written again by varve. */
export function copyOut(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n <= IN_HEAP_MAX || n > POOLED_MAX) return src.slice(start, end);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const out = new Uint8Array(slab.buffer, used, n);
  out.set(src.subarray(start, end));
  used += n;
  return out;
}
