import { createRequire } from 'node:module';
import { wasm } from 'varve';
import type { Case } from '../harness.js';
import { halfCompressibleBytes } from '../data.js';

const require = createRequire(import.meta.url);
const lz4js = require('lz4js') as {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function casesFor(size: number, label: string): Case[] {
  const data = halfCompressibleBytes(size, 7);
  const { lz4, heap } = wasm;
  const cap = lz4.compressBound(size);

  // The engine holds blocks in linear memory: input, output and the
  // compressed copy each live in their own region there.
  const src = new wasm.Region(size);
  const packed = new wasm.Region(cap);
  const unpacked = new wasm.Region(size);
  heap.write(src.ptr, data);
  const packedLen = lz4.compressAt(src.ptr, size, packed.ptr, cap);

  // lz4js on ordinary arrays. Its 64 Ki-entry hash table must be zeroed per
  // independent block, as its own frame encoder does: a stale entry for the
  // current position passes its checks and yields offset 0.
  const hashTable = new Uint32Array(1 << 16);
  const theirPacked = new Uint8Array(lz4js.compressBound(size));
  const theirPackedLen = lz4js.compressBlock(data, theirPacked, 0, size, hashTable);
  const theirOut = new Uint8Array(size);
  const ourBlock = heap.copyOut(packed.ptr, packedLen);

  // Both sides must agree before anything is timed: each decodes the other's
  // block, and each decoder returns the original bytes.
  if (packedLen === 0 || theirPackedLen === 0) throw new Error('lz4: a compressor failed on bench data');
  if (lz4js.decompressBlock(ourBlock, theirOut, 0, packedLen, 0) !== size || !same(theirOut, data)) {
    throw new Error('lz4js does not decode varve blocks back to the input');
  }
  const theirBlock = theirPacked.slice(0, theirPackedLen);
  if (!same(lz4.decompress(theirBlock, size), data)) throw new Error('varve does not decode lz4js blocks');
  if (lz4.decompressAt(packed.ptr, packedLen, unpacked.ptr, size) !== size || !same(heap.copyOut(unpacked.ptr, size), data)) {
    throw new Error('varve does not decode its own blocks');
  }
  const ratio = ` (ratio ${(packedLen / size).toFixed(2)} vs ${(theirPackedLen / size).toFixed(2)})`;

  return [
    {
      kernel: 'lz4',
      op: `compress ${label} half-compressible${ratio}`,
      unit: 'MB/s',
      perCall: size,
      varve: () => lz4.compressAt(src.ptr, size, packed.ptr, cap),
      rival: {
        name: 'lz4js compressBlock',
        fn: () => {
          hashTable.fill(0);
          return lz4js.compressBlock(data, theirPacked, 0, size, hashTable);
        },
      },
      bar: 2,
    },
    {
      kernel: 'lz4',
      op: `decompress ${label} half-compressible`,
      unit: 'MB/s',
      perCall: size,
      varve: () => lz4.decompressAt(packed.ptr, packedLen, unpacked.ptr, size),
      rival: { name: 'lz4js decompressBlock', fn: () => lz4js.decompressBlock(theirBlock, theirOut, 0, theirPackedLen, 0) },
      bar: 3,
    },
  ];
}

export function cases(): Case[] {
  return [...casesFor(64 * 1024, '64 KiB'), ...casesFor(4 * 1024, '4 KiB')];
}
