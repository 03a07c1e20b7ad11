import { wasm } from 'varve';
import type { Case } from '../harness.js';
import { numberedKeys } from '../data.js';

// The same filter format in pure JS (docs/FORMAT.md): hashes as (lo, hi)
// u32 pairs, block = (hi * numBlocks) >> 32, probes h >>> 23 stepping by
// h * 0x9e3779b9.

function jsProbeBatch(filter: Uint8Array, hashes: Uint32Array, out: Uint8Array): number {
  const numBlocks = (filter.length - 8) >>> 6;
  const probes = filter[filter.length - 4]!;
  let maybe = 0;
  for (let i = 0; i < out.length; i++) {
    // hi * numBlocks < 2^53, so the division is exact before flooring.
    const base = Math.floor((hashes[2 * i + 1]! * numBlocks) / 4294967296) << 6;
    let h = hashes[2 * i]!;
    let all = 1;
    for (let j = 0; j < probes; j++) {
      const bit = h >>> 23;
      all &= filter[base + (bit >>> 3)]! >>> (bit & 7);
      h = Math.imul(h, 0x9e3779b9);
    }
    out[i] = all & 1;
    maybe += all & 1;
  }
  return maybe;
}

function jsBuild(hashes: Uint32Array, count: number, numBlocks: number, probes: number, out: Uint8Array): Uint8Array {
  out.fill(0, 0, numBlocks * 64);
  for (let i = 0; i < count; i++) {
    const base = Math.floor((hashes[2 * i + 1]! * numBlocks) / 4294967296) << 6;
    let h = hashes[2 * i]!;
    for (let j = 0; j < probes; j++) {
      const bit = h >>> 23;
      out[base + (bit >>> 3)]! |= 1 << (bit & 7);
      h = Math.imul(h, 0x9e3779b9);
    }
  }
  const t = numBlocks * 64;
  out[t] = numBlocks & 0xff;
  out[t + 1] = (numBlocks >>> 8) & 0xff;
  out[t + 2] = (numBlocks >>> 16) & 0xff;
  out[t + 3] = numBlocks >>> 24;
  out[t + 4] = probes;
  out[t + 5] = 0;
  out[t + 6] = 0;
  out[t + 7] = 1;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function cases(): Case[] {
  const bitsPerKey = 10;
  const tableKeys = 100_000;
  const probeCount = 1000;
  // A table's filter: 100,000 keys (~122 KiB), built and probed in linear memory.
  const keys = numberedKeys(tableKeys + probeCount / 2, 3);
  const all = wasm.hashBatch(keys);
  const size = wasm.bloomSize(tableKeys, bitsPerKey);
  const region = new wasm.Region(tableKeys * 8 + size + probeCount * 8 + probeCount);
  const tableHashesPtr = region.ptr;
  const filterPtr = tableHashesPtr + tableKeys * 8;
  const probeHashesPtr = filterPtr + size;
  const outPtr = probeHashesPtr + probeCount * 8;
  wasm.writeHashes(tableHashesPtr, all.subarray(0, tableKeys));
  wasm.bloomBuildAt(tableHashesPtr, tableKeys, bitsPerKey, filterPtr, size);
  // Half the probed keys are in the table, half are not, interleaved.
  const probeHashes = new BigUint64Array(probeCount);
  for (let i = 0; i < probeCount; i++) probeHashes[i] = i % 2 === 0 ? all[i * 97]! : all[tableKeys + (i >> 1)]!;
  wasm.writeHashes(probeHashesPtr, probeHashes);

  const filter = wasm.heap.copyOut(filterPtr, size);
  const jsProbeHashes = new Uint32Array(wasm.heap.copyOut(probeHashesPtr, probeCount * 8).buffer);
  const jsTableHashes = new Uint32Array(wasm.heap.copyOut(tableHashesPtr, tableKeys * 8).buffer);
  const jsOut = new Uint8Array(probeCount);
  const jsFilter = new Uint8Array(size);
  const numBlocks = (size - 8) / 64;
  const probes = wasm.bloomCheck(filter);

  const varveProbe = (): number => wasm.bloomMayContainBatchAt(filterPtr, size, probeHashesPtr, probeCount, outPtr);
  const jsProbe = (): number => jsProbeBatch(filter, jsProbeHashes, jsOut);
  const varveBuild = (): number => wasm.bloomBuildAt(tableHashesPtr, tableKeys, bitsPerKey, filterPtr, size);
  const jsBuildAll = (): Uint8Array => jsBuild(jsTableHashes, tableKeys, numBlocks, probes, jsFilter);

  // Verify before timing: same answers, same filter bytes.
  if (varveProbe() !== jsProbe() || !sameBytes(wasm.heap.copyOut(outPtr, probeCount), jsOut)) {
    throw new Error('JS bloom probe disagrees with the kernel');
  }
  varveBuild();
  if (!sameBytes(wasm.heap.copyOut(filterPtr, size), jsBuildAll())) throw new Error('JS bloom build disagrees with the kernel');

  return [
    {
      kernel: 'bloom',
      op: 'probe 1,000 hashes, 100k-key filter',
      unit: 'M/s',
      perCall: probeCount,
      varve: varveProbe,
      rival: { name: 'JS probe', fn: jsProbe },
    },
    {
      kernel: 'bloom',
      op: 'build a 100k-key filter, 10 bits/key',
      unit: 'M/s',
      perCall: tableKeys,
      varve: varveBuild,
      rival: { name: 'JS build', fn: jsBuildAll },
    },
  ];
}
